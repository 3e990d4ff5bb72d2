"""SQS worker fed by the ``TicketCreated`` rule: starts the ticket's workflow, named after the ticket.

A redelivered event starts nothing new: an execution of that name already exists.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.api.app import workflows

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def handle_event(record: SQSRecord) -> None:
    event = json.loads(record.body)
    ticket_id = event["detail"]["ticket_id"]
    started = workflows().start_for(ticket_id)
    logger.info("ticket workflow", extra={"ticket_id": ticket_id, "started": started})
    if started:
        metrics.add_metric(name="WorkflowsStarted", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_event, processor=processor, context=context)
