"""A ticket's rules, as pure functions: which change makes which fields and timeline parts.

Which states may follow which (any state of the ticket's type; the customer's reply resumes work
that waited on them), what moves an SLA clock (a reply, a change of state category), what a
change of team, assignee, priority or attributes records on the timeline and shows the customer.
Each function takes the ticket as read and returns what to write (``TicketEdit``): the service
around it is a read, this decision, and one write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from helpdesk.domain.business_hours import BusinessCalendar
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import Author, AuthorType, PartType, Priority, Ticket, TicketCategory, TicketPart, new_id
from helpdesk.domain.sla import SlaState
from helpdesk.domain.tags import retagged
from helpdesk.domain.workspace import AttributeError_, StateCategory, TicketType

MAX_TITLE_LENGTH = 200


class NewTicket(BaseModel):
    """What an agent (or the bot) fills in to open a ticket (directly, or from a conversation)."""

    ticket_type_id: str
    attributes: dict[str, Any] = {}
    team_id: str | None = None
    title: str | None = None
    priority: Priority = Priority.NORMAL
    customer_id: str | None = None
    category: TicketCategory = TicketCategory.CUSTOMER
    linked_ticket_id: str | None = None
    """Back-office tickets: the customer ticket they serve."""
    linked_conversation_id: str | None = None
    """Back-office tickets: the conversation they serve."""


class TicketChanges(BaseModel):
    """A partial update; fields left out are unchanged. ``assignee_id`` set to None unassigns."""

    state_id: str | None = None
    team_id: str | None = None
    assignee_id: str | None = None
    unassign: bool = False
    priority: Priority | None = None
    attributes: dict[str, Any] | None = None
    title: str | None = None
    add_tags: list[str] = []
    """Checked against the workspace's tags already (``domain.tags.clean_tags``)."""
    remove_tags: list[str] = []


@dataclass
class TicketEdit:
    """What one change writes: the ticket's changed fields and the parts it adds to the timeline."""

    updates: dict[str, Any] = field(default_factory=dict)
    parts: list[TicketPart] = field(default_factory=list)

    def record(
        self,
        ticket: Ticket,
        part_type: PartType,
        author: Author,
        at: datetime,
        body: str | None,
        *,
        changes: dict[str, Any] | None = None,
        visible: bool,
    ) -> None:
        self.parts.append(
            TicketPart(
                id=new_id(),
                ticket_id=ticket.id,
                type=part_type,
                author=author,
                body=body,
                changes=changes or {},
                visible_to_customer=visible,
                created_at=at,
            )
        )


def attribute_problems(error: AttributeError_) -> InvalidInput:
    return InvalidInput(
        "attributes are not valid for this ticket type",
        [(f"attributes.{name}", message) for name, message in error.problems],
    )


# --- SLA clocks ----------------------------------------------------------------------------------


def clock_fields(clocks: SlaState) -> dict[str, Any]:
    """The ticket fields that carry its clocks."""
    return {"sla": clocks.model_dump(mode="json"), "sla_due_at": clocks.due_at}


def started_clocks(
    ticket_type: TicketType, category: StateCategory, now: datetime, calendar: BusinessCalendar
) -> dict[str, Any]:
    """The clocks of a new ticket of this type (none without an SLA policy)."""
    if ticket_type.sla is None:
        return {}
    clocks = SlaState.start(ticket_type.sla, calendar, now, category=category)
    waiting = {"waiting_since": now} if category is StateCategory.WAITING_ON_CUSTOMER else {}
    return clock_fields(clocks) | waiting


def clocks_of(ticket: Ticket, calendar: BusinessCalendar) -> SlaState | None:
    return SlaState.load(ticket.sla, calendar) if ticket.sla else None


def category_change(ticket: Ticket, new: StateCategory, now: datetime, calendar: BusinessCalendar) -> dict[str, Any]:
    """Clocks pause while waiting on the customer, resume after, and stop at resolution."""
    if new is ticket.state_category:
        return {}
    fields: dict[str, Any] = {
        "waiting_since": now if new is StateCategory.WAITING_ON_CUSTOMER else None,
        "reminded_at": None,
    }
    clocks = clocks_of(ticket, calendar)
    if clocks is not None:
        fields |= clock_fields(clocks.on_category_change(ticket.state_category, new, now))
    return fields


