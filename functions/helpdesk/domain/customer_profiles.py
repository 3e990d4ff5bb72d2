"""What the inbox shows about one customer: who they are, how sure we are of it, and their history.

The profile is read from the customer's own partition of the ``by_customer`` index (the profile
item, their tickets, their conversations); which of those an agent sees is the policy's call, item
by item (``helpdesk.domain.policy``), and the customer's teams are the teams of that history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from helpdesk.domain.models import Conversation, Customer, Rating, Ticket

MAX_HISTORY = 20
"""Conversations and tickets listed on a profile (each, newest first): one Query each."""


@dataclass(frozen=True)
class CustomerHistory:
    """What the table holds about a customer, as one read gives it (up to ``MAX_HISTORY`` of each)."""

    customer: Customer | None
    tickets: list[Ticket] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)

    @property
    def teams(self) -> frozenset[str]:
        """The teams the customer has work in: who may read their profile (``Resource.customer``)."""
        return frozenset({t.team_id for t in self.tickets} | {c.team_id for c in self.conversations})

    @property
    def exists(self) -> bool:
        return self.customer is not None or bool(self.tickets) or bool(self.conversations)


class IdentityStatus(StrEnum):
    """How sure the help desk is of who the customer is (the newest word on it wins)."""

    VISITOR = "visitor"
    """An anonymous visitor of the messenger: nobody vouched for them."""
    EMAIL_ONLY = "email_only"
    """Known only by the address they wrote from: an email's sender can be forged."""
    SIGNED_IN = "signed_in"
    """Signed in by the business's app (a token it signed)."""
    VERIFIED = "verified"
    """Signed in, and confirmed again when an agent asked (``identity_verified_at``)."""


@dataclass(frozen=True)
class Identity:
    status: IdentityStatus
    verified_at: datetime | None = None
    """When the customer last confirmed who they are on an agent's request."""
    verified_attributes: dict[str, str] = field(default_factory=dict)
    """Facts the business signed into the customer's token (the newest conversation's)."""

    @property
    def signed_in(self) -> bool:
        return self.status in (IdentityStatus.SIGNED_IN, IdentityStatus.VERIFIED)


def identity_of(
    customer_id: str, conversations: list[Conversation], *, email_prefix: str, visitor_prefix: str
) -> Identity:
    """The customer's identity status now: from their id (a visitor's or an email sender's) and their newest
    conversation (newest first in ``conversations``), which carries the latest verification."""
    newest = conversations[0] if conversations else None
    attributes = dict(newest.verified_attributes) if newest else {}
    if customer_id.startswith(visitor_prefix) or (newest is not None and newest.customer_is_visitor):
        return Identity(IdentityStatus.VISITOR)
    if customer_id.startswith(email_prefix):
        return Identity(IdentityStatus.EMAIL_ONLY)
    verified_at = max((c.identity_verified_at for c in conversations if c.identity_verified_at), default=None)
    if verified_at is not None:
        return Identity(IdentityStatus.VERIFIED, verified_at, attributes)
    return Identity(IdentityStatus.SIGNED_IN, None, attributes)


@dataclass(frozen=True)
class GivenRating:
    """A satisfaction rating (CSAT) the customer gave a ticket."""

    ticket_id: str
    ticket_number: int
    rating: Rating


@dataclass(frozen=True)
class ProfileAction:
    """A custom action marked ``profile: true``: run on demand by an agent, as the customer."""

    id: str
    description: str
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class CustomerProfile:
    """One customer as an agent may see them: only the conversations and tickets the agent may read."""

    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    identity: Identity
    conversations: list[Conversation]
    tickets: list[Ticket]
    ratings: list[GivenRating]
    actions: list[ProfileAction]

    @property
    def average_rating(self) -> float | None:
        if not self.ratings:
            return None
        return round(sum(r.rating.score for r in self.ratings) / len(self.ratings), 2)
