"""SQS worker: SES's bounce and complaint events about the email we sent (configuration set event
destination -> topic -> this queue). A permanent bounce or a complaint suppresses the address
(``services/email_feedback.py``); agents see it in the inbox. Logs carry the event kind and counts,
never addresses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpdesk.handlers.entry import logger, metrics, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def handle_feedback(record: SQSRecord) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from helpdesk.services.email_feedback import parse_feedback
    from helpdesk.wiring import email as email_wiring

    result = email_wiring.email_feedback().handle(parse_feedback(record.body))
    metrics().add_metric(name=f"email_feedback_{result.outcome.value}", unit=MetricUnit.Count, value=1)
    logger().info(
        "email feedback handled",
        extra={"outcome": result.outcome.value, "kind": result.kind, "addresses": result.addresses},
    )


lambda_handler = sqs_worker(handle_feedback)
