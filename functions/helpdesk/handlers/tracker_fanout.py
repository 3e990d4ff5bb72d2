"""SQS worker: pushes a tracker's change to its linked tickets, one page per message.

Partial batch failures are reported, so one failing page is retried (and ends in the DLQ after
the queue's max receives) without redoing the others; each page is idempotent anyway.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.api.app import trackers
from helpdesk.domain.models import FanOutJob

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def handle_job(record: SQSRecord) -> None:
    job = FanOutJob.model_validate_json(record.body)
    covered = trackers().run(job)
    logger.info(
        "tracker fan-out page applied", extra={"tracker_id": job.tracker_id, "job_id": job.id, "tickets": covered}
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_job, processor=processor, context=context)
