"""What the bot engine needs from outside (custom actions, the knowledge base) and what a turn returns.

The engine depends on these Protocols only; the adapters implement them and the wiring passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from helpdesk.domain.action_ownership import ActionCaller
from helpdesk.domain.models import AttachmentRef, BotState, MessageKind, MessageOption


class ActionOutcome(Protocol):
    """What a custom action call came to (``adapters.custom_actions.ActionResult``)."""

    @property
    def action_id(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def outputs(self) -> dict[str, Any]: ...
    @property
    def attempts(self) -> int: ...
    @property
    def duration_ms(self) -> int | float: ...
    @property
    def error(self) -> str | None: ...


class ActionRunner(Protocol):
    """Calls the workspace's custom actions (``adapters.custom_actions.CustomActionRunner``)."""

    def requires_signed_in_customer(self, action_id: str) -> bool:
        """Whether the action touches a customer's records, so an anonymous visitor can't run it."""
        ...

    def run(
        self, action_id: str, inputs: dict[str, Any], *, caller: ActionCaller, idempotency_key: str | None
    ) -> ActionOutcome:
        """Calls the action for ``caller``, the verified customer of this request (never someone named in text).

        ``outcome`` is ``sign_in_required`` (not called: ``caller`` is a visitor) or ``not_on_account``
        (the record isn't the caller's; no outputs) when the action's ownership rule says so.
        """
        ...


class KnowledgeArticle(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...


class KnowledgeHit(Protocol):
    @property
    def article(self) -> KnowledgeArticle: ...


class Knowledge(Protocol):
    def best_answer(self, query: str, *, locale: str | None = None) -> KnowledgeHit | None: ...


@dataclass(frozen=True)
class Reply:
    body: str
    options: list[MessageOption] = field(default_factory=list)
    kind: MessageKind = MessageKind.TEXT
    internal: bool = False


@dataclass(frozen=True)
class Handoff:
    team_id: str
    agent_id: str | None
    """An online agent of the team, picked by live routing (None: the team's queue)."""


@dataclass(frozen=True)
class TicketRequest:
    ticket_type_id: str
    attributes: dict[str, Any]
    title: str | None
    team_id: str | None
    message: str
    """What to tell the customer once the ticket exists: ``{ticket.number}`` and ``{team}`` are filled."""
    fallback_team: str


@dataclass
class BotTurn:
    state: BotState
    replies: list[Reply] = field(default_factory=list)
    handoff: Handoff | None = None
    ticket: TicketRequest | None = None

    @property
    def finished(self) -> bool:
        return self.state.outcome is not None


@dataclass(frozen=True)
class CustomerInput:
    text: str
    option_id: str | None = None
    attachments: tuple[AttachmentRef, ...] = ()
