"""The single DynamoDB table: PynamoDB models, key design and access patterns.

Every entity lives in one table. Items are told apart by the ``kind`` discriminator, so one Query
over a partition returns a conversation with its messages, or a ticket with its timeline, each
item already of the right model class.

Key design (``PK``/``SK`` on the table, ``GSIn PK``/``GSIn SK`` on the indexes; ids are ULIDs, so
sorting by id is sorting by creation time):

=========================  ==========================  ===============================
item                       PK                          SK
=========================  ==========================  ===============================
customer profile           ``CUSTOMER#<user_id>``      ``PROFILE``  (GSI1: ``CUSTOMER#<user_id>`` /
                                                       ``~PROFILE``, for the inbox profile)
conversation               ``CONV#<id>``               ``~META``
conversation message       ``CONV#<id>``               ``MSG#<message id>``
ticket                     ``TICKET#<id>``             ``~META``
ticket part (timeline)     ``TICKET#<id>``             ``PART#<part id>``
tracker link               ``TICKET#<tracker id>``     ``LINK#<linked ticket id>``
object link                ``OBJECT#<type>#<id>``      ``TICKET#<ticket id>``
delivery record            ``DELIVERY#<update id>``    ``<channel>``
ticket number counter      ``COUNTER#ticket-number``   ``COUNTER``
attachment                 ``ATTACHMENT#<id>``         ``~META``
agent profile              ``AGENT#<id>``              ``PROFILE``
team roster entry          ``TEAM#<team>``             ``AGENT#<agent id>``
live connection            ``LIVE#<connection id>``    ``~META``
live subscription          ``LIVE#<connection id>``    ``TOPIC#<topic>``
unread counter             ``CUSTOMER#<user_id>``      ``UNREAD#<conversation|ticket>#<id>``
first agent reply marker   ``FIRSTREPLY#<conv id>``    ``~META``
first-reply times          ``STATS#<team>``            ``FIRST_REPLY#<yyyy-mm-dd>``
search key                 ``FIND#<first 2 chars>``    ``<term>#<kind>#<id>``
tag link                   ``TAG#<CONV|TICKET>#<tag>`` ``<conversation or ticket id>``
personal macro             ``MACRO#<id>``              ``~META`` (GSI1PK ``AGENT#<owner>#MACROS``)
data-protection request    ``PRIVACY#<request id>``    ``~META`` (``store/customer_data.py``)
=========================  ==========================  ===============================

Access patterns, each one request, none a Scan:

==========================================  =========================================================
pattern                                     served by
==========================================  =========================================================
conversation with its latest messages       Query PK=CONV#id, descending (``~META`` sorts after ``MSG#``)
messages newer than a cursor                Query PK=CONV#id, SK > MSG#<cursor>, ascending
ticket with its latest timeline             Query PK=TICKET#id, descending
a customer's conversations, newest first    Query ``by_customer`` GSI1PK=CUSTOMER#uid, GSI1SK begins_with CONV#, desc
a customer's tickets, newest first          Query ``by_customer`` GSI1PK=CUSTOMER#uid, GSI1SK begins_with TICKET#, desc
everything a visitor owns (to merge it)     Query ``by_customer`` GSI1PK=CUSTOMER#uid
inbox profile: the profile and its tickets  Query ``by_customer`` GSI1PK=CUSTOMER#uid, GSI1SK > TICKET#, desc
                                            (``~PROFILE`` first, then the tickets newest first)
inbox profile: the customer's conversations Query ``by_customer`` GSI1PK=CUSTOMER#uid, begins_with CONV#, desc
inbox: conversations of a team by status    Query ``by_team`` GSI2PK=TEAM#team#CONV#status, desc
inbox: tickets of a team by state category  Query ``by_team`` GSI2PK=TEAM#team#TICKET#category, desc
inbox: tickets by assignee (or unassigned)  Query ``by_assignee`` GSI3PK=ASSIGNEE#agent#TICKET, desc
inbox: tickets by type                      Query ``by_type`` GSI4PK=TYPE#type#TICKET, desc
inbox: conversations by assignee            Query ``by_assignee`` GSI3PK=ASSIGNEE#agent#CONV, desc
inbox: tickets of a team in one state       Query ``by_state`` GSI5PK=TEAM#team#STATE#type/state, desc
inbox: tickets of a team by priority        Query ``by_priority`` GSI6PK=TEAM#team#PRIORITY#p, desc
inbox: a team's open tickets by SLA due     Query ``by_sla_due`` GSI7PK=TEAM#team#OPEN, ascending
snoozed conversations due to wake, by day   Query ``by_wake`` GSI8PK=SNOOZED#<day>, GSI8SK <= now
parked workflows to heartbeat, by shard      Query ``by_wake`` GSI8PK=PARKED#<shard>, by ticket id
a team's agents and their availability      Query PK=TEAM#team, SK begins_with AGENT#
a tracker's linked tickets, a page at once  Query PK=TICKET#tracker, SK begins_with LINK#
tickets about an object (e.g. an order)     Query PK=OBJECT#order#id (inbound events from the business)
next ticket number                          UpdateItem ADD on the counter item (atomic)
live: the connections listening to a topic  Query ``by_customer`` GSI1PK=TOPIC#<topic> (the index is
                                            overloaded: subscriptions set GSI1 keys of their own)
live: a connection and its subscriptions    Query PK=LIVE#<connection id> (on disconnect, to delete them)
a customer's unread counters                Query PK=CUSTOMER#uid, SK begins_with UNREAD#
a team's first-reply times, last 7 days     Query PK=STATS#team, SK between FIRST_REPLY#<day> bounds
search: customers, tickets, conversations   Query PK=FIND#<q[:2]>, SK begins_with <q> (exact and prefix
  by a term starting with what was typed    lookups), then one BatchGetItem of what the keys name
inbox: conversations/tickets with a tag     Query PK=TAG#CONV#tag (or TAG#TICKET#tag), desc, then one
                                            BatchGetItem of the items (links are written and deleted in
                                            the transaction that changes the item's tags)
an agent's own macros                       Query ``by_customer`` GSI1PK=AGENT#agent#MACROS
a macro (to apply or delete it)             GetItem PK=MACRO#id (or in the apply's BatchGetItem)
==========================================  =========================================================

Search keys (``SearchKeyItem``, terms from ``domain/search_terms.py``) are written in the same
transaction as the customer profile, conversation or ticket they name: a customer's email, name,
phone digits and external id; a ticket's number, title words and attribute values (an order id); a
conversation's customer. The search reads what the keys name and keeps a hit only if the thing still
has a matching term (so a key left behind by an edit or an erasure finds nothing) and the agent may
read it. The search indexer (fed by the table's stream) deletes the keys an edit, erasure or removal
left behind. Words in messages are not keys: they are in the full-text index (``docs/search.md``).

The ``~META`` item sorts after its children, so "what is new since the cursor" and "the object
itself" come back from the same Query. Messages also carry their conversation's ``customer_id``,
so ownership can be checked from a page of messages alone.

The indexes are sparse: only items that set an index's key attributes appear in it.

Closed conversations and resolved tickets carry the TTL attribute (``expires_at``) from the workspace's
``retention`` settings; an export or erasure reads a customer through ``by_customer`` and their
conversations' and tickets' partitions (a worker's job, never a route's).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

TTL_ATTRIBUTE = "expires_at"


class _TableNameFromSettings(type):
    """PynamoDB reads ``Meta.table_name`` when it first makes a request: the settings are read then, not at import."""

    @property
    def table_name(cls) -> str:
        from helpdesk.settings import settings

        return settings().table_name


class _Index(GlobalSecondaryIndex[Any]):
    """Base for the table's GSIs: all attributes projected, so an index page needs no GetItem."""


