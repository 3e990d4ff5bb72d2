"""Who receives a frame: the connections of some topics, each checked against the policy.

A connection's subscriptions say where to look; the policy (``SUBSCRIBE``, the rule for reading) on
the item as it is now says whether it may see this frame. Customers receive only frames about their
own things (their ``customer#<id>`` topic, checked against who holds the connection). Listeners are
read once per topic per batch (one Query each), and every connection receives a frame at most once.
"""

from __future__ import annotations

from collections.abc import Iterable

from helpdesk.domain.live import Frame, Subscriber, topic
from helpdesk.domain.policy import Action, Resource, allowed
from helpdesk.domain.roles import Visibility
from helpdesk.services.ports import LiveRecords

Recipients = dict[str, Subscriber]
"""Connection id -> who holds it."""


class Audience:
    def __init__(self, records: LiveRecords, visibility: Visibility) -> None:
        self._records = records
        self._visibility = visibility
        self._listeners: dict[str, list[Subscriber]] = {}
        self.outbox: list[tuple[Frame, Recipients]] = []

    def listeners(self, name: str) -> list[Subscriber]:
        if name not in self._listeners:
            self._listeners[name] = self._records.listeners(name)
        return self._listeners[name]

    def forget(self, name: str) -> None:
        """The topic's listeners changed in this batch: read them again when next needed."""
        self._listeners.pop(name, None)

    def customer(self, customer_id: str) -> Recipients:
        """The customer's own connections (a visitor's too: their id is theirs alone)."""
        return {
            s.connection_id: s
            for s in self.listeners(topic("customer", customer_id))
            if not s.is_agent and s.id == customer_id
        }

    def agents(self, topics: Iterable[str], resource: Resource) -> Recipients:
        """The agents listening to any of ``topics`` whom the policy lets see ``resource`` now."""
        found: Recipients = {}
        for name in dict.fromkeys(topics):
            for subscriber in self.listeners(name):
                if subscriber.connection_id in found or not subscriber.is_agent:
                    continue
                if allowed(subscriber.as_agent(), Action.SUBSCRIBE, resource, self._visibility):
                    found[subscriber.connection_id] = subscriber
        return found

    def lost(self, topics: Iterable[str], before: Resource, now: Resource) -> Recipients:
        """Agents who could see ``before`` and can't see ``now`` (a hand-off to another team)."""
        could = self.agents(topics, before)
        can = self.agents(topics, now)
        return {c: s for c, s in could.items() if c not in can}

    def add(self, frame: Frame, recipients: Recipients) -> None:
        if recipients:
            self.outbox.append((frame, dict(recipients)))
