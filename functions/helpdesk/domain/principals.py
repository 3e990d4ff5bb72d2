"""Who is calling: a verified customer or an agent, as the API's authorizers describe them."""

from __future__ import annotations

from dataclasses import dataclass, field

from helpdesk.domain.models import Author, AuthorType
from helpdesk.domain.roles import Role

VISITOR_PREFIX = "visitor:"
"""Anonymous visitors' ids: only the messenger's own visitor tokens carry them."""
INTERNAL_PREFIX = "internal:"
"""What belongs to the business, not to a customer (e.g. the owner of an internal note's attachments)."""
RESERVED_PREFIXES: tuple[str, ...] = (INTERNAL_PREFIX,)
"""Ids the system gives to what isn't a customer: no customer token may claim one."""


def reserved_prefix(customer_id: str) -> str | None:
    """The reserved prefix ``customer_id`` starts with (in any case), if any."""
    folded = customer_id.strip().casefold()
    return next((prefix for prefix in RESERVED_PREFIXES if folded.startswith(prefix)), None)


@dataclass(frozen=True)
class CustomerPrincipal:
    user_id: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    verified_attributes: dict[str, str] = field(default_factory=dict)
    """Facts the business signed into the token."""
    is_visitor: bool = False
    """An anonymous visitor: may chat, sees only their own conversations."""
    token_issued_at: int | None = None

    @property
    def author(self) -> Author:
        return Author(type=AuthorType.CUSTOMER, id=self.user_id, name=self.name)


@dataclass(frozen=True)
class AgentPrincipal:
    """An agent, as their token describes them; what they may do is ``helpdesk.domain.policy``'s call."""

    id: str
    email: str | None = None
    name: str | None = None
    teams: frozenset[str] = field(default_factory=frozenset)
    role: Role = Role.AGENT

    @property
    def author(self) -> Author:
        return Author(type=AuthorType.AGENT, id=self.id, name=self.name or self.email)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