def _gsi(number: int, name: str) -> _Index:
    """The table's ``number``-th index, ``name``: keyed on ``GSI<number>PK`` and ``GSI<number>SK``."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    keys = {
        f"gsi{number}pk": UnicodeAttribute(hash_key=True, attr_name=f"GSI{number}PK"),
        f"gsi{number}sk": UnicodeAttribute(range_key=True, attr_name=f"GSI{number}SK"),
    }
    index_class: type[_Index] = type(f"Gsi{number}Index", (_Index,), {"Meta": meta, **keys})
    return index_class()


class TableItem(Model):
    """Every item of the table; subclasses are chosen by ``kind`` when items are read back."""

    class Meta(metaclass=_TableNameFromSettings):
        region = None  # botocore's own resolution (AWS_REGION in Lambda), when the first client is made
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    kind = DiscriminatorAttribute(attr_name="kind")

    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
    gsi3pk = UnicodeAttribute(null=True, attr_name="GSI3PK")
    gsi3sk = UnicodeAttribute(null=True, attr_name="GSI3SK")
    gsi4pk = UnicodeAttribute(null=True, attr_name="GSI4PK")
    gsi4sk = UnicodeAttribute(null=True, attr_name="GSI4SK")
    gsi5pk = UnicodeAttribute(null=True, attr_name="GSI5PK")
    gsi5sk = UnicodeAttribute(null=True, attr_name="GSI5SK")
    gsi6pk = UnicodeAttribute(null=True, attr_name="GSI6PK")
    gsi6sk = UnicodeAttribute(null=True, attr_name="GSI6SK")
    gsi7pk = UnicodeAttribute(null=True, attr_name="GSI7PK")
    gsi7sk = UnicodeAttribute(null=True, attr_name="GSI7SK")
    gsi8pk = UnicodeAttribute(null=True, attr_name="GSI8PK")
    gsi8sk = UnicodeAttribute(null=True, attr_name="GSI8SK")

    by_customer = _gsi(1, "by_customer")
    by_team = _gsi(2, "by_team")
    by_assignee = _gsi(3, "by_assignee")
    by_type = _gsi(4, "by_type")
    by_state = _gsi(5, "by_state")
    by_priority = _gsi(6, "by_priority")
    by_sla_due = _gsi(7, "by_sla_due")
    by_wake = _gsi(8, "by_wake")


class CustomerItem(TableItem, discriminator="customer"):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    preferences = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class ConversationItem(TableItem, discriminator="conversation"):
    id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    customer_name = UnicodeAttribute(null=True)
    customer_email = UnicodeAttribute(null=True)
    customer_is_visitor = BooleanAttribute(default=False)
    verified_attributes = JSONAttribute(null=True)
    identity_verified_at = UTCDateTimeAttribute(null=True)
    status = UnicodeAttribute()
    team_id = UnicodeAttribute()
    assignee_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    context = JSONAttribute(null=True)
    preview = UnicodeAttribute(null=True)
    snoozed_until = UTCDateTimeAttribute(null=True)
    capsule = JSONAttribute(null=True)
    bot = JSONAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    email_subject = UnicodeAttribute(null=True)
    tags = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(null=True, attr_name=TTL_ATTRIBUTE)
    """Set while closed: the workspace's ``retention.closed_conversations_days`` after closing."""


