"""SQS worker fed by the ``TicketCreated`` rule: starts the ticket's workflow, named after the ticket.

A redelivered event starts nothing new: an execution of that name already exists.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from helpdesk.handlers.entry import logger, metrics, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def handle_event(record: SQSRecord) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from helpdesk import wiring

    event = json.loads(record.body)
    ticket_id = event["detail"]["ticket_id"]
    started = wiring.workflows().start_for(ticket_id)
    logger().info("ticket workflow", extra={"ticket_id": ticket_id, "started": started})
    if started:
        metrics().add_metric(name="WorkflowsStarted", unit=MetricUnit.Count, value=1)


lambda_handler = sqs_worker(handle_event)
