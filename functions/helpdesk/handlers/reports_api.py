"""Lambda entry of the reports API (leads and admins): its routes (``helpdesk.api.reports``) load on the
first request. Its own function: the only one whose role may query the lake (Athena)."""

from __future__ import annotations

from helpdesk.handlers.entry import api_function

lambda_handler = api_function("helpdesk.api.reports")
