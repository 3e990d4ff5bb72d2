"""Emails as customers' clients write them, and the email channel wired to moto for service tests."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from typing import Any

import boto3
from helpdesk.adapters.email_config_files import EmailSetup, load_email_setup
from helpdesk.adapters.email_records import DynamoEmailRecords
from helpdesk.adapters.mail_transport import S3MailFiles
from helpdesk.adapters.store import TableStores
from helpdesk.auth.email_keys import EmailKeys
from helpdesk.domain.email_channel import EmailChannel
from helpdesk.domain.email_receipts import ReceivedEmail
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.workspace import Workspace
from helpdesk.services.conversations import ConversationService
from helpdesk.services.email_delivery import EmailAddresses, EmailDelivery
from helpdesk.services.email_ingestion import EmailIngestion, Ingested, SupportAddresses
from helpdesk.services.tickets import TicketService
from localrt.ses_receiving import receipt_notification

SUPPORT = "support@demo-shop.example"
SENDER = "updates@demo-shop.example"
MESSENGER_URL = "https://shop.example/messenger/"
INBOUND_BUCKET = "helpdesk-test-inbound-email"
EMAIL_AGENT = AgentPrincipal(id="agent-eve", name="Eve", teams=frozenset({"email"}))
"""An agent of the email team, where new email conversations land."""
EMAIL_KEYS = EmailKeys(current="test-email-key-which-is-long-enough-0123456789")


def customer_email(
    *,
    sender: str = "Frank Example <frank@example.net>",
    to: str = SUPPORT,
    subject: str = "My lamp arrived dented",
    body: str = "Hello,\n\nthe lamp shade of order ORD-1001 is dented.\n\nFrank",
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain email as a mail client sends it; ``attachments``: (filename, content type, bytes)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.net")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def reply_to(sent: bytes, *, sender: str, body: str, via_reply_address: bool = True, quote: bool = True) -> bytes:
    """The customer answering an email we sent, the way Gmail does: quoting it under an attribution line."""
    original = email.message_from_bytes(sent, policy=email.policy.default)
    assert isinstance(original, EmailMessage)
    text_part = original.get_body(("plain",))
    quoted = ""
    if quote and text_part is not None:
        lines = text_part.get_content().splitlines()
        quoted = f"\n\nOn Mon, 9 Mar 2026 at 10:00, {original['From']} wrote:\n" + "\n".join(f"> {x}" for x in lines)
    references = [*str(original.get("References", "")).split(), str(original["Message-ID"])]
    return customer_email(
        sender=sender,
        to=str(original["Reply-To"]) if via_reply_address else SUPPORT,
        subject=f"Re: {original['Subject']}",
        body=body + quoted,
        in_reply_to=str(original["Message-ID"]),
        references=references,
    )


@dataclass
class CapturingSender:
    """Stands in for SES: keeps what was sent; SES's own Message-ID replaces ours, as SES does."""

    sent: list[bytes] = field(default_factory=list)

    def send_raw(self, raw: bytes, *, source: str, to: str, message_id: str) -> str:
        self.sent.append(raw)
        return f"0100019{len(self.sent):09d}-test@email.amazonses.com"

    def last(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.sent[-1], policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def last_as_delivered(self) -> bytes:
        """What the customer's mailbox gets: SES's Message-ID instead of ours."""
        parsed = self.last()
        del parsed["Message-ID"]
        parsed["Message-ID"] = f"<0100019{len(self.sent):09d}-test@email.amazonses.com>"
        return parsed.as_bytes()


class AllStores:
    """The table's stores as one object, for tests that read a bit of everything (``repository.get_ticket``)."""

    def __init__(self, stores: TableStores) -> None:
        self.stores = stores

    def __getattr__(self, name: str) -> Any:
        for store in (
            self.stores.conversations,
            self.stores.tickets,
            self.stores.customers,
            self.stores.attachments,
            self.stores.agents,
        ):
            if hasattr(store, name):
                return getattr(store, name)
        raise AttributeError(name)


@dataclass
class EmailWorld:
    repository: AllStores
    records: DynamoEmailRecords
    ingestion: EmailIngestion
    delivery: EmailDelivery
    sender: CapturingSender
    tickets: TicketService
    stores: TableStores
    workspace: Workspace
    received: list[Ingested] = field(default_factory=list)

    def conversations(self) -> ConversationService:
        return ConversationService(self.stores.conversations, self.workspace)

    def receive(
        self, raw: bytes, *, recipients: list[str] | None = None, verdicts: dict[str, str] | None = None
    ) -> Ingested:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        message_id = f"ses-{len(self.received) + 1:04d}-{abs(hash(raw)) % 10**8}"
        key = f"inbound/{message_id}"
        boto3.client("s3").put_object(Bucket=INBOUND_BUCKET, Key=key, Body=raw)
        notification = receipt_notification(
            message_id=message_id,
            bucket=INBOUND_BUCKET,
            key=key,
            recipients=recipients or [str(message["To"])],
            source=str(message["From"]),
            verdicts=verdicts,
        )
        outcome = self.ingestion.ingest(ReceivedEmail.model_validate(notification))
        self.received.append(outcome)
        return outcome

    def redeliver(self, notification: dict[str, Any]) -> Ingested:
        return self.ingestion.ingest(ReceivedEmail.model_validate(notification))


@cache
def demo_email_setup() -> EmailSetup:
    """The demo workspace's email channel and templates, loaded (and checked) once per test session."""
    from helpdesk.adapters.workspace_files import load_workspace

    from tests.conftest import DEMO_WORKSPACE

    return load_email_setup(DEMO_WORKSPACE, load_workspace(DEMO_WORKSPACE))


def email_world(workspace: Workspace, attachments_bucket: str, channel: EmailChannel | None = None) -> EmailWorld:
    boto3.client("s3").create_bucket(Bucket=INBOUND_BUCKET)
    setup = demo_email_setup()
    assert setup.channel is not None
    stores = TableStores()
    repository = AllStores(stores)
    records = DynamoEmailRecords()
    tickets = TicketService(stores.tickets, stores.conversations, stores.attachments, workspace)
    files = S3MailFiles(inbound_bucket=INBOUND_BUCKET, attachments_bucket=attachments_bucket)
    ingestion = EmailIngestion(
        records=records,
        files=files,
        conversations=stores.conversations,
        tickets=stores.tickets,
        replies=tickets,
        customers=stores.customers,
        keys=EMAIL_KEYS,
        channel=channel or setup.channel,
        addresses=SupportAddresses(support=SUPPORT, own=frozenset({SENDER})),
    )
    sender = CapturingSender()
    delivery = EmailDelivery(
        records,
        sender,
        setup.templates,
        EMAIL_KEYS,
        EmailAddresses(support=SUPPORT, sender=SENDER, messenger_url=MESSENGER_URL),
        workspace.name,
        tickets=stores.tickets,
        conversations=stores.conversations,
    )
    return EmailWorld(repository, records, ingestion, delivery, sender, tickets, stores, workspace)
