"""Lambda entry of the inbox API (agents): its routes (``helpdesk.api.inbox``) load on the first request."""

from __future__ import annotations

from helpdesk.handlers.entry import api_function

lambda_handler = api_function("helpdesk.api.inbox")
