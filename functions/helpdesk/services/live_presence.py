"""Presence in the live fan-out: agents' availability, who is connected, and who has what open.

An agent is online while connected (unless they chose away) and away once no connection of theirs is
left, whether it closed, was found gone, or expired; their teams hear of every change. Agents who
have the same conversation or ticket open are told who else has it open (a collision notice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpdesk.domain.live import Frame, FrameType, LiveConnection, TableChange, topic
from helpdesk.domain.models import Agent, Availability, Conversation, Ticket, utc_now
from helpdesk.domain.policy import Resource

if TYPE_CHECKING:
    from helpdesk.services.live_fanout import _Batch


def availability(batch: _Batch, change: TableChange) -> None:
    agent: Agent = change.new
    was: Agent | None = change.old
    if was is not None and was.availability == agent.availability:
        return
    data = {"agent_id": agent.id, "name": agent.name, "availability": agent.availability.value}
    for team_id in agent.teams:
        batch.audience.add(
            Frame.caused_by(change.event_id, FrameType.PRESENCE, agent.id, data, team_id),
            batch.audience.agents([topic("team", team_id)], Resource.team(team_id)),
        )


def connection(batch: _Batch, change: TableChange) -> None:
    """An agent is online while connected (unless they chose away), and away once no connection is left."""
    connection: LiveConnection = change.current
    subscriber = connection.subscriber
    if not subscriber.is_agent:
        return
    agents = batch.f._agents
    if change.event_name == "INSERT":
        wanted = Availability.AWAY if connection.presence == "away" else Availability.ONLINE
    elif change.event_name == "REMOVE":
        left = [
            s
            for s in batch.f._records.listeners(topic("agent", subscriber.id))
            if s.connection_id != subscriber.connection_id
        ]
        if left:
            return
        wanted = Availability.AWAY
    else:
        return
    stored = agents.get_agent(subscriber.id)
    if stored is not None and stored.availability is wanted:
        return
    teams = sorted(t for t in subscriber.teams if batch.f._workspace.team(t) is not None)
    agents.save_agent(
        Agent(
            id=subscriber.id,
            name=subscriber.name if stored is None else stored.name or subscriber.name,
            email=stored.email if stored else None,
            teams=stored.teams if stored else teams,
            availability=wanted,
            updated_at=utc_now(),
        )
    )


# --- once per batch --------------------------------------------------------------------------


def viewers(batch: _Batch, name: str, source: str) -> None:
    """Who has the conversation or ticket open now, to everyone who has it open (agents only)."""
    kind, ident = name.split("#", 1)
    item: Conversation | Ticket | None = batch.conversation(ident) if kind == "conversation" else batch.ticket(ident)
    if item is None:
        return
    resource = Resource.conversation(item) if isinstance(item, Conversation) else Resource.ticket(item)
    watching = batch.audience.agents([name], resource)
    viewers = {s.id: s.name for s in watching.values()}
    data = {f"{kind}_id": ident, "viewers": [{"id": i, "name": n} for i, n in sorted(viewers.items())]}
    batch.audience.add(Frame.caused_by(source, FrameType.PRESENCE, name, data), watching)
