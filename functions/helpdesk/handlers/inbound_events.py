"""SQS worker fed by the bus's inbound rule: events the business's systems publish (``OrderUpdated``)."""

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
    added = wiring.inbound_events().apply(event)
    logger().info("inbound event applied", extra={"detail_type": event.get("detail-type"), "tickets": added})
    metrics().add_metric(name="InboundEventsApplied", unit=MetricUnit.Count, value=1)


lambda_handler = sqs_worker(handle_event)
