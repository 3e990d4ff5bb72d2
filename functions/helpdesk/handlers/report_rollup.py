"""The daily rollup: computes the reports' common ranges (yesterday, the last 7 and 30 days) ahead of
the leads' morning, so the Reports page finds them in the table.

A tick (the schedule's, or this worker's own follow-up) starts or collects every section of those
ranges; while some are still running on Athena, it queues a follow-up a little later, at most
``MAX_FOLLOW_UPS`` times. Collecting an answer that is ready costs one GetItem, so ticks are cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpdesk.handlers.entry import logger, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

MAX_FOLLOW_UPS = 20
FOLLOW_UP_DELAY_SECONDS = 30


def handle_record(record: SQSRecord) -> None:
    import json

    from helpdesk import wiring

    body = json.loads(record.body or "{}")
    follow_up = int(body.get("follow_up", 0))
    service = wiring.reports()
    pending = service.warm(service.common_ranges())
    logger().info("reports rolled up", extra={"still_running": len(pending), "follow_up": follow_up})
    if pending and follow_up < MAX_FOLLOW_UPS:
        wiring.report_rollup_queue().send({"follow_up": follow_up + 1}, delay_seconds=FOLLOW_UP_DELAY_SECONDS)


lambda_handler = sqs_worker(handle_record)
