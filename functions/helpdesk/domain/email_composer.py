"""An outgoing email as MIME: text and HTML parts, and the headers that make it a thread in the
customer's mail client and keep machines from answering it.

- ``Message-ID`` (ours; SES replaces it with its own, so the sender records both), ``In-Reply-To``
  and ``References`` (the thread's ids), so the customer's client shows one conversation;
- ``Reply-To``: the thread's signed reply address, so the answer finds its thread;
- ``Auto-Submitted: auto-generated`` on status updates (RFC 3834), so well-behaved auto-responders
  stay quiet; never on an agent's own words;
- ``List-Unsubscribe`` on status updates: the link that stops them;
- ``X-Helpdesk-Loop``: should one of our emails come back to us, it is recognised and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from ulid import ULID

from helpdesk.domain.email_automation import LOOP_HEADER
from helpdesk.domain.email_templates import RenderedEmail
from helpdesk.domain.models import utc_now


def new_message_id(domain: str) -> str:
    """A fresh, globally unique Message-ID at our domain (without angle brackets)."""
    return f"{str(ULID()).lower()}@{domain.lower()}"


@dataclass(frozen=True)
class Envelope:
    sender_name: str
    sender_address: str
    to: str
    reply_to: str
    message_id: str
    """Without angle brackets."""
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    """Angle-bracketed ids, oldest first."""
    automated: bool = False
    unsubscribe_url: str | None = None
    loop_marker: str = "1"


def _address(name: str, address: str) -> Address:
    local, _, domain = address.partition("@")
    return Address(display_name=name, username=local, domain=domain)


def compose_email(email: RenderedEmail, envelope: Envelope) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(envelope.sender_name, envelope.sender_address)
    message["To"] = envelope.to
    message["Reply-To"] = envelope.reply_to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = f"<{envelope.message_id}>"
    if envelope.in_reply_to:
        message["In-Reply-To"] = envelope.in_reply_to
    if envelope.references:
        message["References"] = " ".join(envelope.references)
    if envelope.automated:
        message["Auto-Submitted"] = "auto-generated"
    if envelope.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>"
    message["Content-Language"] = email.locale
    message[LOOP_HEADER] = envelope.loop_marker
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message.as_bytes()
