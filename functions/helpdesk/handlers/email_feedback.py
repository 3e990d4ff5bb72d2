"""SQS worker: SES's bounce and complaint events about the email we sent (configuration set event
destination -> topic -> this queue). A permanent bounce or a complaint suppresses the address
(``services/email_feedback.py``); agents see it in the inbox. Logs carry the event kind and counts,
never addresses.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.email_wiring import email_feedback
from helpdesk.services.email_feedback import parse_feedback

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def handle_feedback(record: SQSRecord) -> None:
    result = email_feedback().handle(parse_feedback(record.body))
    metrics.add_metric(name=f"email_feedback_{result.outcome.value}", unit=MetricUnit.Count, value=1)
    logger.info(
        "email feedback handled",
        extra={"outcome": result.outcome.value, "kind": result.kind, "addresses": result.addresses},
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_feedback, processor=processor, context=context)