def reply_clocks(ticket: Ticket, part: TicketPart, calendar: BusinessCalendar) -> dict[str, Any]:
    """A reply the customer sees meets an agent's response clocks, or starts the next one."""
    clocks = clocks_of(ticket, calendar)
    if clocks is None or part.type is not PartType.REPLY:
        return {}
    if part.author.type is AuthorType.CUSTOMER:
        return clock_fields(clocks.on_customer_message(part.created_at))
    return clock_fields(clocks.on_agent_reply(part.created_at))


# --- changes -------------------------------------------------------------------------------------


def created_part(ticket: Ticket, author: Author) -> TicketPart:
    return TicketPart(
        id=new_id(),
        ticket_id=ticket.id,
        type=PartType.CREATED,
        author=author,
        body=f"Ticket #{ticket.number} opened: {ticket.title}",
        changes={"state_id": ticket.state_id, "team_id": ticket.team_id},
        visible_to_customer=True,
        created_at=ticket.created_at,
    )


def change_state(
    edit: TicketEdit,
    ticket: Ticket,
    ticket_type: TicketType,
    state_id: str,
    author: Author,
    now: datetime,
    calendar: BusinessCalendar,
) -> None:
    """Any state of the type may follow any other; the customer sees it when its label changes."""
    state = ticket_type.state(state_id)
    if state is None:
        known = ", ".join(s.id for s in ticket_type.states)
        raise InvalidInput(
            f"'{state_id}' is not a state of ticket type '{ticket_type.id}'", [("state_id", f"must be one of: {known}")]
        )
    previous = ticket_type.state(ticket.state_id)
    edit.updates |= {"state_id": state.id, "state_category": state.category}
    edit.updates |= category_change(ticket, state.category, now, calendar)
    edit.record(
        ticket,
        PartType.STATE_CHANGE,
        author,
        now,
        f"State changed to {state.customer_label}",
        changes={"from": ticket.state_id, "to": state.id, "category": state.category.value},
        visible=previous is None or previous.customer_label != state.customer_label,
    )


def change_attributes(
    edit: TicketEdit, ticket: Ticket, ticket_type: TicketType, given: dict[str, Any], author: Author, now: datetime
) -> None:
    """Validated against the type; ``None`` removes a value. Only values that differ are recorded."""
    try:
        cleaned = ticket_type.validate_attributes(given, creating=False)
    except AttributeError_ as error:
        raise attribute_problems(error) from error
    merged = dict(ticket.attributes)
    for key, value in cleaned.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    changed = {k: v for k, v in cleaned.items() if ticket.attributes.get(k) != v}
    if not changed:
        return
    edit.updates["attributes"] = merged
    visible = any((a := ticket_type.attribute(k)) is not None and a.visible_to_customer for k in changed)
    edit.record(
        ticket,
        PartType.ATTRIBUTE_CHANGE,
        author,
        now,
        "Details updated",
        changes={"attributes": ticket_type.customer_visible(changed) if visible else changed},
        visible=visible,
    )


