"""The live channel's items of the single table (keys and access patterns: ``adapters/table.py``):
connections and their subscriptions, customers' unread counters, and first-reply times.

Imported by ``adapters/table.py`` itself, so the item types are registered wherever the table is used.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from helpdesk.adapters.table import TTL_ATTRIBUTE, TableItem

__all__ = ["FirstReplyItem", "LiveConnectionItem", "LiveSubscriptionItem", "ReplyTimesItem", "UnreadItem"]


class LiveConnectionItem(TableItem, discriminator="live_connection"):
    """An open WebSocket connection of the live channel, and who holds it (from ``$connect``'s authorizer).

    Expires (table TTL) a little after API Gateway must have closed it, for when ``$disconnect`` never comes.
    """

    connection_id = UnicodeAttribute()
    principal_type = UnicodeAttribute()
    principal_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    teams = JSONAttribute(null=True)
    role = UnicodeAttribute(null=True)
    presence = UnicodeAttribute(null=True)
    """An agent's wish for while connected: ``away`` keeps them away (default: online while connected)."""
    connected_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


class LiveSubscriptionItem(TableItem, discriminator="live_subscription"):
    """One topic a connection listens to (``customer#<id>``, ``team#<id>``, ``conversation#<id>``...).

    In the ``by_customer`` index under ``TOPIC#<topic>``, with who holds the connection, so fan-out
    finds a topic's listeners and checks them against the policy with one Query.
    """

    connection_id = UnicodeAttribute()
    topic = UnicodeAttribute()
    principal_type = UnicodeAttribute()
    principal_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    teams = JSONAttribute(null=True)
    role = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


class UnreadItem(TableItem, discriminator="unread"):
    """How many messages of a conversation (or updates of a ticket) its customer hasn't read.

    Counted by the live fan-out from the stream; ``last_sequence`` (the stream record counted last,
    zero-padded to 40 digits so it compares as text: sequence numbers outgrow DynamoDB's numbers)
    makes a redelivered record count once.
    """

    customer_id = UnicodeAttribute()
    thread_type = UnicodeAttribute()
    thread_id = UnicodeAttribute()
    unread = NumberAttribute(default=0)
    last_sequence = UnicodeAttribute(default="")
    updated_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


class FirstReplyItem(TableItem, discriminator="first_reply"):
    """Written once per conversation, by its first agent reply: later replies fail its condition."""

    conversation_id = UnicodeAttribute()
    team_id = UnicodeAttribute()
    seconds = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


class ReplyTimesItem(TableItem, discriminator="reply_times"):
    """A team's first replies of one day: how many, and their total time (for the expected reply time)."""

    team_id = UnicodeAttribute()
    day = UnicodeAttribute()
    replies = NumberAttribute(default=0)
    total_seconds = NumberAttribute(default=0)
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)
