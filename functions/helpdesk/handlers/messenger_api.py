"""Lambda entry of the messenger API (customers): its routes (``helpdesk.api.messenger``) load on the first request."""

from __future__ import annotations

from helpdesk.handlers.entry import api_function

lambda_handler = api_function("helpdesk.api.messenger")
