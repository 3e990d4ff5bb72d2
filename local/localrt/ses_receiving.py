"""What SES receiving does with an email, played on the embedded AWS: store the raw message in the
inbound bucket (``inbound/<message id>``, as the receipt rule's S3 action does) and publish the same
``Received`` notification to the inbound topic, whose subscriber is the email-ingest queue.

The local SMTP server (``localrt.smtp``) and the tests hand emails to ``ReceivingRule.receive``.
Verdicts are ``PASS`` unless a test asks for another (moto has no spam or virus scanner).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from helpdesk.surfaces import INBOUND_EMAIL_PREFIX


def receipt_notification(
    *,
    message_id: str,
    bucket: str,
    key: str,
    recipients: list[str],
    source: str,
    topic_arn: str = "",
    verdicts: dict[str, str] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The JSON SES publishes for an S3 action with a topic (see "Contents of notifications for
    Amazon SES email receiving"); ``verdicts`` e.g. ``{"spam": "FAIL", "dmarc": "FAIL"}``."""
    moment = (at or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    given = verdicts or {}
    receipt: dict[str, Any] = {
        "timestamp": moment,
        "processingTimeMillis": 120,
        "recipients": recipients,
        **{f"{name}Verdict": {"status": given.get(name, "PASS")} for name in ("spam", "virus", "spf", "dkim", "dmarc")},
        "action": {"type": "S3", "topicArn": topic_arn, "bucketName": bucket, "objectKey": key},
    }
    if given.get("dmarc") == "FAIL":
        receipt["dmarcPolicy"] = "reject"
    return {
        "notificationType": "Received",
        "receipt": receipt,
        "mail": {
            "timestamp": moment,
            "source": source,
            "messageId": message_id,
            "destination": recipients,
            "headersTruncated": False,
        },
    }


@dataclass
class ReceivingRule:
    """The receipt rule: recipients at ``domain`` are accepted, stored in ``bucket``, announced on ``topic_arn``."""

    bucket: str
    topic_arn: str
    domain: str

    def accepts(self, recipient: str) -> bool:
        return recipient.rpartition("@")[2].lower() == self.domain.lower()

    def receive(self, raw: bytes, *, recipients: list[str], source: str, verdicts: dict[str, str] | None = None) -> str:
        """Store and announce one email; returns SES's message id for it."""
        message_id = uuid.uuid4().hex
        key = f"{INBOUND_EMAIL_PREFIX}{message_id}"
        boto3.client("s3").put_object(Bucket=self.bucket, Key=key, Body=raw)
        notification = receipt_notification(
            message_id=message_id,
            bucket=self.bucket,
            key=key,
            recipients=[r for r in recipients if self.accepts(r)],
            source=source,
            topic_arn=self.topic_arn,
            verdicts=verdicts,
        )
        boto3.client("sns").publish(TopicArn=self.topic_arn, Message=json.dumps(notification))
        return message_id
