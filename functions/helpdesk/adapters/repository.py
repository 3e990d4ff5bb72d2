"""Reads and writes the support domain's entities on the single table (see ``table.py`` for keys).

Every method is one DynamoDB request (GetItem, Query, UpdateItem or TransactWriteItems), except
where a failed conditional write has to find out why it failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from helpdesk.adapters.cursors import decode_cursor, encode_cursor
from helpdesk.adapters.table import (
    ConversationItem,
    CounterItem,
    CustomerItem,
    MessageItem,
    TableItem,
    TicketItem,
    TicketPartItem,
)
from helpdesk.domain.errors import NotFound, VersionConflict
from helpdesk.domain.models import (
    Author,
    AuthorType,
    ContextPackage,
    Conversation,
    ConversationStatus,
    Customer,
    Message,
    Page,
    PartType,
    Priority,
    Ticket,
    TicketPart,
)
from helpdesk.domain.workspace import StateCategory

META = "~META"
TICKET_NUMBER_COUNTER = "COUNTER#ticket-number"
UNASSIGNED = "unassigned"


class ConditionFailed(Exception):
    """A conditional write found the item not in the expected state."""


def conversation_pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def ticket_pk(ticket_id: str) -> str:
    return f"TICKET#{ticket_id}"


def _customer_conversations_key(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}#CONV"


def _customer_tickets_key(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}#TICKET"


def _team_conversations_key(team_id: str, status: str) -> str:
    return f"TEAM#{team_id}#CONV#{status}"


def _team_tickets_key(team_id: str, category: str) -> str:
    return f"TEAM#{team_id}#TICKET#{category}"


def _assignee_tickets_key(assignee_id: str | None) -> str:
    return f"ASSIGNEE#{assignee_id or UNASSIGNED}#TICKET"


def _type_tickets_key(ticket_type_id: str) -> str:
    return f"TYPE#{ticket_type_id}#TICKET"


def _is_condition_failure(error: TransactWriteError | UpdateError) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
        return True
    return error.cause_response_code in {"ConditionalCheckFailedException"}


# --- item <-> domain mapping ----------------------------------------------------------------------


def _author(author_type: str, author_id: str | None, author_name: str | None) -> Author:
    return Author(type=AuthorType(author_type), id=author_id, name=author_name)


def _conversation(item: ConversationItem) -> Conversation:
    return Conversation(
        id=item.id,
        customer_id=item.customer_id,
        customer_name=item.customer_name,
        customer_email=item.customer_email,
        status=ConversationStatus(item.status),
        team_id=item.team_id,
        assignee_id=item.assignee_id,
        ticket_id=item.ticket_id,
        context=ContextPackage.model_validate(item.context) if item.context else None,
        preview=item.preview,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _conversation_item(conversation: Conversation) -> ConversationItem:
    return ConversationItem(
        pk=conversation_pk(conversation.id),
        sk=META,
        id=conversation.id,
        customer_id=conversation.customer_id,
        customer_name=conversation.customer_name,
        customer_email=conversation.customer_email,
        status=conversation.status.value,
        team_id=conversation.team_id,
        assignee_id=conversation.assignee_id,
        ticket_id=conversation.ticket_id,
        context=conversation.context.model_dump(mode="json", exclude_none=True) if conversation.context else None,
        preview=conversation.preview,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        gsi1pk=_customer_conversations_key(conversation.customer_id),
        gsi1sk=conversation.id,
        gsi2pk=_team_conversations_key(conversation.team_id, conversation.status.value),
        gsi2sk=conversation.id,
    )


def _message(item: MessageItem) -> Message:
    return Message(
        id=item.id,
        conversation_id=item.conversation_id,
        author=_author(item.author_type, item.author_id, item.author_name),
        body=item.body,
        internal=bool(item.internal),
        created_at=item.created_at,
    )


def _message_item(message: Message, customer_id: str) -> MessageItem:
    return MessageItem(
        pk=conversation_pk(message.conversation_id),
        sk=f"MSG#{message.id}",
        id=message.id,
        conversation_id=message.conversation_id,
        customer_id=customer_id,
        internal=message.internal,
        author_type=message.author.type.value,
        author_id=message.author.id,
        author_name=message.author.name,
        body=message.body,
        created_at=message.created_at,
    )


def _ticket(item: TicketItem) -> Ticket:
    return Ticket(
        id=item.id,
        number=int(item.number),
        ticket_type_id=item.ticket_type_id,
        title=item.title,
        state_id=item.state_id,
        state_category=StateCategory(item.state_category),
        attributes=dict(item.attributes or {}),
        team_id=item.team_id,
        assignee_id=item.assignee_id,
        priority=Priority(item.priority),
        customer_id=item.customer_id,
        conversation_id=item.conversation_id,
        context=ContextPackage.model_validate(item.context) if item.context else None,
        created_by=_author(item.created_by_type, item.created_by_id, None),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
    )


def _ticket_item(ticket: Ticket) -> TicketItem:
    item = TicketItem(
        pk=ticket_pk(ticket.id),
        sk=META,
        id=ticket.id,
        number=ticket.number,
        ticket_type_id=ticket.ticket_type_id,
        title=ticket.title,
        state_id=ticket.state_id,
        state_category=ticket.state_category.value,
        attributes=ticket.attributes,
        team_id=ticket.team_id,
        assignee_id=ticket.assignee_id,
        priority=ticket.priority.value,
        customer_id=ticket.customer_id,
        conversation_id=ticket.conversation_id,
        context=ticket.context.model_dump(mode="json", exclude_none=True) if ticket.context else None,
        created_by_type=ticket.created_by.type.value,
        created_by_id=ticket.created_by.id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        gsi2pk=_team_tickets_key(ticket.team_id, ticket.state_category.value),
        gsi2sk=ticket.id,
        gsi3pk=_assignee_tickets_key(ticket.assignee_id),
        gsi3sk=ticket.id,
        gsi4pk=_type_tickets_key(ticket.ticket_type_id),
        gsi4sk=ticket.id,
    )
    if ticket.customer_id:
        item.gsi1pk = _customer_tickets_key(ticket.customer_id)
        item.gsi1sk = ticket.id
    return item


def _part(item: TicketPartItem) -> TicketPart:
    return TicketPart(
        id=item.id,
        ticket_id=item.ticket_id,
        type=PartType(item.part_type),
        author=_author(item.author_type, item.author_id, item.author_name),
        body=item.body,
        changes=item.changes,
        visible_to_customer=bool(item.visible_to_customer),
        created_at=item.created_at,
    )


def _part_item(part: TicketPart) -> TicketPartItem:
    return TicketPartItem(
        pk=ticket_pk(part.ticket_id),
        sk=f"PART#{part.id}",
        id=part.id,
        ticket_id=part.ticket_id,
        part_type=part.type.value,
        author_type=part.author.type.value,
        author_id=part.author.id,
        author_name=part.author.name,
        body=part.body,
        changes=part.changes,
        visible_to_customer=part.visible_to_customer,
        created_at=part.created_at,
    )


class TableRepository:
    """The services' only door to DynamoDB."""

    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    def _transaction(self) -> TransactWrite:
        if self._connection is None:
            meta = TableItem.Meta
            self._connection = Connection(region=meta.region, host=getattr(meta, "host", None))
        return TransactWrite(connection=self._connection)

    # --- customers and conversations -------------------------------------------------------------

    def start_conversation(self, customer: Customer, conversation: Conversation, message: Message) -> None:
        """Upsert the customer's profile, create the conversation and its first message, atomically."""
        profile = CustomerItem(pk=f"CUSTOMER#{customer.user_id}", sk="PROFILE")
        actions: list[Any] = [
            CustomerItem.kind.set(CustomerItem),
            CustomerItem.user_id.set(customer.user_id),
            CustomerItem.updated_at.set(conversation.created_at),
            CustomerItem.created_at.set(CustomerItem.created_at | conversation.created_at),
        ]
        if customer.email:
            actions.append(CustomerItem.email.set(customer.email))
        if customer.name:
            actions.append(CustomerItem.name.set(customer.name))
        with self._transaction() as transaction:
            transaction.update(profile, actions=actions)
            transaction.save(_conversation_item(conversation), condition=TableItem.pk.does_not_exist())
            transaction.save(_message_item(message, conversation.customer_id), condition=TableItem.pk.does_not_exist())

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        try:
            item = ConversationItem.get(conversation_pk(conversation_id), META)
        except DoesNotExist:
            return None
        return _conversation(item)

    def conversation_page(
        self, conversation_id: str, *, after: str | None, limit: int
    ) -> tuple[Conversation | None, list[Message], str | None, bool]:
        """One Query: the conversation and its latest ``limit`` messages, or those after ``after``.

        Returns (conversation or None if not in this page, messages oldest first, owner's customer
        id as seen on any item of the page, whether more messages follow).
        """
        pk = conversation_pk(conversation_id)
        if after is None:
            # Newest first: the ~META item comes first, then the latest messages.
            items = list(TableItem.query(pk, scan_index_forward=False, limit=limit + 2))
        else:
            items = list(TableItem.query(pk, TableItem.sk > f"MSG#{after}", limit=limit + 2))
        conversation = next((_conversation(i) for i in items if isinstance(i, ConversationItem)), None)
        message_items = [i for i in items if isinstance(i, MessageItem)]
        owner = conversation.customer_id if conversation else next((m.customer_id for m in message_items), None)
        has_more = len(message_items) > limit
        if after is None:
            message_items = list(reversed(message_items[:limit]))
        else:
            message_items = message_items[:limit]
        return conversation, [_message(m) for m in message_items], owner, has_more

    def add_message(
        self,
        customer_id: str,
        message: Message,
        *,
        preview: str | None,
        owner: str | None,
        must_be_open: bool,
    ) -> None:
        """Append a message and refresh the conversation's preview, in one transaction.

        ``owner``: the conversation must belong to this customer; ``must_be_open``: and be open.
        Raises ``ConditionFailed`` otherwise (or if the conversation doesn't exist).
        """
        guard = TableItem.pk.exists()
        if owner is not None:
            guard &= ConversationItem.customer_id == owner
        if must_be_open:
            guard &= ConversationItem.status == ConversationStatus.OPEN.value
        actions: list[Any] = [ConversationItem.updated_at.set(message.created_at)]
        if preview is not None:
            actions.append(ConversationItem.preview.set(preview))
        try:
            with self._transaction() as transaction:
                transaction.update(
                    ConversationItem(pk=conversation_pk(message.conversation_id), sk=META),
                    actions=actions,
                    condition=guard,
                )
                transaction.save(_message_item(message, customer_id), condition=TableItem.pk.does_not_exist())
        except TransactWriteError as error:
            if _is_condition_failure(error):
                raise ConditionFailed from error
            raise

    def list_customer_conversations(self, customer_id: str, *, cursor: str | None, limit: int) -> Page[Conversation]:
        return self._index_page(
            TableItem.by_customer, _customer_conversations_key(customer_id), cursor, limit, _conversation
        )

    def list_team_conversations(
        self, team_id: str, status: ConversationStatus, *, cursor: str | None, limit: int
    ) -> Page[Conversation]:
        return self._index_page(
            TableItem.by_team, _team_conversations_key(team_id, status.value), cursor, limit, _conversation
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
    ) -> None:
        """Create a ticket with its first timeline parts; link and notify its conversation atomically.

        Raises ``ConditionFailed`` if the conversation is gone or already has a ticket.
        """
        try:
            with self._transaction() as transaction:
                transaction.save(_ticket_item(ticket), condition=TableItem.pk.does_not_exist())
                for part in parts:
                    transaction.save(_part_item(part), condition=TableItem.pk.does_not_exist())
                if from_conversation is not None:
                    transaction.update(
                        ConversationItem(pk=conversation_pk(from_conversation.id), sk=META),
                        actions=[
                            ConversationItem.ticket_id.set(ticket.id),
                            ConversationItem.updated_at.set(ticket.created_at),
                            *(
                                [ConversationItem.preview.set(conversation_message.body)]
                                if conversation_message
                                else []
                            ),
                        ],
                        condition=TableItem.pk.exists() & ConversationItem.ticket_id.does_not_exist(),
                    )
                    if conversation_message is not None:
                        transaction.save(
                            _message_item(conversation_message, from_conversation.customer_id),
                            condition=TableItem.pk.does_not_exist(),
                        )
        except TransactWriteError as error:
            if _is_condition_failure(error):
                raise ConditionFailed from error
            raise

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        try:
            item = TicketItem.get(ticket_pk(ticket_id), META)
        except DoesNotExist:
            return None
        return _ticket(item)

    def ticket_page(
        self, ticket_id: str, *, before: str | None, limit: int
    ) -> tuple[Ticket | None, list[TicketPart], bool]:
        """One Query: the ticket and its latest ``limit`` timeline parts (oldest first in the result).

        With ``before`` (a part id) the page holds the parts older than it, and the ticket is
        fetched from the same Query only if no ``before`` is given.
        """
        pk = ticket_pk(ticket_id)
        if before is None:
            items = list(TableItem.query(pk, scan_index_forward=False, limit=limit + 2))
        else:
            items = list(
                TableItem.query(pk, TableItem.sk < f"PART#{before}", scan_index_forward=False, limit=limit + 1)
            )
            if not any(isinstance(i, TicketItem) for i in items):
                ticket = self.get_ticket(ticket_id)
                items = ([_ticket_item(ticket)] if ticket else []) + items
        ticket_item = next((i for i in items if isinstance(i, TicketItem)), None)
        parts = [i for i in items if isinstance(i, TicketPartItem)]
        has_more = len(parts) > limit
        return (
            _ticket(ticket_item) if ticket_item else None,
            [_part(p) for p in reversed(parts[:limit])],
            has_more,
        )

    def update_ticket(self, ticket: Ticket, *, based_on_version: int, parts: Iterable[TicketPart]) -> Ticket:
        """Write the ticket's new fields and timeline parts if it is still at ``based_on_version``.

        Raises ``VersionConflict`` (with the version now stored) when someone else got there first.
        """
        item = _ticket_item(ticket)
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
        ]
        actions.append(
            TicketItem.assignee_id.set(ticket.assignee_id) if ticket.assignee_id else TicketItem.assignee_id.remove()
        )
        try:
            with self._transaction() as transaction:
                transaction.update(item, actions=actions, condition=TableItem.pk.exists())
                for part in parts:
                    transaction.save(_part_item(part), condition=TableItem.pk.does_not_exist())
        except TransactWriteError as error:
            if not _is_condition_failure(error):
                raise
            current = self.get_ticket(ticket.id)
            if current is None:
                raise NotFound(f"ticket {ticket.id} not found") from error
            raise VersionConflict(
                f"ticket {ticket.id} was changed by someone else: it is at version {current.version}, "
                f"not {based_on_version}; reload it and apply your change again",
                current_version=current.version,
            ) from error
        return ticket.model_copy(update={"version": based_on_version + 1})

    def list_customer_tickets(self, customer_id: str, *, cursor: str | None, limit: int) -> Page[Ticket]:
        return self._index_page(TableItem.by_customer, _customer_tickets_key(customer_id), cursor, limit, _ticket)

    def list_team_tickets(
        self, team_id: str, category: StateCategory, *, cursor: str | None, limit: int
    ) -> Page[Ticket]:
        return self._index_page(TableItem.by_team, _team_tickets_key(team_id, category.value), cursor, limit, _ticket)

    def list_assignee_tickets(self, assignee_id: str | None, *, cursor: str | None, limit: int) -> Page[Ticket]:
        return self._index_page(TableItem.by_assignee, _assignee_tickets_key(assignee_id), cursor, limit, _ticket)

    def list_type_tickets(self, ticket_type_id: str, *, cursor: str | None, limit: int) -> Page[Ticket]:
        return self._index_page(TableItem.by_type, _type_tickets_key(ticket_type_id), cursor, limit, _ticket)

    # --- shared ----------------------------------------------------------------------------------

    @staticmethod
    def _index_page[T](index: Any, partition: str, cursor: str | None, limit: int, convert: Any) -> Page[T]:
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
        result = index.query(partition, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        items = [convert(item) for item in result]
        return Page[T](items=items, next_cursor=encode_cursor(result.last_evaluated_key))
