"""Macros: the workspace's and each agent's own saved replies, found from the composer and applied in one step.

Applying a macro to a ticket is one read (the ticket, with the agent's macro when it is theirs) and one
write (the reply and every change, with their timeline parts and tag links): a refused change (a state
the ticket's type doesn't have, a team the agent may not hand off to, a placeholder with no value)
stores nothing. ``preview`` renders and decides the same way and stores nothing either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from helpdesk.domain.errors import ConditionFailed, Conflict, InvalidInput, NotFound
from helpdesk.domain.macros import (
    MAX_PERSONAL_MACROS,
    Macro,
    MacroDefinition,
    conversation_status,
    matches,
    placeholder_values,
    reference_problems,
    render,
)
from helpdesk.domain.models import (
    Channel,
    Conversation,
    ConversationStatus,
    Message,
    PartType,
    Ticket,
    TicketPart,
    new_id,
    utc_now,
)
from helpdesk.domain.policy import Action, Resource, authorize
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.tags import clean_tags, retagged
from helpdesk.domain.ticket_opening import known_team, known_ticket_type
from helpdesk.domain.ticket_rules import TicketChanges, apply_changes, reply_clocks
from helpdesk.domain.workspace import Workspace
from helpdesk.services.capsules import record_hand_off
from helpdesk.services.retries import retry_on_conflict
from helpdesk.services.ticket_replies import TrackerAnnouncer

APPLY_ATTEMPTS = 5


class MacroRecords(Protocol):
    def save_macro(self, macro: Macro) -> None: ...

    def get_macro(self, macro_id: str) -> Macro | None: ...

    def own_macros(self, owner_id: str, *, limit: int = 100) -> list[Macro]: ...

    def delete_macro(self, macro_id: str, owner_id: str) -> bool: ...

    def read_ticket_and_macro(self, ticket_id: str, macro_id: str | None) -> tuple[Ticket | None, Macro | None]: ...

    def read_conversation_and_macro(
        self, conversation_id: str, macro_id: str | None
    ) -> tuple[Conversation | None, Macro | None]: ...

    def rewrite_conversation(self, before: Conversation, after: Conversation, messages: Sequence[Message]) -> None: ...


class TicketWrites(Protocol):
    def update_ticket(
        self,
        ticket: Ticket,
        *,
        based_on_version: int,
        parts: Sequence[TicketPart],
        attachment_owner: str | None = None,
        tags_before: Sequence[str] | None = None,
    ) -> Ticket: ...


@dataclass(frozen=True)
class AppliedToTicket:
    ticket: Ticket
    reply: TicketPart | None
    stored: bool


@dataclass(frozen=True)
class AppliedToConversation:
    conversation: Conversation
    message: Message | None
    stored: bool


class MacroService:
    def __init__(
        self,
        records: MacroRecords,
        tickets: TicketWrites,
        workspace: Workspace,
        workspace_macros: Sequence[Macro],
        trackers: TrackerAnnouncer | None = None,
    ) -> None:
        self._records = records
        self._tickets = tickets
        self._workspace = workspace
        self._shared = {m.id: m for m in workspace_macros}
        self._trackers = trackers

    # --- the agent's list, their own macros --------------------------------------------------------

    def available(self, agent: AgentPrincipal, query: str = "") -> list[Macro]:
        """The workspace's macros and the agent's own (one Query), those matching ``query`` first by name."""
        macros = [*self._shared.values(), *self._records.own_macros(agent.id, limit=MAX_PERSONAL_MACROS)]
        return sorted((m for m in macros if matches(m, query)), key=lambda m: (m.owner_id is None, m.name.lower()))

    def create(self, agent: AgentPrincipal, definition: MacroDefinition) -> Macro:
        """An agent's own macro: what it names must exist in the workspace (one Query, one write)."""
        problems = reference_problems(
            definition, teams={t.id for t in self._workspace.teams}, tags=self._workspace.tags
        )
        if problems:
            raise InvalidInput("the macro names what the workspace doesn't have", problems)
        macro = Macro(id=new_id(), owner_id=agent.id, **definition.model_dump())
        authorize(agent, Action.CREATE, Resource.macro(macro.id, agent.id))
        if len(self._records.own_macros(agent.id, limit=MAX_PERSONAL_MACROS)) >= MAX_PERSONAL_MACROS:
            raise Conflict(f"you have {MAX_PERSONAL_MACROS} macros already: delete one first")
        self._records.save_macro(macro)
        return macro

    def delete(self, agent: AgentPrincipal, macro_id: str) -> None:
        """Only its owner deletes an agent's macro; the workspace's are changed in configuration."""
        macro = self._shared.get(macro_id) or self._records.get_macro(macro_id)
        if macro is None:
            raise NotFound(f"macro {macro_id} not found")
        authorize(agent, Action.WORK, Resource.macro(macro.id, macro.owner_id))
        if macro.owner_id is None or not self._records.delete_macro(macro_id, macro.owner_id):
            raise NotFound(f"macro {macro_id} not found")

    def _readable(self, agent: AgentPrincipal, macro_id: str, own: Macro | None) -> Macro:
        macro = self._shared.get(macro_id) or own
        if macro is None:
            raise NotFound(f"macro {macro_id} not found")
        authorize(agent, Action.READ, Resource.macro(macro.id, macro.owner_id))
        return macro

    def _tags(self, macro: Macro) -> tuple[list[str], list[str]]:
        return (
            clean_tags(macro.add_tags, self._workspace.tags, "add_tags"),
            clean_tags(macro.remove_tags, self._workspace.tags, "remove_tags"),
        )

    # --- applying ----------------------------------------------------------------------------------

    def apply_to_ticket(
        self, agent: AgentPrincipal, ticket_id: str, macro_id: str, *, preview: bool = False
    ) -> AppliedToTicket:
        """Reply (or note) and change state, team, priority and tags in one write; ``preview`` writes nothing."""
        personal = None if macro_id in self._shared else macro_id
        return retry_on_conflict(
            lambda: self._apply_to_ticket(agent, ticket_id, macro_id, personal, preview=preview),
            attempts=APPLY_ATTEMPTS,
            gave_up=lambda: Conflict(f"ticket {ticket_id} is changing too fast: apply the macro again"),
        )

    def _apply_to_ticket(
        self, agent: AgentPrincipal, ticket_id: str, macro_id: str, personal: str | None, *, preview: bool
    ) -> AppliedToTicket:
        ticket, own = self._records.read_ticket_and_macro(ticket_id, personal)
        macro = self._readable(agent, macro_id, own)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        visibility, resource = self._workspace.agent_visibility, Resource.ticket(ticket)
        authorize(agent, Action.WORK, resource, visibility)
        if macro.team_id is not None and macro.team_id != ticket.team_id:
            known_team(self._workspace, macro.team_id)
            authorize(agent, Action.HAND_OFF, resource, visibility)
        ticket_type = known_ticket_type(self._workspace, ticket.ticket_type_id)
        state_id = None
        if macro.state is not None:
            state = ticket_type.first_state_in(macro.state)
            if state is None:
                raise InvalidInput(
                    f"ticket type '{ticket_type.name}' has no {macro.state.value} state",
                    [("state", f"'{ticket_type.id}' has no state of category {macro.state.value}")],
                )
            state_id = None if state.category is ticket.state_category else state.id
        add, remove = self._tags(macro)
        changes = TicketChanges(
            state_id=state_id, team_id=macro.team_id, priority=macro.priority, add_tags=add, remove_tags=remove
        )
        now, calendar = utc_now(), self._workspace.business_calendar
        base, parts, reply = ticket, [], None
        if macro.body:
            values = placeholder_values(
                customer_name=ticket.customer_name,
                customer_email=ticket.customer_email,
                ticket=ticket,
                agent_name=agent.name or agent.email,
            )
            reply = TicketPart(
                id=new_id(),
                ticket_id=ticket.id,
                type=PartType.NOTE if macro.internal else PartType.REPLY,
                author=agent.author,
                body=render(macro.body, values),
                visible_to_customer=not macro.internal,
                created_at=now,
            )
            base = ticket.model_copy(update=reply_clocks(ticket, reply, calendar))
            parts.append(reply)
        edit = apply_changes(base, ticket_type, changes, agent.author, now, calendar)
        # A macro that moves the ticket to another team hands it off like any move: the receivers get the
        # capsule, made from the ticket and the macro's own reply (no timeline read: the route stays at
        # one read and one write; the receivers have the timeline itself).
        record_hand_off(edit, base, [reply] if reply is not None else [], by=agent, at=now)
        updated = base.model_copy(update={**edit.updates, "updated_at": now})
        parts += edit.parts
        if preview or not parts:
            return AppliedToTicket(ticket=updated if preview else ticket, reply=reply, stored=False)
        saved = self._tickets.update_ticket(
            updated,
            based_on_version=ticket.version,
            parts=parts,
            tags_before=ticket.tags if "tags" in edit.updates else None,
        )
        if self._trackers is not None:
            shared = reply.body if reply is not None and reply.visible_to_customer else None
            self._trackers.announce(saved, agent, state_changed="state_id" in edit.updates, reply=shared)
        return AppliedToTicket(ticket=saved, reply=reply, stored=True)

    def apply_to_conversation(
        self, agent: AgentPrincipal, conversation_id: str, macro_id: str, *, preview: bool = False
    ) -> AppliedToConversation:
        """Reply (or note), close or reopen, and tag, in one write; ``preview`` writes nothing.

        A conversation has no priority and is handed to a team with a context capsule: a macro that
        sets either is applied to the conversation's ticket instead (422 here).
        """
        personal = None if macro_id in self._shared else macro_id
        return retry_on_conflict(
            lambda: self._apply_to_conversation(agent, conversation_id, macro_id, personal, preview=preview),
            attempts=APPLY_ATTEMPTS,
            conflicts=(ConditionFailed,),
            gave_up=lambda: Conflict(f"conversation {conversation_id} is changing too fast: apply the macro again"),
        )

    def _apply_to_conversation(
        self, agent: AgentPrincipal, conversation_id: str, macro_id: str, personal: str | None, *, preview: bool
    ) -> AppliedToConversation:
        conversation, own = self._records.read_conversation_and_macro(conversation_id, personal)
        macro = self._readable(agent, macro_id, own)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        authorize(agent, Action.WORK, Resource.conversation(conversation), self._workspace.agent_visibility)
        if macro.team_id is not None or macro.priority is not None:
            field = "team_id" if macro.team_id is not None else "priority"
            raise InvalidInput(
                f"macro '{macro.name}' changes a ticket's {field.removesuffix('_id')}: apply it to a ticket",
                [(field, "only tickets have a priority, and conversations change team by a hand-off")],
            )
        if conversation.status is ConversationStatus.BOT and macro.body and not macro.internal:
            raise Conflict("the bot is still answering this conversation: reply to take it over, then apply the macro")
        add, remove = self._tags(macro)
        now = utc_now()
        updates: dict[str, object] = {"tags": retagged(conversation.tags, add, remove), "updated_at": now}
        status = conversation_status(macro.state)
        if status is not None and status is not conversation.status:
            updates |= {"status": status, "snoozed_until": None}
        message = None
        if macro.body:
            values = placeholder_values(
                customer_name=conversation.customer_name,
                customer_email=conversation.customer_email,
                ticket=None,
                agent_name=agent.name or agent.email,
            )
            emailed = conversation.channel is Channel.EMAIL and not macro.internal
            message = Message(
                id=new_id(),
                conversation_id=conversation.id,
                author=agent.author,
                body=render(macro.body, values),
                internal=macro.internal,
                channel=Channel.EMAIL if emailed else None,
                created_at=now,
            )
            if not macro.internal:
                updates["preview"] = message.body
        after = conversation.model_copy(update=updates)
        changed = message is not None or after.tags != conversation.tags or after.status is not conversation.status
        if preview or not changed:
            return AppliedToConversation(conversation=after if preview else conversation, message=message, stored=False)
        self._records.rewrite_conversation(conversation, after, [message] if message else [])
        return AppliedToConversation(conversation=after, message=message, stored=True)