def apply_changes(
    ticket: Ticket,
    ticket_type: TicketType,
    changes: TicketChanges,
    author: Author,
    now: datetime,
    calendar: BusinessCalendar,
) -> TicketEdit:
    """An agent's partial update: what changes, and a timeline part for each thing that did.

    ``changes.team_id`` must already be a team of the workspace (the service checks it).
    """
    edit = TicketEdit()
    if changes.state_id is not None and changes.state_id != ticket.state_id:
        change_state(edit, ticket, ticket_type, changes.state_id, author, now, calendar)
    if changes.team_id is not None and changes.team_id != ticket.team_id:
        edit.updates["team_id"] = changes.team_id
        edit.record(
            ticket,
            PartType.ASSIGNMENT,
            author,
            now,
            f"Assigned to team {changes.team_id}",
            changes={"team_id": changes.team_id},
            visible=False,
        )
    new_assignee = None if changes.unassign else changes.assignee_id
    if (changes.unassign or changes.assignee_id is not None) and new_assignee != ticket.assignee_id:
        edit.updates["assignee_id"] = new_assignee
        body = f"Assigned to {new_assignee}" if new_assignee else "Unassigned"
        edit.record(
            ticket, PartType.ASSIGNMENT, author, now, body, changes={"assignee_id": new_assignee}, visible=False
        )
    if changes.priority is not None and changes.priority != ticket.priority:
        edit.updates["priority"] = changes.priority
        edit.record(
            ticket,
            PartType.PRIORITY_CHANGE,
            author,
            now,
            f"Priority set to {changes.priority.value}",
            changes={"from": ticket.priority.value, "to": changes.priority.value},
            visible=False,
        )
    if changes.attributes:
        change_attributes(edit, ticket, ticket_type, changes.attributes, author, now)
    if changes.title is not None:
        change_title(edit, ticket, changes.title, author, now)
    if changes.add_tags or changes.remove_tags:
        change_tags(edit, ticket, changes.add_tags, changes.remove_tags, author, now)
    return edit


def change_title(edit: TicketEdit, ticket: Ticket, title: str, author: Author, now: datetime) -> None:
    """A new title (trimmed, not empty); recorded in the agents' timeline."""
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("a ticket needs a title", [("title", "must not be empty")])
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInput("title is too long", [("title", f"must be at most {MAX_TITLE_LENGTH} characters")])
    if title == ticket.title:
        return
    edit.updates["title"] = title
    edit.record(
        ticket,
        PartType.ATTRIBUTE_CHANGE,
        author,
        now,
        f"Title changed to {title}",
        changes={"title": {"from": ticket.title, "to": title}},
        visible=False,
    )


def change_tags(
    edit: TicketEdit, ticket: Ticket, add: list[str], remove: list[str], author: Author, now: datetime
) -> None:
    """Tags are internal: the timeline records the change for agents only."""
    tags = retagged(ticket.tags, add, remove)
    if tags == ticket.tags:
        return
    edit.updates["tags"] = tags
    added, removed = [t for t in tags if t not in ticket.tags], [t for t in ticket.tags if t not in tags]
    words = [f"+{t}" for t in added] + [f"-{t}" for t in removed]
    edit.record(
        ticket,
        PartType.ATTRIBUTE_CHANGE,
        author,
        now,
        f"Tags {' '.join(words)}",
        changes={"tags": {"added": added, "removed": removed}},
        visible=False,
    )


def handed_to_someone_else(edit: TicketEdit, author_id: str) -> bool:
    """A change of team, or of assignee to another agent: the receiver gets a context capsule."""
    updates = edit.updates
    return "team_id" in updates or ("assignee_id" in updates and updates["assignee_id"] not in (None, author_id))


def customer_reply(
    ticket: Ticket, ticket_type: TicketType, reply: TicketPart, calendar: BusinessCalendar
) -> TicketEdit:
    """The customer answered on their ticket: if it was waiting on them, work resumes."""
    now = reply.created_at
    edit = TicketEdit(updates={"updated_at": now}, parts=[reply])
    if ticket.state_category is StateCategory.WAITING_ON_CUSTOMER:
        resumed = ticket_type.first_state_in(StateCategory.IN_PROGRESS) or ticket_type.first_state
        edit.updates |= {"state_id": resumed.id, "state_category": resumed.category}
        edit.updates |= category_change(ticket, resumed.category, now, calendar)
        edit.record(
            ticket,
            PartType.STATE_CHANGE,
            reply.author,
            now,
            f"State changed to {resumed.customer_label}",
            changes={"from": ticket.state_id, "to": resumed.id, "category": resumed.category.value},
            visible=True,
        )
    moved = ticket.model_copy(update=edit.updates)
    edit.updates |= reply_clocks(moved, reply, calendar)
    return edit
