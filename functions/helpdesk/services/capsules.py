"""The hand-off capsule: a structured summary built when work moves to another agent or team.

It answers what the receiving agent would otherwise ask the customer again: who they are and
whether that's verified, where they were, what was collected, what it is about, what they said
last and what is still unanswered, and what colleagues noted.
"""

from __future__ import annotations

from datetime import datetime

from helpdesk.domain.models import (
    AuthorType,
    Capsule,
    Conversation,
    Message,
    MessageKind,
    PartType,
    Ticket,
    TicketPart,
    utc_now,
)
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.ticket_rules import TicketEdit, handed_to_someone_else

LAST_MESSAGES = 5


def _linked_objects(conversation: Conversation | None, ticket: Ticket | None) -> list[dict[str, str]]:
    linked: list[dict[str, str]] = []
    context = (ticket.context if ticket else None) or (conversation.context if conversation else None)
    if context is not None and context.object is not None:
        linked.append({"type": context.object.type, "id": context.object.id})
    if ticket is not None:
        linked.append({"type": "ticket", "id": ticket.id, "number": str(ticket.number)})
    elif conversation is not None and conversation.ticket_id:
        linked.append({"type": "ticket", "id": conversation.ticket_id})
    return linked


def conversation_capsule(
    conversation: Conversation,
    messages: list[Message],
    *,
    by: AgentPrincipal,
    to_team: str,
    to_agent: str | None,
    collected: dict[str, object] | None = None,
) -> Capsule:
    said = [m for m in messages if m.kind is MessageKind.TEXT and not m.internal]
    from_customer = [m.body for m in said if m.author.type is AuthorType.CUSTOMER and m.body]
    # What a person last answered: the bot's words don't settle the customer's questions.
    last_answer = max((i for i, m in enumerate(said) if m.author.type is AuthorType.AGENT), default=-1)
    unanswered = [m.body for m in said[last_answer + 1 :] if m.author.type is AuthorType.CUSTOMER and m.body]
    return Capsule(
        customer={
            "id": conversation.customer_id,
            "name": conversation.customer_name,
            "email": conversation.customer_email,
            "is_visitor": conversation.customer_is_visitor,
            "identity_verified_at": conversation.identity_verified_at.isoformat()
            if conversation.identity_verified_at
            else None,
            "verified_attributes": conversation.verified_attributes,
        },
        context=conversation.context,
        collected_attributes=collected or {},
        linked_objects=_linked_objects(conversation, None),
        last_customer_messages=from_customer[-LAST_MESSAGES:],
        open_questions=unanswered,
        notes=[m.body for m in messages if m.internal and m.kind is MessageKind.TEXT],
        handed_off_by=by.id,
        handed_to={"team_id": to_team, "assignee_id": to_agent},
        created_at=utc_now(),
    )


def ticket_capsule(
    ticket: Ticket, timeline: list[TicketPart], *, by: AgentPrincipal, to_team: str, to_agent: str | None
) -> Capsule:
    replies = [p for p in timeline if p.type is PartType.REPLY and p.body]
    from_customer = [p.body or "" for p in replies if p.author.type is AuthorType.CUSTOMER]
    last_answer = max((i for i, p in enumerate(replies) if p.author.type is not AuthorType.CUSTOMER), default=-1)
    unanswered = [p.body or "" for p in replies[last_answer + 1 :] if p.author.type is AuthorType.CUSTOMER]
    return Capsule(
        customer={"id": ticket.customer_id, "verified_attributes": ticket.verified_attributes},
        context=ticket.context,
        collected_attributes=ticket.attributes,
        linked_objects=_linked_objects(None, ticket),
        last_customer_messages=from_customer[-LAST_MESSAGES:],
        open_questions=unanswered,
        notes=[p.body for p in timeline if p.type is PartType.NOTE and p.body],
        handed_off_by=by.id,
        handed_to={"team_id": to_team, "assignee_id": to_agent},
        created_at=utc_now(),
    )


def record_hand_off(
    edit: TicketEdit, ticket: Ticket, timeline: list[TicketPart], *, by: AgentPrincipal, at: datetime
) -> None:
    """When ``edit`` hands the ticket to another team or agent, the receiver's context capsule goes with
    it, and the timeline records it as the hand-off summary (internal)."""
    if not handed_to_someone_else(edit, by.id):
        return
    updates = edit.updates
    capsule = ticket_capsule(
        ticket,
        timeline,
        by=by,
        to_team=updates.get("team_id", ticket.team_id),
        to_agent=updates.get("assignee_id", ticket.assignee_id),
    )
    updates["capsule"] = capsule
    summary = capsule.model_dump(mode="json")
    edit.record(ticket, PartType.HANDOFF, by.author, at, "Hand-off summary", changes=summary, visible=False)
