"""Reads and writes the support domain's entities on the single table (see ``table.py`` for keys).

Every method is one DynamoDB request (GetItem, Query, UpdateItem or TransactWriteItems), except
where a failed conditional write has to find out why it failed, and the visitor merge, which
rewrites one page of a visitor's items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.cursors import decode_cursor, encode_cursor
from helpdesk.adapters.mapping import META, conversation_pk, ticket_pk
from helpdesk.adapters.table import (
    AgentItem,
    AttachmentItem,
    ConversationItem,
    CounterItem,
    CustomerItem,
    MessageItem,
    ObjectLinkItem,
    RosterItem,
    TableItem,
    TicketItem,
    TicketPartItem,
    TrackerLinkItem,
)
from helpdesk.domain.errors import NotFound, VersionConflict
from helpdesk.domain.models import (
    Agent,
    Attachment,
    AuthorType,
    Availability,
    Conversation,
    ConversationStatus,
    Customer,
    Message,
    NotificationPreferences,
    Page,
    Rating,
    Ticket,
    TicketCategory,
    TicketPart,
    TicketView,
    utc_now,
)
from helpdesk.domain.workspace import StateCategory

TICKET_NUMBER_COUNTER = "COUNTER#ticket-number"
MAX_TRANSACTION_ITEMS = 100
MAX_MERGED_ITEMS = 50


class ConditionFailed(Exception):
    """A conditional write found the item not in the expected state."""


def _is_condition_failure(error: TransactWriteError | UpdateError) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
        return True
    return error.cause_response_code in {"ConditionalCheckFailedException"}


def _version_bumping(pk: str, sk: str) -> TicketItem:
    """A ticket to update without reading it first (``add_version_condition=False``) whose version still
    moves on by one: PynamoDB *adds* 1 to a set version, but *sets* 1 when the model's version is None."""
    return TicketItem(pk=pk, sk=sk, version=0)


MAX_OBJECT_LINKS = 10
"""A ticket links at most this many objects (each is an item in the ticket's creating transaction)."""


