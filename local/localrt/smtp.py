"""The local runtime's SMTP server (aiosmtpd), playing SES receiving on ``SMTP_PORT`` (default 2525).

It accepts mail for the support domain only (as the receipt rule does; any other recipient gets the
550 SES answers), stores each message raw in the local inbound bucket and announces it on the
inbound-email topic (``ses_receiving.ReceivingRule``), so the same queue and the same function
handle it as in AWS. Verdicts are PASS: there is no spam or virus scanner here.

    import smtplib
    with smtplib.SMTP("127.0.0.1", 2525) as smtp:
        smtp.sendmail("frank@example.net", ["support@demo-shop.example"], raw_bytes)

It also plays SES's *mailbox simulator* for what we send: an email to
``bounce@simulator.amazonses.com`` or ``complaint@simulator.amazonses.com`` (``+label`` allowed)
comes back as a bounce or complaint event on the email-events topic, naming that recipient, as SES's
configuration set would publish it.
"""

from __future__ import annotations

import asyncio
import email
import json
import logging
import uuid
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any

import boto3
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from localrt.ses_receiving import ReceivingRule
from localrt.workers import Duty

log = logging.getLogger("localrt.smtp")
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
"""SES receiving's limit (with an S3 action)."""
SIMULATOR_DOMAIN = "simulator.amazonses.com"


class ReceivingHandler:
    """aiosmtpd handler: RCPT checks the domain, DATA stores and announces the message."""

    def __init__(self, rule: ReceivingRule) -> None:
        self.rule = rule
        self.received = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self.rule.accepts(address):
            return "550 5.1.1 Mailbox does not exist"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw or "").encode()
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                None,
                lambda: self.rule.receive(
                    data, recipients=list(envelope.rcpt_tos), source=str(envelope.mail_from or "")
                ),
            )
        except Exception:  # the client is told to try again, as SES does when it can't store a message
            log.exception("storing a received email failed")
            return "451 4.3.0 Temporary failure, try again later"
        self.received += 1
        return "250 OK: queued"


class LocalSmtp:
    def __init__(self, rule: ReceivingRule, port: int) -> None:
        self.handler = ReceivingHandler(rule)
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=port, data_size_limit=MAX_MESSAGE_BYTES, decode_data=False
        )

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


class MailboxSimulator:
    """Plays SES's mailbox simulator: bounce and complaint events for mail sent to its addresses.

    A supervised worker (``localrt.workers``): restarted, it goes on from the last message it saw."""

    def __init__(self, region: str, events_topic_arn: str, every_seconds: float = 0.5) -> None:
        self.name = "ses-mailbox-simulator"
        self.region = region
        self.topic_arn = events_topic_arn
        self.every_seconds = every_seconds
        self._seen = 0

    def run(self, duty: Duty) -> None:
        from localrt.outbox import ses_backend

        sns = boto3.client("sns")
        duty.ready()
        while duty.rest(self.every_seconds):
            sent = list(ses_backend(self.region).sent_messages)
            for message in sent[self._seen :]:
                for event in simulated_events(message):
                    try:
                        sns.publish(TopicArn=self.topic_arn, Message=json.dumps(event))
                    except Exception:
                        log.warning("publishing a simulated %s failed", event["eventType"], exc_info=True)
            self._seen = len(sent)


def _recipients(message: Any) -> list[str]:
    destinations = message.destinations
    if isinstance(destinations, dict):
        values = [*destinations.get("ToAddresses", []), *destinations.get("CcAddresses", [])]
    else:
        values = list(destinations or [])
    if hasattr(message, "raw_data"):
        parsed = email.message_from_string(message.raw_data)
        values += [str(v) for v in parsed.get_all("To", [])]
    return list(dict.fromkeys(address.lower() for _, address in getaddresses(values) if address))


def simulated_events(message: Any) -> list[dict[str, Any]]:
    """SES's events for one sent message whose recipients are simulator addresses."""
    events = []
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    mail = {"timestamp": now, "messageId": message.id, "source": message.source, "destination": _recipients(message)}
    for address in mail["destination"]:
        local, _, domain = address.partition("@")
        kind = local.split("+", 1)[0]
        if domain != SIMULATOR_DOMAIN or kind not in ("bounce", "complaint"):
            continue
        feedback_id = uuid.uuid4().hex
        if kind == "bounce":
            events.append(
                {
                    "eventType": "Bounce",
                    "mail": mail,
                    "bounce": {
                        "bounceType": "Permanent",
                        "bounceSubType": "General",
                        "bouncedRecipients": [{"emailAddress": address, "status": "5.1.1", "action": "failed"}],
                        "timestamp": now,
                        "feedbackId": feedback_id,
                    },
                }
            )
        else:
            events.append(
                {
                    "eventType": "Complaint",
                    "mail": mail,
                    "complaint": {
                        "complainedRecipients": [{"emailAddress": address}],
                        "complaintFeedbackType": "abuse",
                        "timestamp": now,
                        "feedbackId": feedback_id,
                    },
                }
            )
    return events
