"""What the email channel remembers about a thread, an address and a suppression."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from helpdesk.auth.reply_addresses import Thread


@dataclass(frozen=True)
class EmailThread:
    """The email side of a conversation or ticket: what replies need to thread in the customer's client."""

    thread: Thread
    customer_id: str
    subject: str | None
    customer_address: str | None
    """Where replies go: the address the customer wrote from (or, for a ticket, their email on file)."""
    references: tuple[str, ...]
    """The thread's Message-IDs, oldest first, angle-bracketed: the next email's ``References``."""

    @property
    def last_message_id(self) -> str | None:
        return self.references[-1] if self.references else None


@dataclass(frozen=True)
class ThreadRef:
    thread: Thread
    customer_id: str


@dataclass(frozen=True)
class KnownAddress:
    customer_id: str
    verified: bool
    """The business vouched for it (a signed messenger token carried it), not just an email from it."""


@dataclass(frozen=True)
class Suppression:
    """We don't email this address any more: it bounced for good, or its owner complained."""

    address: str
    reason: str
    """``bounce`` or ``complaint``."""
    detail: str | None
    since: datetime


class ReceiptStatus(StrEnum):
    NEW = "new"
    RETRY = "retry"
    """An earlier attempt died part-way: do it again with the same ids."""
    BUSY = "busy"
    """Another attempt is handling it right now."""
    DONE = "done"


@dataclass(frozen=True)
class ReceiptStart:
    status: ReceiptStatus
    started_at: datetime
    outcome: str | None = None


class LinkUse(StrEnum):
    """What became of an attempt to use a link from an email."""

    USED = "used"
    """This was the link's one use (and a rating link's rating is recorded)."""
    ALREADY_USED = "already_used"
    NOT_THEIRS = "not_theirs"
    """The ticket or conversation doesn't exist, or isn't the link's customer's any more."""
    NOT_RATEABLE = "not_rateable"
    """A rating link: the ticket was rated meanwhile, or reopened."""
