"""How status updates leave the building: SES email, SNS SMS, and the ledger that sends each once.

``SesSnsChannels`` sends; its boto3 clients are created on first use. AWS errors propagate, so the
SQS message comes back and, after the queue's retries, lands in its DLQ; only errors that no retry
can fix (a malformed address or phone number, a rejected message) become ``Undeliverable``.

``DynamoDeliveryLedger`` records, per (status update, channel), whether it was sent. Why a ledger of our
own rather than powertools idempotency: its items are in the single table under readable keys
(``DELIVERY#<update id>`` / ``<channel>``), so "was the SMS for this update sent, or why not?" is one
GetItem; it keeps a ``failed`` outcome with its reason; it stores the in-messenger message's id with
the first claim; and its lease doesn't depend on a Lambda context.

The protocol, per channel:

1. **claim**: a conditional UpdateItem sets ``sending`` with a fresh ``claim_id`` and a lease; it
   succeeds only if the item is new, ``pending`` (handed back), or ``sending`` with an expired lease.
2. **send**, then **mark** ``sent`` (or ``failed`` with the error code, never retried).
3. If the send raises anything else, the claim is handed back (``pending``) and the error propagates.

A duplicate finds ``sent``/``failed`` and skips; a concurrent duplicate finds a live ``sending``
and is told the delivery is in progress (its message is retried later and then skips). The one
window for a duplicate email or SMS: a worker that dies after the provider accepted the message but
before ``sent`` was recorded; once its lease expires the retry sends again. Keep the lease longer
than the function's timeout (so a live worker never loses its claim) and no longer than the queue's
visibility timeout (so the retry finds it expired). The messenger channel has no such window: its
message id is fixed by the first claim, so writing it twice is refused by the table.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, UpdateError

from helpdesk.adapters.table import DeliveryItem
from helpdesk.domain.notifications import Claim, DeliveryStatus, Undeliverable

STATUS_UPDATE_TEMPLATE_NAME = "helpdesk-status-update"

STATUS_UPDATE_TEMPLATE: dict[str, str] = {
    "TemplateName": STATUS_UPDATE_TEMPLATE_NAME,
    "SubjectPart": "{{subject}}",
    "TextPart": "{{heading}}\n\n{{body}}\n\nTicket #{{ticket_number}}: {{link}}\n",
    # SES renders with Handlebars: {{ }} escapes HTML, so customer-supplied words can't inject markup.
    "HtmlPart": (
        "<!DOCTYPE html>\n"
        '<html><body style="font-family: Arial, sans-serif; font-size: 16px; line-height: 1.5;">\n'
        '<h1 style="font-size: 20px;">{{heading}}</h1>\n'
        '<p style="white-space: pre-line;">{{body}}</p>\n'
        '<p><a href="{{link}}">Open ticket #{{ticket_number}}</a></p>\n'
        "</body></html>\n"
    ),
}
"""The SES template status-update emails use: ``ses.create_template(Template=STATUS_UPDATE_TEMPLATE)``.

Variables: ``subject``, ``heading``, ``body``, ``ticket_number``, ``link``.
"""

TEMPLATE_VARIABLES = ("subject", "heading", "body", "ticket_number", "link")

# Errors no retry can fix: the address or number itself is unusable, or the provider refuses the message.
_UNDELIVERABLE_EMAIL = {"MessageRejected", "InvalidParameterValue"}
_UNDELIVERABLE_SMS = {"InvalidParameter", "InvalidParameterValue"}


class NotifierConfigError(RuntimeError):
    """The notifier's environment is missing something it needs."""


