"""SQS worker: emails SES received for the support address (receipt rule -> S3 -> topic -> this queue).

Each record's body is SES's ``Received`` notification (raw SNS delivery; an SNS envelope is unwrapped
too): where the message is stored and its verdicts. The email becomes a conversation of the email
team, a reply on its thread, or nothing (``services/email_ingestion.py``). Partial batch failures
are reported: a record that fails (an AWS error, an email another worker is handling right now) comes
back alone and, after the queue's max receives, lands in the DLQ. Redelivery is harmless.

Metrics: ``emails_<outcome>`` (``emails_conversation_started``, ``emails_ticket_reply``,
``emails_automated``, ``emails_dropped``...). Logs carry SES's message id, outcomes and reasons, never
addresses, subjects or text.
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
from pydantic import ValidationError

from helpdesk.domain.email_receipts import ReceivedEmail
from helpdesk.email_wiring import email_ingestion

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


class MalformedNotification(ValueError):
    """The record isn't SES's notification of a received email; says which fields, without values."""


def parse_notification(body: str) -> ReceivedEmail:
    try:
        data = json.loads(body)
        if isinstance(data, dict) and data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
            data = json.loads(data["Message"])
        return ReceivedEmail.model_validate(data)
    except ValueError as error:  # json.JSONDecodeError and pydantic's ValidationError are ValueErrors
        if isinstance(error, ValidationError):
            fields = "; ".join(".".join(map(str, e["loc"])) or "body" for e in error.errors())
            raise MalformedNotification(f"not a received-email notification: check {fields}") from None
        raise MalformedNotification("not a received-email notification: the body isn't JSON") from None


def handle_email(record: SQSRecord) -> None:
    try:
        received = parse_notification(record.body)
    except MalformedNotification as malformed:
        logger.warning("malformed received-email notification", extra={"reason": str(malformed)})
        raise
    result = email_ingestion().ingest(received)
    metrics.add_metric(name=f"emails_{result.outcome.value}", unit=MetricUnit.Count, value=1)
    logger.info(
        "received email handled",
        extra={
            "ses_message_id": received.mail.message_id,
            "outcome": result.outcome.value,
            "reason": result.reason,
            "email_thread": f"{result.thread.kind.value}:{result.thread.id}" if result.thread else None,
            "flags": len(result.flags),
        },
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_email, processor=processor, context=context)
