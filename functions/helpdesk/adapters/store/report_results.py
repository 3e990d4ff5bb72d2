"""The reports' answers kept in the table, one item per section, range, filters and query.

=====================  ==============================  =========
item                   PK                              SK
=====================  ==============================  =========
report answer          ``REPORT#<section key>``        ``RESULT``
last erasure           ``REPORT#~ERASURE``             ``RESULT``
=====================  ==============================  =========

Access patterns: read one answer with the last erasure's time (BatchGetItem), write one (PutItem).
Answers expire through the table's TTL; the service also checks ``expires_at`` itself, since TTL
deletes late. An answer whose query started before a customer's erasure (``created_at``) may list
their tickets, so it reads as missing and is computed again over the rewritten lake.
"""

from __future__ import annotations

import json
from datetime import datetime
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


class ReportsErasedItem(TableItem, discriminator="reports_erased"):
    erased_at = UTCDateTimeAttribute()


ERASURE_PK = "REPORT#~ERASURE"


def _pk(key: str) -> str:
    return f"REPORT#{key}"


class ReportResultTable:
    """Implements the report service's ``ReportResults`` port: one GetItem or PutItem a call."""

    def get(self, key: str) -> StoredReport | None:
        found = list(TableItem.batch_get([(_pk(key), SK), (ERASURE_PK, SK)], consistent_read=True))
        answers = [i for i in found if isinstance(i, ReportResultItem)]
        erased = [i.erased_at for i in found if isinstance(i, ReportsErasedItem)]
        if not answers or (erased and answers[0].created_at <= erased[0]):
            return None
        item = answers[0]
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

    def forget_answers(self, at: datetime) -> None:
        ReportsErasedItem(pk=ERASURE_PK, sk=SK, erased_at=at).save()

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
