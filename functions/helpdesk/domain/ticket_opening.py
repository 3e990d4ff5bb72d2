"""Opening a ticket: the type and team it names must exist, its attributes must fit the type, and it
starts in the type's first state with its SLA clocks running. Pure: the caller claims the number and
writes it."""

from __future__ import annotations

from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import Author, ContextPackage, Ticket, new_id, utc_now
from helpdesk.domain.ticket_rules import MAX_TITLE_LENGTH, NewTicket, attribute_problems, started_clocks
from helpdesk.domain.workspace import AttributeError_, TicketType, Workspace


def known_ticket_type(workspace: Workspace, type_id: str) -> TicketType:
    """The workspace's ticket type ``type_id``, or a 422 naming the types there are."""
    ticket_type = workspace.ticket_type(type_id)
    if ticket_type is None:
        known = ", ".join(t.id for t in workspace.ticket_types)
        raise InvalidInput(f"unknown ticket type '{type_id}'", [("ticket_type_id", f"must be one of: {known}")])
    return ticket_type


def known_team(workspace: Workspace, team_id: str) -> str:
    """``team_id`` if the workspace has that team, or a 422 naming the teams there are."""
    if workspace.team(team_id) is None:
        known = ", ".join(t.id for t in workspace.teams)
        raise InvalidInput(f"unknown team '{team_id}'", [("team_id", f"must be one of: {known}")])
    return team_id


def build_ticket(
    workspace: Workspace,
    author: Author,
    request: NewTicket,
    *,
    customer_id: str | None,
    conversation_id: str | None,
    context: ContextPackage | None,
) -> tuple[Ticket, TicketType]:
    """The new ticket (number 0 until its write claims one) and its type."""
    ticket_type = known_ticket_type(workspace, request.ticket_type_id)
    team_id = known_team(workspace, request.team_id or ticket_type.default_team)
    values = dict(request.attributes)
    # The context package already says which object this is about: don't ask again.
    if context is not None and context.object is not None:
        key = f"{context.object.type}_id"
        if ticket_type.attribute(key) is not None and key not in values:
            values[key] = context.object.id
    try:
        attributes = ticket_type.validate_attributes(values, creating=True)
    except AttributeError_ as error:
        raise attribute_problems(error) from error
    title = (request.title or "").strip() or ticket_type.name
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInput("title is too long", [("title", f"must be at most {MAX_TITLE_LENGTH} characters")])
    state = ticket_type.first_state
    now = utc_now()
    ticket = Ticket(
        id=new_id(),
        number=0,
        ticket_type_id=ticket_type.id,
        title=title,
        state_id=state.id,
        state_category=state.category,
        attributes={k: v for k, v in attributes.items() if v is not None},
        team_id=team_id,
        priority=request.priority,
        customer_id=customer_id,
        conversation_id=conversation_id,
        context=context,
        **started_clocks(ticket_type, state.category, now, workspace.business_calendar),
        created_by=author,
        created_at=now,
        updated_at=now,
        version=1,
    )
    return ticket, ticket_type