class SesSnsChannels:
    """Email through SES (templated) and SMS through SNS."""

    def __init__(
        self,
        *,
        from_email: str | None = None,
        configuration_set: str | None = None,
        template_name: str | None = None,
        ses_client: Any = None,
        sns_client: Any = None,
    ) -> None:
        self._from_email = from_email
        self._configuration_set = configuration_set
        self._template_name = template_name or STATUS_UPDATE_TEMPLATE_NAME
        self._ses_client = ses_client
        self._sns_client = sns_client

    @cached_property
    def ses(self) -> Any:
        return self._ses_client or boto3.client("ses")

    @cached_property
    def sns(self) -> Any:
        return self._sns_client or boto3.client("sns")

    def send_email(self, to: str, template_data: Mapping[str, str]) -> str:
        """Send the status-update template to ``to``; returns SES's message id."""
        missing = [name for name in TEMPLATE_VARIABLES if name not in template_data]
        if missing:
            raise ValueError(f"template data is missing {', '.join(missing)}")
        source = self._from_email
        if not source:
            raise NotifierConfigError("NOTIFY_FROM_EMAIL is not set: the address status-update emails come from")
        request: dict[str, Any] = {
            "Source": source,
            "Destination": {"ToAddresses": [to]},
            "Template": self._template_name,
            "TemplateData": json.dumps(dict(template_data), ensure_ascii=False),
        }
        configuration_set = self._configuration_set
        if configuration_set:
            request["ConfigurationSetName"] = configuration_set
        try:
            response = self.ses.send_templated_email(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _UNDELIVERABLE_EMAIL:
                raise Undeliverable(code) from error
            raise
        return str(response["MessageId"])

    def send_sms(self, phone: str, text: str) -> str:
        """Send a transactional SMS to ``phone`` (E.164); returns SNS's message id."""
        try:
            response = self.sns.publish(
                PhoneNumber=phone,
                Message=text,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                },
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _UNDELIVERABLE_SMS:
                raise Undeliverable(code) from error
            raise
        return str(response["MessageId"])


# --- the delivery ledger ----------------------------------------------------------------------------


def _delivery_key(update_id: str, channel: str) -> tuple[str, str]:
    return f"DELIVERY#{update_id}", channel


def _condition_failed(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class DynamoDeliveryLedger:
    """Per (status update, channel): claimed, sent, failed or handed back. See the module docstring."""

    def __init__(self, *, keep_for: timedelta = timedelta(days=14)) -> None:
        # 14 days: SQS's longest retention, so no redelivery can outlive its record.
        self._keep_for = keep_for

    def claim(
        self, update_id: str, channel: str, *, now: datetime, lease: timedelta, message_id: str | None = None
    ) -> Claim:
        """Take the right to send, unless it was sent, failed for good, or is being sent right now.

        ``message_id`` is stored by the first claim only; every later claim gets that first one back.
        """
        pk, sk = _delivery_key(update_id, channel)
        claim_id = uuid.uuid4().hex
        actions: list[Any] = [
            DeliveryItem.kind.set(DeliveryItem),
            DeliveryItem.update_id.set(update_id),
            DeliveryItem.channel.set(channel),
            DeliveryItem.status.set(DeliveryStatus.SENDING.value),
            DeliveryItem.claim_id.set(claim_id),
            DeliveryItem.lease_until.set(now + lease),
            DeliveryItem.attempts.add(1),
            DeliveryItem.created_at.set(DeliveryItem.created_at | now),
            DeliveryItem.updated_at.set(now),
            DeliveryItem.expires_at.set(now + self._keep_for),
        ]
        if message_id is not None:
            actions.append(DeliveryItem.message_id.set(DeliveryItem.message_id | message_id))
        claimable = (
            DeliveryItem.pk.does_not_exist()
            | (DeliveryItem.status == DeliveryStatus.PENDING.value)
            | ((DeliveryItem.status == DeliveryStatus.SENDING.value) & (DeliveryItem.lease_until < now))
        )
        item = DeliveryItem(pk=pk, sk=sk)
        try:
            item.update(actions=actions, condition=claimable)
        except UpdateError as error:
            if not _condition_failed(error):
                raise
            return self._found(pk, sk)
        return Claim(
            won=True,
            status=DeliveryStatus.SENDING,
            claim_id=claim_id,
            message_id=item.message_id,
            attempts=int(item.attempts or 0),
        )

    @staticmethod
    def _found(pk: str, sk: str) -> Claim:
        try:
            item = DeliveryItem.get(pk, sk, consistent_read=True)
        except DoesNotExist:  # pragma: no cover - a record can only vanish by TTL, days later
            return Claim(won=False, status=DeliveryStatus.PENDING)
        return Claim(
            won=False, status=DeliveryStatus(item.status), message_id=item.message_id, attempts=int(item.attempts)
        )

    def mark_sent(self, update_id: str, channel: str, *, now: datetime) -> None:
        """The message went out: nobody may send it again (whoever holds the claim by now)."""
        DeliveryItem(*_delivery_key(update_id, channel)).update(
            actions=[
                DeliveryItem.status.set(DeliveryStatus.SENT.value),
                DeliveryItem.lease_until.remove(),
                DeliveryItem.updated_at.set(now),
            ]
        )

    def mark_failed(self, update_id: str, channel: str, *, reason: str, now: datetime) -> None:
        DeliveryItem(*_delivery_key(update_id, channel)).update(
            actions=[
                DeliveryItem.status.set(DeliveryStatus.FAILED.value),
                DeliveryItem.failure.set(reason),
                DeliveryItem.lease_until.remove(),
                DeliveryItem.updated_at.set(now),
            ]
        )

    def release(self, update_id: str, channel: str, claim: Claim, *, now: datetime) -> None:
        """Hand the claim back after a failed attempt, unless someone else has taken it over since."""
        try:
            DeliveryItem(*_delivery_key(update_id, channel)).update(
                actions=[
                    DeliveryItem.status.set(DeliveryStatus.PENDING.value),
                    DeliveryItem.lease_until.remove(),
                    DeliveryItem.updated_at.set(now),
                ],
                condition=(DeliveryItem.claim_id == claim.claim_id)
                & (DeliveryItem.status == DeliveryStatus.SENDING.value),
            )
        except UpdateError as error:
            if not _condition_failed(error):
                raise