class TableRepository:
    """The services' only door to DynamoDB."""

    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    def _transaction(self) -> TransactWrite:
        if self._connection is None:
            meta = TableItem.Meta
            self._connection = Connection(region=meta.region, host=getattr(meta, "host", None))
        return TransactWrite(connection=self._connection)

    def _write(self, build: Any) -> None:
        """Run ``build(transaction)`` as one transaction; a failed condition becomes ``ConditionFailed``."""
        try:
            with self._transaction() as transaction:
                build(transaction)
        except TransactWriteError as error:
            if _is_condition_failure(error):
                raise ConditionFailed from error
            raise

    # --- customers -------------------------------------------------------------------------------

    def get_customer(self, user_id: str) -> Customer | None:
        try:
            item = CustomerItem.get(mapping.customer_pk(user_id), "PROFILE")
        except DoesNotExist:
            return None
        return Customer(
            user_id=item.user_id,
            email=item.email,
            name=item.name,
            phone=item.phone,
            preferences=NotificationPreferences.model_validate(item.preferences or {}),
        )

    def _customer_upsert(self, customer: Customer, at: Any) -> tuple[CustomerItem, list[Any]]:
        profile = CustomerItem(pk=mapping.customer_pk(customer.user_id), sk="PROFILE")
        actions: list[Any] = [
            CustomerItem.kind.set(CustomerItem),
            CustomerItem.user_id.set(customer.user_id),
            CustomerItem.updated_at.set(at),
            CustomerItem.created_at.set(CustomerItem.created_at | at),
        ]
        for attribute, value in (
            (CustomerItem.email, customer.email),
            (CustomerItem.name, customer.name),
            (CustomerItem.phone, customer.phone),
        ):
            if value:
                actions.append(attribute.set(value))
        return profile, actions

    def save_preferences(self, customer: Customer) -> None:
        profile, actions = self._customer_upsert(customer, utc_now())
        actions.append(CustomerItem.preferences.set(customer.preferences.model_dump()))
        profile.update(actions=actions)

    # --- agents ----------------------------------------------------------------------------------

    def get_agent(self, agent_id: str) -> Agent | None:
        try:
            item = AgentItem.get(mapping.agent_pk(agent_id), "PROFILE")
        except DoesNotExist:
            return None
        return Agent(
            id=item.id,
            name=item.name,
            email=item.email,
            teams=list(item.teams or []),
            availability=Availability(item.availability),
            updated_at=item.updated_at,
        )

    def save_agent(self, agent: Agent, *, left_teams: Iterable[str] = ()) -> None:
        """The agent's profile and their entry in each of their teams' rosters, atomically."""

        def build(transaction: TransactWrite) -> None:
            transaction.save(
                AgentItem(
                    pk=mapping.agent_pk(agent.id),
                    sk="PROFILE",
                    id=agent.id,
                    name=agent.name,
                    email=agent.email,
                    teams=agent.teams,
                    availability=agent.availability.value,
                    updated_at=agent.updated_at,
                )
            )
            for team_id in agent.teams:
                transaction.save(
                    RosterItem(
                        pk=mapping.roster_pk(team_id),
                        sk=f"AGENT#{agent.id}",
                        agent_id=agent.id,
                        team_id=team_id,
                        name=agent.name,
                        availability=agent.availability.value,
                        updated_at=agent.updated_at,
                    )
                )
            for team_id in left_teams:
                transaction.delete(RosterItem(pk=mapping.roster_pk(team_id), sk=f"AGENT#{agent.id}"))

        self._write(build)

    def team_roster(self, team_id: str) -> list[Agent]:
        entries = RosterItem.query(mapping.roster_pk(team_id), TableItem.sk.startswith("AGENT#"), limit=200)
        return [
            Agent(
                id=e.agent_id,
                name=e.name,
                teams=[team_id],
                availability=Availability(e.availability),
                updated_at=e.updated_at,
            )
            for e in entries
            if isinstance(e, RosterItem)
        ]

    # --- conversations ---------------------------------------------------------------------------

    def start_conversation(
        self, customer: Customer, conversation: Conversation, message: Message, replies: Sequence[Message] = ()
    ) -> None:
        """Upsert the customer's profile, create the conversation, its first message and the bot's
        replies to it, atomically."""
        profile, actions = self._customer_upsert(customer, conversation.created_at)

        def build(transaction: TransactWrite) -> None:
            transaction.update(profile, actions=actions)
            transaction.save(mapping.conversation_item(conversation), condition=TableItem.pk.does_not_exist())
            for each in (message, *replies):
                transaction.save(
                    mapping.message_item(each, conversation.customer_id), condition=TableItem.pk.does_not_exist()
                )
            for ref in message.attachments:
                self._link_attachment(
                    transaction, ref.id, conversation.customer_id, conversation_id=conversation.id, ticket_id=None
                )

        self._write(build)

    def save_bot_turn(self, before: Conversation, after: Conversation, messages: Sequence[Message]) -> None:
        """The customer's message, the bot's replies and the bot's new state, in one transaction.

        Optimistic: fails with ``ConditionFailed`` if anything changed the conversation since
        ``before`` was read (every write to a conversation moves its ``updated_at``), so two
        messages sent at once can't both advance the bot from the same step.
        """
        guard = (
            TableItem.pk.exists()
            & (ConversationItem.customer_id == before.customer_id)
            & (ConversationItem.updated_at == before.updated_at)
        )

        def build(transaction: TransactWrite) -> None:
            transaction.save(mapping.conversation_item(after), condition=guard)
            for message in messages:
                transaction.save(
                    mapping.message_item(message, after.customer_id), condition=TableItem.pk.does_not_exist()
                )
                if message.author.type is AuthorType.CUSTOMER:
                    for ref in message.attachments:
                        self._link_attachment(
                            transaction, ref.id, after.customer_id, conversation_id=after.id, ticket_id=None
                        )

        self._write(build)

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        try:
            item = ConversationItem.get(conversation_pk(conversation_id), META)
        except DoesNotExist:
            return None
        return mapping.conversation_from_item(item)

    def conversation_page(
        self, conversation_id: str, *, after: str | None, limit: int
    ) -> tuple[Conversation | None, list[Message], bool]:
        """One Query: the conversation and its latest ``limit`` messages, or those after ``after``.

        The conversation item sorts after every message, so it is in the page unless more than
        ``limit`` messages are newer than the cursor. Returns (conversation if in the page,
        messages oldest first, whether more messages follow).
        """
        pk = conversation_pk(conversation_id)
        if after is None:
            items = list(TableItem.query(pk, scan_index_forward=False, limit=limit + 2))
        else:
            items = list(TableItem.query(pk, TableItem.sk > f"MSG#{after}", limit=limit + 2))
        conversation = next((i for i in items if isinstance(i, ConversationItem)), None)
        message_items = [i for i in items if isinstance(i, MessageItem)]
        has_more = len(message_items) > limit
        message_items = list(reversed(message_items[:limit])) if after is None else message_items[:limit]
        return (
            mapping.conversation_from_item(conversation) if conversation else None,
            [mapping.message_from_item(m) for m in message_items],
            has_more,
        )

    def add_message(
        self,
        customer_id: str,
        message: Message,
        *,
        preview: str | None,
        owner: str | None,
        must_be_open: bool,
        ticket_part: TicketPart | None = None,
    ) -> None:
        """Append a message and refresh the conversation's preview, in one transaction.

        ``owner``: the conversation must belong to this customer; ``must_be_open``: and be open.
        Attachments named by the message are linked to the conversation (and must be the
        customer's and not yet used); ``ticket_part`` records them on the linked ticket.
        Raises ``ConditionFailed`` if any of that doesn't hold.
        """
        guard = TableItem.pk.exists()
        if owner is not None:
            guard &= ConversationItem.customer_id == owner
        if must_be_open:
            guard &= ConversationItem.status.is_in(ConversationStatus.OPEN.value, ConversationStatus.BOT.value)
        actions: list[Any] = [ConversationItem.updated_at.set(message.created_at)]
        if preview is not None:
            actions.append(ConversationItem.preview.set(preview))

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                ConversationItem(pk=conversation_pk(message.conversation_id), sk=META), actions=actions, condition=guard
            )
            transaction.save(mapping.message_item(message, customer_id), condition=TableItem.pk.does_not_exist())
            for ref in message.attachments:
                self._link_attachment(
                    transaction,
                    ref.id,
                    customer_id,
                    conversation_id=message.conversation_id,
                    ticket_id=ticket_part.ticket_id if ticket_part else None,
                )
            if ticket_part is not None:
                transaction.save(mapping.part_item(ticket_part), condition=TableItem.pk.does_not_exist())

        self._write(build)

    def set_conversation_status(
        self,
        conversation: Conversation,
        status: ConversationStatus,
        owner: str | None,
        message: Message | None = None,
        *,
        only_if_snoozed_until: Any = None,
    ) -> None:
        """Open, snooze (until ``conversation.snoozed_until``) or close; moves it between inbox views."""
        guard = TableItem.pk.exists()
        if owner is not None:
            guard &= ConversationItem.customer_id == owner
        if only_if_snoozed_until is not None:  # nobody reopened or re-snoozed it meanwhile
            guard &= (ConversationItem.status == ConversationStatus.SNOOZED.value) & (
                ConversationItem.snoozed_until == only_if_snoozed_until
            )
        actions: list[Any] = [
            ConversationItem.status.set(status.value),
            ConversationItem.gsi2pk.set(mapping.team_conversations_key(conversation.team_id, status.value)),
            ConversationItem.updated_at.set(utc_now()),
            ConversationItem.snoozed_until.set(conversation.snoozed_until)
            if status is ConversationStatus.SNOOZED and conversation.snoozed_until
            else ConversationItem.snoozed_until.remove(),
        ]
        wake = mapping.wake_keys(conversation.model_copy(update={"status": status}))
        if wake is not None:
            actions += [ConversationItem.gsi8pk.set(wake[0]), ConversationItem.gsi8sk.set(wake[1])]
        else:
            actions += [ConversationItem.gsi8pk.remove(), ConversationItem.gsi8sk.remove()]

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                ConversationItem(pk=conversation_pk(conversation.id), sk=META), actions=actions, condition=guard
            )
            if message is not None:
                transaction.save(
                    mapping.message_item(message, conversation.customer_id), condition=TableItem.pk.does_not_exist()
                )

        self._write(build)

    def conversations_due_to_wake(self, now: Any, *, days_back: int = 7, limit: int = 100) -> list[Conversation]:
        """Snoozed conversations whose time has come, from today's and the last few days' partitions."""
        due: list[Conversation] = []
        cutoff = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "~"
        for back in range(days_back + 1):
            day = (now - timedelta(days=back)).astimezone(UTC).strftime("%Y-%m-%d")
            for item in TableItem.by_wake.query(f"SNOOZED#{day}", TableItem.gsi8sk <= cutoff, limit=limit):
                if isinstance(item, ConversationItem):
                    due.append(mapping.conversation_from_item(item))
        return due[:limit]

    def assign_conversation(self, conversation: Conversation, message: Message) -> None:
        """Move the conversation to ``team_id``/``assignee_id`` (and its capsule), with a timeline message."""
        actions: list[Any] = [
            ConversationItem.team_id.set(conversation.team_id),
            ConversationItem.gsi2pk.set(
                mapping.team_conversations_key(conversation.team_id, conversation.status.value)
            ),
            ConversationItem.gsi3pk.set(mapping.assignee_conversations_key(conversation.assignee_id)),
            ConversationItem.gsi3sk.set(conversation.id),
            ConversationItem.updated_at.set(message.created_at),
            ConversationItem.assignee_id.set(conversation.assignee_id)
            if conversation.assignee_id
            else ConversationItem.assignee_id.remove(),
        ]
        if conversation.capsule is not None:
            actions.append(ConversationItem.capsule.set(conversation.capsule.model_dump(mode="json")))

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                ConversationItem(pk=conversation_pk(conversation.id), sk=META),
                actions=actions,
                condition=TableItem.pk.exists(),
            )
            transaction.save(
                mapping.message_item(message, conversation.customer_id), condition=TableItem.pk.does_not_exist()
            )

        self._write(build)

    def list_assignee_conversations(
        self, assignee_id: str | None, *, cursor: str | None, limit: int, oldest_first: bool = False
    ) -> Page[Conversation]:
        return self._index_page(
            TableItem.by_assignee,
            mapping.assignee_conversations_key(assignee_id),
            cursor,
            limit,
            mapping.conversation_from_item,
            oldest_first=oldest_first,
        )

    def record_verification(self, conversation_id: str, owner: str, message: Message) -> None:
        """Mark the conversation's customer as verified in-app, with a message agents see."""

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                ConversationItem(pk=conversation_pk(conversation_id), sk=META),
                actions=[
                    ConversationItem.identity_verified_at.set(message.created_at),
                    ConversationItem.updated_at.set(message.created_at),
                ],
                condition=TableItem.pk.exists() & (ConversationItem.customer_id == owner),
            )
            transaction.save(mapping.message_item(message, owner), condition=TableItem.pk.does_not_exist())

        self._write(build)

    def merge_visitor(self, visitor_id: str, customer: Customer) -> int:
        """Hand a visitor's conversations and tickets over to the customer they turned out to be.

        Moves up to ``MAX_MERGED_ITEMS`` of each per call, atomically; returns how many moved.
        """
        conversations = list(
            TableItem.by_customer.query(mapping.customer_conversations_key(visitor_id), limit=MAX_MERGED_ITEMS)
        )
        tickets = list(TableItem.by_customer.query(mapping.customer_tickets_key(visitor_id), limit=MAX_MERGED_ITEMS))
        if not conversations and not tickets:
            return 0
        profile, profile_actions = self._customer_upsert(customer, utc_now())

        def build(transaction: TransactWrite) -> None:
            transaction.update(profile, actions=profile_actions)
            owned_by_visitor = ConversationItem.customer_id == visitor_id
            for item in conversations:
                actions: list[Any] = [
                    ConversationItem.customer_id.set(customer.user_id),
                    ConversationItem.customer_is_visitor.set(False),
                    ConversationItem.gsi1pk.set(mapping.customer_conversations_key(customer.user_id)),
                ]
                actions += [ConversationItem.customer_name.set(customer.name)] if customer.name else []
                actions += [ConversationItem.customer_email.set(customer.email)] if customer.email else []
                transaction.update(
                    ConversationItem(pk=item.pk, sk=item.sk), actions=actions, condition=owned_by_visitor
                )
            for item in tickets:
                transaction.update(
                    _version_bumping(item.pk, item.sk),
                    actions=[
                        TicketItem.customer_id.set(customer.user_id),
                        TicketItem.gsi1pk.set(mapping.customer_tickets_key(customer.user_id)),
                    ],
                    condition=TicketItem.customer_id == visitor_id,
                    add_version_condition=False,
                )

        self._write(build)
        return len(conversations) + len(tickets)

    def list_customer_conversations(self, customer_id: str, *, cursor: str | None, limit: int) -> Page[Conversation]:
        return self._index_page(
            TableItem.by_customer,
            mapping.customer_conversations_key(customer_id),
            cursor,
            limit,
            mapping.conversation_from_item,
        )

    def list_team_conversations(
        self, team_id: str, status: ConversationStatus, *, cursor: str | None, limit: int, oldest_first: bool = False
    ) -> Page[Conversation]:
        return self._index_page(
            TableItem.by_team,
            mapping.team_conversations_key(team_id, status.value),
            cursor,
            limit,
            mapping.conversation_from_item,
            oldest_first=oldest_first,
        )

    # --- attachments -----------------------------------------------------------------------------

    def create_attachment(self, attachment: Attachment) -> None:
        mapping.attachment_item(attachment).save(condition=TableItem.pk.does_not_exist())

    def get_attachment(self, attachment_id: str) -> Attachment | None:
        try:
            item = AttachmentItem.get(mapping.attachment_pk(attachment_id), META)
        except DoesNotExist:
            return None
        return mapping.attachment_from_item(item)

    def get_attachments(self, attachment_ids: Sequence[str]) -> list[Attachment]:
        keys = [(mapping.attachment_pk(i), META) for i in dict.fromkeys(attachment_ids)]
        found = [i for i in AttachmentItem.batch_get(keys) if isinstance(i, AttachmentItem)]
        return [mapping.attachment_from_item(i) for i in found]

    @staticmethod
    def _link_attachment(
        transaction: TransactWrite,
        attachment_id: str,
        customer_id: str,
        *,
        conversation_id: str | None,
        ticket_id: str | None,
    ) -> None:
        """An attachment is used once, by the customer it was uploaded for."""
        actions: list[Any] = []
        if conversation_id:
            actions.append(AttachmentItem.conversation_id.set(conversation_id))
        if ticket_id:
            actions.append(AttachmentItem.ticket_id.set(ticket_id))
        transaction.update(
            AttachmentItem(pk=mapping.attachment_pk(attachment_id), sk=META),
            actions=actions,
            condition=(
                TableItem.pk.exists()
                & (AttachmentItem.customer_id == customer_id)
                & AttachmentItem.conversation_id.does_not_exist()
                & AttachmentItem.ticket_id.does_not_exist()
            ),
        )

    # --- tickets ---------------------------------------------------------------------------------

    def next_ticket_number(self) -> int:
        counter = CounterItem(pk=TICKET_NUMBER_COUNTER, sk="COUNTER")
        counter.update(actions=[CounterItem.value.add(1), CounterItem.kind.set(CounterItem)])
        return int(counter.value)

    def create_ticket(
        self,
        ticket: Ticket,
        parts: Sequence[TicketPart],
        *,
        from_conversation: Conversation | None = None,
        conversation_message: Message | None = None,
        conversation_status: ConversationStatus | None = None,
    ) -> None:
        """Create a ticket with its first timeline parts; link and notify its conversation atomically.

        Raises ``ConditionFailed`` if the conversation is gone or already has a ticket.
        """

        def build(transaction: TransactWrite) -> None:
            transaction.save(mapping.ticket_item(ticket), condition=TableItem.pk.does_not_exist())
            for part in parts:
                transaction.save(mapping.part_item(part), condition=TableItem.pk.does_not_exist())
            for object_type, object_id in sorted(mapping.ticket_objects(ticket))[:MAX_OBJECT_LINKS]:
                transaction.save(
                    ObjectLinkItem(
                        pk=mapping.object_pk(object_type, object_id),
                        sk=mapping.ticket_pk(ticket.id),
                        object_type=object_type,
                        object_id=object_id,
                        ticket_id=ticket.id,
                        created_at=ticket.created_at,
                    )
                )
            if from_conversation is None:
                return
            actions: list[Any] = [
                ConversationItem.ticket_id.set(ticket.id),
                ConversationItem.updated_at.set(ticket.created_at),
            ]
            if conversation_message is not None:
                actions.append(ConversationItem.preview.set(conversation_message.body))
            if conversation_status is not None:
                actions += [
                    ConversationItem.status.set(conversation_status.value),
                    ConversationItem.gsi2pk.set(
                        mapping.team_conversations_key(from_conversation.team_id, conversation_status.value)
                    ),
                ]
            transaction.update(
                ConversationItem(pk=conversation_pk(from_conversation.id), sk=META),
                actions=actions,
                condition=TableItem.pk.exists() & ConversationItem.ticket_id.does_not_exist(),
            )
            if conversation_message is not None:
                transaction.save(
                    mapping.message_item(conversation_message, from_conversation.customer_id),
                    condition=TableItem.pk.does_not_exist(),
                )

        self._write(build)

    def tickets_about(self, object_type: str, object_id: str, *, limit: int = 100) -> list[str]:
        """The ids of the tickets about one of the business's objects (e.g. an order), oldest first."""
        items = ObjectLinkItem.query(mapping.object_pk(object_type, object_id), limit=limit)
        return [i.ticket_id for i in items if isinstance(i, ObjectLinkItem)]

    def add_ticket_part(self, part: TicketPart) -> bool:
        """Append a part that changes nothing else on the ticket; False if that part is already there."""
        try:
            mapping.part_item(part).save(condition=TableItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        try:
            item = TicketItem.get(ticket_pk(ticket_id), META)
        except DoesNotExist:
            return None
        return mapping.ticket_from_item(item)

    def ticket_page(
        self, ticket_id: str, *, before: str | None, limit: int
    ) -> tuple[Ticket | None, list[TicketPart], bool]:
        """The ticket and its latest ``limit`` timeline parts (oldest first): one Query.

        With ``before`` (a part id) the page holds the parts older than it; the ticket item then
        comes from a GetItem.
        """
        pk = ticket_pk(ticket_id)
        ticket: Ticket | None
        if before is None:
            items = list(TableItem.query(pk, scan_index_forward=False, limit=limit + 2))
            ticket_item = next((i for i in items if isinstance(i, TicketItem)), None)
            ticket = mapping.ticket_from_item(ticket_item) if ticket_item else None
        else:
            items = list(
                TableItem.query(pk, TableItem.sk < f"PART#{before}", scan_index_forward=False, limit=limit + 1)
            )
            ticket = self.get_ticket(ticket_id)
        parts = [i for i in items if isinstance(i, TicketPartItem)]
        has_more = len(parts) > limit
        return ticket, [mapping.part_from_item(p) for p in reversed(parts[:limit])], has_more

    def update_ticket(
        self,
        ticket: Ticket,
        *,
        based_on_version: int,
        parts: Iterable[TicketPart],
        attachment_owner: str | None = None,
    ) -> Ticket:
        """Write the ticket's new fields and timeline parts if it is still at ``based_on_version``.

        Raises ``VersionConflict`` (with the version now stored) when someone else got there first.
        """
        item = mapping.ticket_item(ticket)
        item.version = based_on_version
        actions: list[Any] = [
            TicketItem.state_id.set(ticket.state_id),
            TicketItem.state_category.set(ticket.state_category.value),
            TicketItem.attributes.set(ticket.attributes),
            TicketItem.team_id.set(ticket.team_id),
            TicketItem.priority.set(ticket.priority.value),
            TicketItem.title.set(ticket.title),
            TicketItem.updated_at.set(ticket.updated_at),
            TicketItem.gsi2pk.set(item.gsi2pk),
            TicketItem.gsi3pk.set(item.gsi3pk),
            TicketItem.gsi5pk.set(item.gsi5pk),
            TicketItem.gsi6pk.set(item.gsi6pk),
            TicketItem.assignee_id.set(ticket.assignee_id) if ticket.assignee_id else TicketItem.assignee_id.remove(),
        ]
        if ticket.capsule is not None:
            actions.append(TicketItem.capsule.set(ticket.capsule.model_dump(mode="json")))
        for attribute, value in (
            (TicketItem.sla, item.sla),
            (TicketItem.sla_due_at, ticket.sla_due_at),
            (TicketItem.waiting_since, ticket.waiting_since),
            (TicketItem.reminded_at, ticket.reminded_at),
            (TicketItem.approval, item.approval),
        ):
            actions.append(attribute.set(value) if value is not None else attribute.remove())
        if item.gsi7pk is not None and item.gsi7sk is not None:
            actions += [TicketItem.gsi7pk.set(item.gsi7pk), TicketItem.gsi7sk.set(item.gsi7sk)]
        else:
            actions += [TicketItem.gsi7pk.remove(), TicketItem.gsi7sk.remove()]
        parts = list(parts)

        def build(transaction: TransactWrite) -> None:
            transaction.update(item, actions=actions, condition=TableItem.pk.exists())
            for part in parts:
                transaction.save(mapping.part_item(part), condition=TableItem.pk.does_not_exist())
                owner = attachment_owner or ticket.customer_id
                for ref in part.attachments:
                    if owner:
                        self._link_attachment(transaction, ref.id, owner, conversation_id=None, ticket_id=ticket.id)

        try:
            self._write(build)
        except ConditionFailed as failure:
            current = self.get_ticket(ticket.id)
            if current is None:
                raise NotFound(f"ticket {ticket.id} not found") from failure
            if current.version == based_on_version:
                raise  # the ticket didn't move: an attachment condition failed
            raise VersionConflict(
                f"ticket {ticket.id} was changed by someone else: it is at version {current.version}, "
                f"not {based_on_version}; reload it and apply your change again",
                current_version=current.version,
            ) from failure
        return ticket.model_copy(update={"version": based_on_version + 1})

    def rate_ticket(self, ticket_id: str, customer_id: str, rating: Rating, part: TicketPart) -> None:
        """Record the customer's rating, once, on a resolved ticket of theirs."""

        rated = _version_bumping(ticket_pk(ticket_id), META)

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                rated,
                actions=[TicketItem.rating.set(rating.model_dump(mode="json"))],
                condition=(
                    TableItem.pk.exists()
                    & (TicketItem.customer_id == customer_id)
                    & (TicketItem.state_category == StateCategory.RESOLVED.value)
                    & TicketItem.rating.does_not_exist()
                ),
                add_version_condition=False,
            )
            transaction.save(mapping.part_item(part), condition=TableItem.pk.does_not_exist())

        self._write(build)

    def link_to_tracker(self, tracker_id: str, ticket_ids: Sequence[str], at: Any) -> None:
        """Link customer tickets to a tracker, atomically; each ticket can follow one tracker."""

        def build(transaction: TransactWrite) -> None:
            for ticket_id in ticket_ids:
                transaction.save(
                    TrackerLinkItem(
                        pk=ticket_pk(tracker_id),
                        sk=f"LINK#{ticket_id}",
                        tracker_id=tracker_id,
                        ticket_id=ticket_id,
                        created_at=at,
                    ),
                    condition=TableItem.pk.does_not_exist(),
                )
                transaction.update(
                    _version_bumping(ticket_pk(ticket_id), META),
                    actions=[TicketItem.tracker_id.set(tracker_id)],
                    condition=TableItem.pk.exists()
                    & (TicketItem.category == TicketCategory.CUSTOMER.value)
                    & TicketItem.tracker_id.does_not_exist(),
                    add_version_condition=False,
                )

        self._write(build)

    def tracker_links(self, tracker_id: str, *, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        """One page of the tickets linked to a tracker, and the cursor of the next."""
        pk = ticket_pk(tracker_id)
        start = decode_cursor(cursor, key_attributes={"PK", "SK"}, expected={"PK": pk}) if cursor else None
        result = TrackerLinkItem.query(pk, TableItem.sk.startswith("LINK#"), limit=limit, last_evaluated_key=start)
        ticket_ids = [item.ticket_id for item in result if isinstance(item, TrackerLinkItem)]
        return ticket_ids, encode_cursor(result.last_evaluated_key)

    def has_part(self, ticket_id: str, part_id: str) -> bool:
        try:
            TicketPartItem.get(ticket_pk(ticket_id), f"PART#{part_id}")
        except DoesNotExist:
            return False
        return True

    def list_customer_tickets(self, customer_id: str, *, cursor: str | None, limit: int) -> Page[Ticket]:
        return self._index_page(
            TableItem.by_customer, mapping.customer_tickets_key(customer_id), cursor, limit, mapping.ticket_from_item
        )

    def list_tickets_in_view(
        self, view: TicketView, *, cursor: str | None, limit: int, oldest_first: bool = False
    ) -> Page[Ticket]:
        """One inbox view of tickets, one Query per page."""
        index: Any
        match view.kind:
            case "team_category":
                index, partition = TableItem.by_team, mapping.team_tickets_key(view.team_id, view.value)
            case "assignee":
                index, partition = TableItem.by_assignee, mapping.assignee_tickets_key(view.value or None)
            case "type":
                index, partition = TableItem.by_type, mapping.type_tickets_key(view.value)
            case "state":
                index = TableItem.by_state
                partition = mapping.state_tickets_key(view.team_id, view.ticket_type_id, view.value)
            case "priority":
                index, partition = TableItem.by_priority, mapping.priority_tickets_key(view.team_id, view.value)
            case "sla_due":
                index, partition = TableItem.by_sla_due, mapping.sla_due_tickets_key(view.team_id)
                oldest_first = True  # soonest deadline first
        return self._index_page(index, partition, cursor, limit, mapping.ticket_from_item, oldest_first=oldest_first)

    # --- shared ----------------------------------------------------------------------------------

    @staticmethod
    def _index_page[T](
        index: Any, partition: str, cursor: str | None, limit: int, convert: Any, *, oldest_first: bool = False
    ) -> Page[T]:
        keys = index.Meta.attributes.values()
        hash_attribute = next(a for a in keys if a.is_hash_key).attr_name
        range_attribute = next(a for a in keys if a.is_range_key).attr_name
        start = (
            decode_cursor(
                cursor,
                key_attributes={"PK", "SK", hash_attribute, range_attribute},
                expected={hash_attribute: partition},
            )
            if cursor
            else None
        )
        result = index.query(partition, scan_index_forward=oldest_first, limit=limit, last_evaluated_key=start)
        items = [convert(item) for item in result]
        return Page[T](items=items, next_cursor=encode_cursor(result.last_evaluated_key))
