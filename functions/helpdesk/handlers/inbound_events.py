"""SQS worker fed by the bus's inbound rule: events the business's systems publish (``OrderUpdated``)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.api.app import repository
from helpdesk.services.inbound import InboundEventService

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def handle_event(record: SQSRecord) -> None:
    event = json.loads(record.body)
    added = InboundEventService(repository()).apply(event)
    logger.info("inbound event applied", extra={"detail_type": event.get("detail-type"), "tickets": added})
    metrics.add_metric(name="InboundEventsApplied", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_event, processor=processor, context=context)
