"""SQS worker: delivers status updates (SNS topic -> queue, raw delivery) by messenger, email and SMS.

Each record's body is one ``StatusUpdate``. Partial batch failures are reported, so a record that
fails (malformed, an AWS error, a channel another worker is delivering right now) comes back alone
and, after the queue's max receives, lands in the DLQ; the others aren't redone. Redelivery is
harmless: each channel is sent once per update (see ``services/notifications.py``).

Environment: ``TABLE_NAME``, ``WORKSPACE_DIR``, ``MESSENGER_URL`` (the messenger page the email and
SMS link to), ``NOTIFY_FROM_EMAIL`` (SES sender), the email channel's (``SUPPORT_ADDRESS``,
``EMAIL_SECRET_ARN``: see ``helpdesk/email_wiring.py``), optional ``NOTIFY_CONFIGURATION_SET`` and
``DELIVERY_LEASE_SECONDS`` (longer than the function's timeout, at most the queue's visibility
timeout; default 90), ``POWERTOOLS_METRICS_NAMESPACE``.

Metrics: one count per channel and outcome, named ``<channel>_<outcome>`` (``email_sent``,
``sms_failed``, ``messenger_already_sent``, ``email_retry``...). Logs carry ids and outcomes, never
addresses, phone numbers or message text.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from helpdesk.adapters.channels import NotifierConfigError, SesSnsChannels
from helpdesk.api.app import repository, workspace
from helpdesk.domain.notifications import StatusUpdate
from helpdesk.email_wiring import email_configured, email_delivery
from helpdesk.services.notifications import DEFAULT_LEASE, Channel, DeliveryInProgress, NotificationService, Outcome

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


class MalformedStatusUpdate(ValueError):
    """The record's body isn't a status update; says which fields are wrong, without their values."""


def count_outcome(channel: Channel, outcome: Outcome) -> None:
    metrics.add_metric(name=f"{channel.value}_{outcome.value}", unit=MetricUnit.Count, value=1)


@cache
def channels() -> SesSnsChannels:
    return SesSnsChannels()


def _lease() -> timedelta:
    raw = os.environ.get("DELIVERY_LEASE_SECONDS")
    if not raw:
        return DEFAULT_LEASE
    try:
        seconds = int(raw)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise NotifierConfigError(f"DELIVERY_LEASE_SECONDS must be a positive number of seconds, got {raw!r}")
    return timedelta(seconds=seconds)


def notifications() -> NotificationService:
    messenger_url = os.environ.get("MESSENGER_URL")
    if not messenger_url:
        raise NotifierConfigError("MESSENGER_URL is not set: the messenger page status updates link to")
    return NotificationService(
        repository(),
        channels(),
        workspace(),
        messenger_url=messenger_url,
        lease=_lease(),
        on_outcome=count_outcome,
        emails=email_delivery() if email_configured() else None,
    )


def parse_update(record: SQSRecord) -> StatusUpdate:
    try:
        return StatusUpdate.model_validate_json(record.body)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors())
        raise MalformedStatusUpdate(f"SQS message {record.message_id} is not a status update: {problems}") from None


def handle_update(record: SQSRecord) -> None:
    try:
        update = parse_update(record)
    except MalformedStatusUpdate as malformed:
        logger.warning("malformed status update", extra={"reason": str(malformed)})
        raise
    try:
        report = notifications().deliver(update)
    except DeliveryInProgress as busy:
        logger.info(
            "status update is being delivered elsewhere; it will be checked again",
            extra={"update_id": update.id, "channel": busy.channel.value},
        )
        raise
    logger.info(
        "status update delivered",
        extra={
            "update_id": update.id,
            "kind": update.kind.value,
            "outcomes": {channel.value: outcome.value for channel, outcome in report.outcomes.items()},
        },
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_update, processor=processor, context=context)
