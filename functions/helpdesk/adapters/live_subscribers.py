"""Who holds a live connection, as its connection and subscription items both record it."""

from __future__ import annotations

from typing import Any

from helpdesk.adapters.live_items import LiveConnectionItem, LiveSubscriptionItem
from helpdesk.domain.live import Subscriber, SubscriberKind
from helpdesk.domain.roles import Role

_KINDS: dict[str, SubscriberKind] = {"customer": "customer", "agent": "agent"}


def holder_fields(subscriber: Subscriber) -> dict[str, Any]:
    """The connection and who holds it, as a connection or subscription item stores them."""
    return {
        "connection_id": subscriber.connection_id,
        "principal_type": subscriber.kind,
        "principal_id": subscriber.id,
        "name": subscriber.name,
        "teams": sorted(subscriber.teams) or None,
        "role": subscriber.role.value if subscriber.is_agent else None,
    }


def subscriber_from_item(item: LiveConnectionItem | LiveSubscriptionItem) -> Subscriber:
    """Who holds the connection (a principal type other than customer or agent is a visitor)."""
    return Subscriber(
        connection_id=item.connection_id,
        kind=_KINDS.get(item.principal_type, "visitor"),
        id=item.principal_id,
        name=item.name,
        teams=frozenset(item.teams or ()),
        role=Role(item.role) if item.role else Role.AGENT,
    )
