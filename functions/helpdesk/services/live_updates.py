"""The once-per-batch frames of the live fan-out: a changed conversation or ticket, told to each audience.

Agents of its team (old and new), its assignee and whoever watches it get the inbox's view with the
form fields that changed; agents who lost sight of it in a hand-off get only that it moved; its
customer gets what they can see, when something they can see changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpdesk.domain.live import (
    Frame,
    FrameType,
    agent_conversation_data,
    agent_ticket_data,
    changed_fields,
    customer_conversation_data,
    customer_ticket_data,
    frame_id,
    moved_away_data,
    topic,
)
from helpdesk.domain.models import Conversation, Ticket, TicketCategory
from helpdesk.domain.policy import Resource

if TYPE_CHECKING:
    from helpdesk.services.live_fanout import _Batch, _Touched

CONVERSATION_FIELDS = ("status", "team_id", "assignee_id", "ticket_id")
"""What an inbox tells apart in a conversation's change (``changed`` in its frame)."""


def conversation_updated(batch: _Batch, touched: _Touched) -> None:
    now: Conversation = touched.after
    before: Conversation | None = touched.before
    audience = batch.audience
    resource = Resource.conversation(now)
    topics = _topics("conversation", now.id, now.team_id, now.assignee_id)
    if before is not None:
        topics += _topics(None, None, before.team_id, before.assignee_id)
    data = agent_conversation_data(now) | ({"last_message": touched.last_message} if touched.last_message else {})
    data["changed"] = [f for f in CONVERSATION_FIELDS if before is not None and getattr(before, f) != getattr(now, f)]
    data["new"] = touched.inserted
    fid = frame_id(touched.source, FrameType.CONVERSATION_UPDATED, now.id, "agent")
    audience.add(Frame.of(fid, FrameType.CONVERSATION_UPDATED, data), audience.agents(topics, resource))
    if before is not None:
        lost = audience.lost(topics, Resource.conversation(before), resource)
        moved = frame_id(touched.source, FrameType.CONVERSATION_UPDATED, now.id, "moved")
        audience.add(Frame.of(moved, FrameType.CONVERSATION_UPDATED, moved_away_data(now)), lost)
    changed = before is None or (before.status, before.ticket_id) != (now.status, now.ticket_id)
    if touched.inserted or changed:
        fid = frame_id(touched.source, FrameType.CONVERSATION_UPDATED, now.id, "customer")
        frame = Frame.of(fid, FrameType.CONVERSATION_UPDATED, customer_conversation_data(now))
        audience.add(frame, audience.customer(now.customer_id))


def ticket_updated(batch: _Batch, touched: _Touched) -> None:
    now: Ticket = touched.after
    before: Ticket | None = touched.before
    audience = batch.audience
    workspace = batch.f._workspace
    resource = Resource.ticket(now)
    topics = _topics("ticket", now.id, now.team_id, now.assignee_id)
    if before is not None:
        topics += _topics(None, None, before.team_id, before.assignee_id)
    data = agent_ticket_data(now, workspace)
    data["changed"] = changed_fields(agent_ticket_data(before, workspace) if before else None, data)
    data["new"] = touched.inserted
    fid = frame_id(touched.source, FrameType.TICKET_UPDATED, now.id, "agent")
    audience.add(Frame.of(fid, FrameType.TICKET_UPDATED, data), audience.agents(topics, resource))
    if before is not None:
        lost = audience.lost(topics, Resource.ticket(before), resource)
        moved = {"id": now.id, "team_id": now.team_id, "assignee_id": now.assignee_id, "moved_away": True}
        fid = frame_id(touched.source, FrameType.TICKET_UPDATED, now.id, "moved")
        audience.add(Frame.of(fid, FrameType.TICKET_UPDATED, moved), lost)
    if not shared_with_customer(now):
        return
    assert now.customer_id is not None
    seen_now = _customer_visible(customer_ticket_data(now, workspace))
    seen_before = _customer_visible(customer_ticket_data(before, workspace)) if before else None
    if touched.inserted or seen_now != seen_before:
        fid = frame_id(touched.source, FrameType.TICKET_UPDATED, now.id, "customer")
        frame = Frame.of(fid, FrameType.TICKET_UPDATED, customer_ticket_data(now, workspace))
        audience.add(frame, audience.customer(now.customer_id))


def _topics(kind: str | None, ident: str | None, team_id: str, assignee_id: str | None) -> list[str]:
    found = [topic("team", team_id)]
    if kind is not None and ident is not None:
        found.append(f"{kind}#{ident}")
    if assignee_id:
        found.append(topic("agent", assignee_id))
    return found


def shared_with_customer(ticket: Ticket) -> bool:
    return ticket.category is TicketCategory.CUSTOMER and bool(ticket.customer_id)


def _customer_visible(data: dict[str, Any]) -> dict[str, Any]:
    """What a customer would notice changing (not the version or the time of an internal change)."""
    return {k: v for k, v in data.items() if k not in ("version", "updated_at")}