class MessageItem(TableItem, discriminator="message"):
    id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    internal = BooleanAttribute(default=False)
    author_type = UnicodeAttribute()
    author_id = UnicodeAttribute(null=True)
    author_name = UnicodeAttribute(null=True)
    body = UnicodeAttribute()
    message_kind = UnicodeAttribute(default="text")
    attachments = JSONAttribute(null=True)
    mentions = JSONAttribute(null=True)
    options = JSONAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class TicketItem(TableItem, discriminator="ticket"):
    id = UnicodeAttribute()
    number = NumberAttribute()
    category = UnicodeAttribute(default="customer")
    linked_ticket_id = UnicodeAttribute(null=True)
    tracker_id = UnicodeAttribute(null=True)
    ticket_type_id = UnicodeAttribute()
    title = UnicodeAttribute()
    state_id = UnicodeAttribute()
    state_category = UnicodeAttribute()
    attributes = JSONAttribute()
    team_id = UnicodeAttribute()
    assignee_id = UnicodeAttribute(null=True)
    priority = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    customer_name = UnicodeAttribute(null=True)
    customer_email = UnicodeAttribute(null=True)
    conversation_id = UnicodeAttribute(null=True)
    context = JSONAttribute(null=True)
    verified_attributes = JSONAttribute(null=True)
    rating = JSONAttribute(null=True)
    capsule = JSONAttribute(null=True)
    sla_due_at = UTCDateTimeAttribute(null=True)
    sla = JSONAttribute(null=True)
    waiting_since = UTCDateTimeAttribute(null=True)
    reminded_at = UTCDateTimeAttribute(null=True)
    approval = JSONAttribute(null=True)
    workflow_token = UnicodeAttribute(null=True)
    workflow_version = NumberAttribute(null=True)
    tags = JSONAttribute(null=True)
    created_by_type = UnicodeAttribute()
    created_by_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    expires_at = TTLAttribute(null=True, attr_name=TTL_ATTRIBUTE)
    """Set while resolved: the workspace's ``retention.resolved_tickets_days`` after its last change."""


