"""The live channel's records: connections and what they listen to, customers' unread counters, and
teams' first-reply times (for the messenger's expected reply time).

Every method is one DynamoDB request unless its docstring says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.live_items import (
    FirstReplyItem,
    LiveConnectionItem,
    LiveSubscriptionItem,
    ReplyTimesItem,
    UnreadItem,
)
from helpdesk.adapters.live_subscribers import holder_fields, subscriber_from_item
from helpdesk.adapters.store.base import TableStore, is_condition_failure
from helpdesk.adapters.table import TableItem
from helpdesk.domain.live import (
    CONNECTION_TTL_SLACK_SECONDS,
    MAX_CONNECTION_SECONDS,
    Subscriber,
    ThreadType,
    UnreadCount,
    padded_sequence,
)

META = mapping.META
MAX_LISTENERS = 1000
"""Listeners read for one topic per frame (a page of the index); a team bigger than this is a
deployment for a dedicated fan-out, not a loop here."""
UNREAD_KEPT = timedelta(days=90)
FIRST_REPLY_MARKER_KEPT = timedelta(days=30)
REPLY_TIMES_KEPT = timedelta(days=30)
UNREAD_PREFIX = "UNREAD#"


def connection_pk(connection_id: str) -> str:
    return f"LIVE#{connection_id}"


def topic_key(topic: str) -> str:
    return f"TOPIC#{topic}"


def unread_sk(thread_type: ThreadType, thread_id: str) -> str:
    return f"{UNREAD_PREFIX}{thread_type}#{thread_id}"


def _expiry(connected_at: datetime) -> datetime:
    return connected_at + timedelta(seconds=MAX_CONNECTION_SECONDS + CONNECTION_TTL_SLACK_SECONDS)


class LiveTable(TableStore):
    # --- connections and subscriptions ------------------------------------------------------------

    def _subscription(
        self, subscriber: Subscriber, topic: str, at: datetime, expires: datetime
    ) -> LiveSubscriptionItem:
        return LiveSubscriptionItem(
            pk=connection_pk(subscriber.connection_id),
            sk=topic_key(topic),
            gsi1pk=topic_key(topic),
            gsi1sk=subscriber.connection_id,
            topic=topic,
            **holder_fields(subscriber),
            created_at=at,
            expires_at=expires,
        )

    def open_connection(
        self, subscriber: Subscriber, topics: Sequence[str], at: datetime, *, presence: str | None = None
    ) -> None:
        """The connection and its first subscriptions, in one transaction."""
        expires = _expiry(at)

        def build(transaction: TransactWrite) -> None:
            transaction.save(
                LiveConnectionItem(
                    pk=connection_pk(subscriber.connection_id),
                    sk=META,
                    **holder_fields(subscriber),
                    presence=presence,
                    connected_at=at,
                    expires_at=expires,
                )
            )
            for topic in dict.fromkeys(topics):
                transaction.save(self._subscription(subscriber, topic, at, expires))

        self._write(build)

    def subscribe(self, subscriber: Subscriber, topic: str, at: datetime, *, replacing: str | None = None) -> None:
        """Listen to ``topic`` (and stop listening to ``replacing``): one transaction.

        Only while the connection is there (its item exists): a late request of a connection that
        already left writes nothing (``ConditionFailed``).
        """
        expires = _expiry(at)

        def build(transaction: TransactWrite) -> None:
            transaction.condition_check(
                LiveConnectionItem, connection_pk(subscriber.connection_id), META, condition=TableItem.pk.exists()
            )
            transaction.save(self._subscription(subscriber, topic, at, expires))
            if replacing is not None and replacing != topic:
                transaction.delete(
                    LiveSubscriptionItem(pk=connection_pk(subscriber.connection_id), sk=topic_key(replacing))
                )

        self._write(build)

    def unsubscribe(self, connection_id: str, topic: str) -> None:
        LiveSubscriptionItem(pk=connection_pk(connection_id), sk=topic_key(topic)).delete()

    def close_connection(self, connection_id: str) -> list[str]:
        """Forget the connection and every subscription of it: a Query, then one transaction.

        Returns the topics it listened to. Closing twice (``$disconnect`` after a ``GoneException``
        cleaned up) finds nothing and writes nothing.
        """
        items = list(TableItem.query(connection_pk(connection_id), limit=100))
        if not items:
            return []

        def build(transaction: TransactWrite) -> None:
            for item in items:
                transaction.delete(TableItem(pk=item.pk, sk=item.sk))

        self._write(build)
        return [i.topic for i in items if isinstance(i, LiveSubscriptionItem)]

    def listeners(self, topic: str) -> list[Subscriber]:
        """Every connection listening to ``topic``, with who holds it (one Query of the index).

        Subscriptions past their expiry are left out: the table's TTL deletes them some time later.
        """
        now = datetime.now(UTC)
        found = TableItem.by_customer.query(topic_key(topic), limit=MAX_LISTENERS)
        return [
            subscriber_from_item(i)
            for i in found
            if isinstance(i, LiveSubscriptionItem) and (i.expires_at is None or i.expires_at > now)
        ]

    # --- unread counters --------------------------------------------------------------------------

    def count_unread(
        self,
        customer_id: str,
        thread_type: ThreadType,
        thread_id: str,
        *,
        sequence: str,
        at: datetime,
        add: int | None,
    ) -> bool:
        """Add ``add`` unread updates to a thread (``None``: the customer wrote, so none are unread),
        once per stream record: False when a record at or after ``sequence`` was counted already."""
        item = UnreadItem(pk=mapping.customer_pk(customer_id), sk=unread_sk(thread_type, thread_id))
        padded = padded_sequence(sequence)
        actions: list[Any] = [
            UnreadItem.kind.set(UnreadItem),
            UnreadItem.customer_id.set(customer_id),
            UnreadItem.thread_type.set(thread_type),
            UnreadItem.thread_id.set(thread_id),
            UnreadItem.last_sequence.set(padded),
            UnreadItem.updated_at.set(at),
            UnreadItem.expires_at.set(at + UNREAD_KEPT),
            UnreadItem.unread.add(add) if add is not None else UnreadItem.unread.set(0),
        ]
        try:
            item.update(actions=actions, condition=TableItem.pk.does_not_exist() | (UnreadItem.last_sequence < padded))
        except UpdateError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def mark_read(self, customer_id: str, thread_type: ThreadType, thread_id: str, at: datetime) -> bool:
        """The customer has seen the thread: its counter goes to 0 (False when it had none)."""
        item = UnreadItem(pk=mapping.customer_pk(customer_id), sk=unread_sk(thread_type, thread_id))
        try:
            item.update(
                actions=[UnreadItem.unread.set(0), UnreadItem.updated_at.set(at)],
                condition=TableItem.pk.exists() & (UnreadItem.unread > 0),
            )
        except UpdateError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def unread_counts(self, customer_id: str, *, limit: int = 200) -> list[UnreadCount]:
        """The customer's threads with something unread, newest first."""
        items = TableItem.query(mapping.customer_pk(customer_id), TableItem.sk.startswith(UNREAD_PREFIX), limit=limit)
        counts = [
            UnreadCount(
                thread_type="ticket" if i.thread_type == "ticket" else "conversation",
                thread_id=i.thread_id,
                unread=int(i.unread or 0),
                updated_at=i.updated_at,
            )
            for i in items
            if isinstance(i, UnreadItem) and (i.unread or 0) > 0
        ]
        return sorted(counts, key=lambda c: c.updated_at, reverse=True)

    # --- first replies ----------------------------------------------------------------------------

    def record_first_reply(self, conversation_id: str, team_id: str, seconds: float, at: datetime) -> bool:
        """Count a conversation's first agent reply in its team's day: a conditional put of the
        conversation's marker (a later reply finds it and stops there), then the day's sums."""
        marker = FirstReplyItem(
            pk=f"FIRSTREPLY#{conversation_id}",
            sk=META,
            conversation_id=conversation_id,
            team_id=team_id,
            seconds=round(seconds, 1),
            created_at=at,
            expires_at=at + FIRST_REPLY_MARKER_KEPT,
        )
        try:
            marker.save(condition=TableItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        day = at.strftime("%Y-%m-%d")
        ReplyTimesItem(pk=f"STATS#{team_id}", sk=f"FIRST_REPLY#{day}").update(
            actions=[
                ReplyTimesItem.kind.set(ReplyTimesItem),
                ReplyTimesItem.team_id.set(team_id),
                ReplyTimesItem.day.set(day),
                ReplyTimesItem.replies.add(1),
                ReplyTimesItem.total_seconds.add(round(seconds, 1)),
                ReplyTimesItem.expires_at.set(at + REPLY_TIMES_KEPT),
            ]
        )
        return True

    def reply_times(self, team_id: str, days: Iterable[str]) -> tuple[int, float]:
        """(first replies, their total seconds) of ``team_id`` over ``days`` (``YYYY-MM-DD``): one Query."""
        wanted = sorted(days)
        if not wanted:
            return 0, 0.0
        found = TableItem.query(
            f"STATS#{team_id}", TableItem.sk.between(f"FIRST_REPLY#{wanted[0]}", f"FIRST_REPLY#{wanted[-1]}")
        )
        replies, total = 0, 0.0
        for item in found:
            if isinstance(item, ReplyTimesItem) and item.day in wanted:
                replies += int(item.replies or 0)
                total += float(item.total_seconds or 0)
        return replies, total
