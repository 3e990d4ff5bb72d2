"""The reports' answers kept in the table, one item per section, range, filters and query.

=====================  ==============================  =========
item                   PK                              SK
=====================  ==============================  =========
report answer          ``REPORT#<section key>``        ``RESULT``
=====================  ==============================  =========

Access patterns: read one answer (GetItem), write one (PutItem). Answers expire through the table's
TTL; the service also checks ``expires_at`` itself, since TTL deletes late.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import BooleanAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from helpdesk.adapters.table import TTL_ATTRIBUTE, TableItem
from helpdesk.domain.metrics import ReportStatus, StoredReport

SK = "RESULT"


class ReportResultItem(TableItem, discriminator="report_result"):
    key = UnicodeAttribute()
    status = UnicodeAttribute()
    execution_id = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    """Columns and rows as compact JSON (a string: DynamoDB's number type would round large figures)."""
    truncated = BooleanAttribute(default=False)
    reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


def _pk(key: str) -> str:
    return f"REPORT#{key}"


class ReportResultTable:
    """Implements the report service's ``ReportResults`` port: one GetItem or PutItem a call."""

    def get(self, key: str) -> StoredReport | None:
        try:
            item = ReportResultItem.get(_pk(key), SK, consistent_read=True)
        except ReportResultItem.DoesNotExist:
            return None
        body: dict[str, Any] = json.loads(item.body) if item.body else {}
        return StoredReport(
            key=item.key,
            status=ReportStatus(item.status),
            execution_id=item.execution_id,
            columns=body.get("columns", []),
            rows=body.get("rows", []),
            truncated=bool(item.truncated),
            reason=item.reason,
            created_at=item.created_at,
            expires_at=item.expires_at,
        )

    def put(self, report: StoredReport) -> None:
        body = json.dumps({"columns": report.columns, "rows": report.rows}, separators=(",", ":"), default=str)
        ReportResultItem(
            pk=_pk(report.key),
            sk=SK,
            key=report.key,
            status=report.status.value,
            execution_id=report.execution_id,
            body=body if report.columns else None,
            truncated=report.truncated,
            reason=report.reason,
            created_at=report.created_at,
            expires_at=report.expires_at,
        ).save()
