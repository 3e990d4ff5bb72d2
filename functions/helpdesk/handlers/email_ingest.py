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

from typing import TYPE_CHECKING

from helpdesk.handlers.entry import logger, metrics, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from helpdesk.domain.email_receipts import ReceivedEmail


class MalformedNotification(ValueError):
    """The record isn't SES's notification of a received email; says which fields, without values."""


def parse_notification(body: str) -> ReceivedEmail:
    import json

    from pydantic import ValidationError

    from helpdesk.domain.email_receipts import ReceivedEmail

    try:
        data = json.loads(body)
        if isinstance(data, dict) and data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
            data = json.loads(data["Message"])
        return ReceivedEmail.model_validate(data)
    except ValidationError as error:
        fields = "; ".join(".".join(map(str, e["loc"])) or "body" for e in error.errors())
        raise MalformedNotification(f"not a received-email notification: check {fields}") from None
    except ValueError:
        raise MalformedNotification("not a received-email notification: the body isn't JSON") from None


def handle_email(record: SQSRecord) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from helpdesk.wiring import email as email_wiring

    try:
        received = parse_notification(record.body)
    except MalformedNotification as malformed:
        logger().warning("malformed received-email notification", extra={"reason": str(malformed)})
        raise
    result = email_wiring.email_ingestion().ingest(received)
    metrics().add_metric(name=f"emails_{result.outcome.value}", unit=MetricUnit.Count, value=1)
    logger().info(
        "received email handled",
        extra={
            "ses_message_id": received.mail.message_id,
            "outcome": result.outcome.value,
            "reason": result.reason,
            "email_thread": f"{result.thread.kind.value}:{result.thread.id}" if result.thread else None,
            "flags": len(result.flags),
        },
    )


lambda_handler = sqs_worker(handle_email)
