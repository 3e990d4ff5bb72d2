"""SQS worker: delivers status updates (SNS topic -> queue, raw delivery) by messenger, email and SMS.

Each record's body is one ``StatusUpdate``. Partial batch failures are reported, so a record that
fails (malformed, an AWS error, a channel another worker is delivering right now) comes back alone
and, after the queue's max receives, lands in the DLQ; the others aren't redone. Redelivery is
harmless: each channel is sent once per update (see ``services/notifications.py``).

Environment: ``TABLE_NAME``, ``WORKSPACE_DIR``, ``MESSENGER_URL`` (the messenger page the email and
SMS link to), ``NOTIFY_FROM_EMAIL`` (SES sender), the email channel's (``SUPPORT_ADDRESS``,
``EMAIL_SECRET_ARN``: see ``helpdesk/wiring/email.py``), optional ``NOTIFY_CONFIGURATION_SET`` and
``DELIVERY_LEASE_SECONDS`` (longer than the function's timeout, at most the queue's visibility
timeout; default 90), ``POWERTOOLS_METRICS_NAMESPACE``.

Metrics: one count per channel and outcome, named ``<channel>_<outcome>`` (``email_sent``,
``sms_failed``, ``messenger_already_sent``, ``email_retry``...). Logs carry ids and outcomes, never
addresses, phone numbers or message text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpdesk.handlers.entry import logger, metrics, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from helpdesk.domain.notifications import StatusUpdate
    from helpdesk.services.notifications import Channel, NotificationService, Outcome


class MalformedStatusUpdate(ValueError):
    """The record's body isn't a status update; says which fields are wrong, without their values."""


def count_outcome(channel: Channel, outcome: Outcome) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics().add_metric(name=f"{channel.value}_{outcome.value}", unit=MetricUnit.Count, value=1)


def notifications() -> NotificationService:
    from helpdesk import wiring

    return wiring.notifications(on_outcome=count_outcome)


def parse_update(record: SQSRecord) -> StatusUpdate:
    from pydantic import ValidationError

    from helpdesk.domain.notifications import StatusUpdate

    try:
        return StatusUpdate.model_validate_json(record.body)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors())
        raise MalformedStatusUpdate(f"SQS message {record.message_id} is not a status update: {problems}") from None


def handle_update(record: SQSRecord) -> None:
    from helpdesk.services.notifications import DeliveryInProgress

    try:
        update = parse_update(record)
    except MalformedStatusUpdate as malformed:
        logger().warning("malformed status update", extra={"reason": str(malformed)})
        raise
    try:
        report = notifications().deliver(update)
    except DeliveryInProgress as busy:
        logger().info(
            "status update is being delivered elsewhere; it will be checked again",
            extra={"update_id": update.id, "channel": busy.channel.value},
        )
        raise
    logger().info(
        "status update delivered",
        extra={
            "update_id": update.id,
            "kind": update.kind.value,
            "outcomes": {channel.value: outcome.value for channel, outcome in report.outcomes.items()},
        },
    )


lambda_handler = sqs_worker(handle_update)
