"""The daily rollup: computes the reports' common ranges (yesterday, the last 7 and 30 days) ahead of
the leads' morning, so the Reports page finds them in the table.

A tick (the schedule's, or this worker's own follow-up) starts or collects every section of those
ranges; while some are still running on Athena, it queues a follow-up a little later, at most
``MAX_FOLLOW_UPS`` times. Collecting an answer that is ready costs one GetItem, so ticks are cheap.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.adapters.lake_engine import fresh_for, lake_queries
from helpdesk.adapters.report_results import TableReportResults
from helpdesk.services.reports import ReportService
from helpdesk.surfaces import REPORT_ROLLUP

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
MAX_FOLLOW_UPS = 20
FOLLOW_UP_DELAY_SECONDS = 30


@cache
def reports() -> ReportService:
    return ReportService(lake_queries(), TableReportResults(), fresh_for=fresh_for())


@cache
def queue() -> Any:
    return boto3.client("sqs")


def handle_record(record: SQSRecord) -> None:
    body = json.loads(record.body or "{}")
    follow_up = int(body.get("follow_up", 0))
    service = reports()
    pending = service.warm(service.common_ranges())
    logger.info("reports rolled up", extra={"still_running": len(pending), "follow_up": follow_up})
    if pending and follow_up < MAX_FOLLOW_UPS:
        queue().send_message(
            QueueUrl=os.environ[REPORT_ROLLUP.queue_url_env],
            MessageBody=json.dumps({"follow_up": follow_up + 1}),
            DelaySeconds=FOLLOW_UP_DELAY_SECONDS,
        )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