class TicketPartItem(TableItem, discriminator="ticket_part"):
    id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    part_type = UnicodeAttribute()
    author_type = UnicodeAttribute()
    author_id = UnicodeAttribute(null=True)
    author_name = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    changes = JSONAttribute(null=True)
    attachments = JSONAttribute(null=True)
    visible_to_customer = BooleanAttribute()
    created_at = UTCDateTimeAttribute()


class AttachmentItem(TableItem, discriminator="attachment"):
    id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    uploaded_by_type = UnicodeAttribute()
    uploaded_by_id = UnicodeAttribute(null=True)
    conversation_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class TrackerLinkItem(TableItem, discriminator="tracker_link"):
    """A customer ticket linked to a tracker: ``TICKET#<tracker>`` / ``LINK#<ticket id>``."""

    tracker_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class ObjectLinkItem(TableItem, discriminator="object_link"):
    """A ticket about an object of the business's (e.g. an order): ``OBJECT#<type>#<id>`` / ``TICKET#<id>``.

    Written with the ticket, so an event about the object (``OrderUpdated``) finds its tickets in one Query.
    """

    object_type = UnicodeAttribute()
    object_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class AgentItem(TableItem, discriminator="agent"):
    id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    teams = JSONAttribute(null=True)
    availability = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


class RosterItem(TableItem, discriminator="roster"):
    """An agent's entry in one team's roster, so a team's present agents are one Query away."""

    agent_id = UnicodeAttribute()
    team_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    availability = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


class SearchKeyItem(TableItem, discriminator="search_key"):
    """One term a customer, ticket or conversation is found by: ``FIND#<term[:2]>`` / ``<term>#<kind>#<id>``."""

    term = UnicodeAttribute()
    entity_kind = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    """A conversation's customer: it is found by its customer's terms, checked against their profile."""


class CounterItem(TableItem, discriminator="counter"):
    value = NumberAttribute(default=0)


# --- status-update deliveries (the notifier's ledger) ---------------------------------------------
#
# item                        PK                        SK
# status-update delivery      ``DELIVERY#<update id>``  ``<channel>`` (messenger, email, sms)
#
# Access patterns: claim/mark one (update, channel) with a conditional UpdateItem; read one with a
# GetItem when a claim is refused. Deliveries expire through the table's TTL.


class DeliveryItem(TableItem, discriminator="delivery"):
    """One channel's delivery of one status update: claimed (``sending``), ``sent``, ``failed`` or ``pending``."""

    update_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    claim_id = UnicodeAttribute(null=True)
    """Who holds the claim now: only they may hand it back."""
    lease_until = UTCDateTimeAttribute(null=True)
    """A ``sending`` claim older than this was abandoned (the worker died) and may be taken over."""
    attempts = NumberAttribute(default=0)
    message_id = UnicodeAttribute(null=True)
    """The in-messenger message's id, fixed by the first claim so every attempt writes the same message."""
    failure = UnicodeAttribute(null=True)
    """Why a ``failed`` delivery can't be made (an error code, never an address)."""
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


# The live channel's items, in a module of their own; imported here so that every item type is known
# (decoded from the table or its stream) wherever the table is.
import helpdesk.adapters.live_items  # noqa: E402
import helpdesk.adapters.privacy_items  # noqa: E402
import helpdesk.adapters.tag_items  # noqa: E402, F401
