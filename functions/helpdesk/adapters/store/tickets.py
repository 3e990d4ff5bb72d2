"""Tickets and their timelines; ticket numbers; inbox views of tickets; the objects tickets are about."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.mapping import META, conversation_pk, ticket_pk
from helpdesk.adapters.store.base import TableStore, failed_item, version_bumping
from helpdesk.adapters.store.tags import link_changes
from helpdesk.adapters.table import (
    AttachmentItem,
    ConversationItem,
    CounterItem,
    ObjectLinkItem,
    TableItem,
    TicketItem,
    TicketPartItem,
)
from helpdesk.domain.errors import ConditionFailed, NotFound, TicketNumberTaken, VersionConflict
from helpdesk.domain.models import (
    Attachment,
    Conversation,
    ConversationStatus,
    Message,
    Page,
    Rating,
    Ticket,
    TicketPart,
    TicketView,
)
from helpdesk.domain.workspace import StateCategory

TICKET_NUMBER_COUNTER = "COUNTER#ticket-number"
TICKET_NUMBER_KEY = (TICKET_NUMBER_COUNTER, "COUNTER")
MAX_OBJECT_LINKS = 10
"""A ticket links at most this many objects (each is an item in the ticket's creating transaction)."""


class TicketTable(TableStore):
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
        claims_number: bool = False,
    ) -> None:
        """Create a ticket with its first timeline parts; link and notify its conversation atomically.

        ``claims_number``: the ticket's number is the counter's next, claimed in this transaction (the
        counter must still be at the number before it: read with ``read_for_conversion``). Raises
        ``TicketNumberTaken`` if another ticket got that number first, ``ConditionFailed`` if the
        conversation is gone or already has a ticket.
        """

        def build(transaction: TransactWrite) -> None:
            if claims_number:
                previous = ticket.number - 1
                counter = CounterItem(pk=TICKET_NUMBER_COUNTER, sk="COUNTER")
                transaction.update(
                    counter,
                    actions=[CounterItem.value.set(ticket.number), CounterItem.kind.set(CounterItem)],
                    condition=(CounterItem.value == previous) if previous else CounterItem.pk.does_not_exist(),
                )
            transaction.save(mapping.ticket_item(ticket), condition=TableItem.pk.does_not_exist())
            self._save_search_keys(transaction, ticket)
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

        try:
            self._write(build)
        except ConditionFailed as failure:
            if claims_number and failed_item(failure) == 0:
                raise TicketNumberTaken(f"ticket number {ticket.number} was taken meanwhile") from failure
            raise

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

    def read_for_reply(self, ticket_id: str, attachment_ids: Sequence[str]) -> tuple[Ticket | None, list[Attachment]]:
        """The ticket and the attachments a reply names, in one BatchGetItem."""
        keys = [(ticket_pk(ticket_id), META)] + [
            (mapping.attachment_pk(i), META) for i in dict.fromkeys(attachment_ids)
        ]
        items = list(TableItem.batch_get(keys))
        ticket = next((i for i in items if isinstance(i, TicketItem)), None)
        files = [mapping.attachment_from_item(i) for i in items if isinstance(i, AttachmentItem)]
        return (mapping.ticket_from_item(ticket) if ticket else None), files

    def read_for_conversion(self, conversation_id: str) -> tuple[Conversation | None, int]:
        """The conversation to open a ticket from, and the last ticket number given, in one BatchGetItem."""
        items = list(TableItem.batch_get([(conversation_pk(conversation_id), META), TICKET_NUMBER_KEY]))
        conversation = next((i for i in items if isinstance(i, ConversationItem)), None)
        counter = next((i for i in items if isinstance(i, CounterItem)), None)
        last = int(counter.value) if counter is not None and counter.value is not None else 0
        return (mapping.conversation_from_item(conversation) if conversation else None), last

    def get_tickets(self, ticket_ids: Sequence[str]) -> list[Ticket]:
        """The tickets that exist among ``ticket_ids`` (one BatchGetItem per 100)."""
        keys = [(ticket_pk(i), META) for i in dict.fromkeys(ticket_ids)]
        return [mapping.ticket_from_item(i) for i in TicketItem.batch_get(keys) if isinstance(i, TicketItem)]

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
        tags_before: Sequence[str] | None = None,
    ) -> Ticket:
        """Write the ticket's new fields and timeline parts if it is still at ``based_on_version``.

        ``tags_before``: the ticket's tags as read, when the change may retag it; the tag views' links
        are added and deleted in the same transaction. Raises ``VersionConflict`` (with the version now
        stored) when someone else got there first.
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
        if ticket.state_category is StateCategory.RESOLVED:  # kept for the workspace's retention, then TTL
            actions.append(TicketItem.expires_at.set(self._retention.ticket_expiry(ticket.updated_at)))
        else:
            actions.append(TicketItem.expires_at.remove())
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
        retagged = tags_before is not None and list(tags_before) != ticket.tags
        if retagged:
            actions.append(TicketItem.tags.set(ticket.tags) if ticket.tags else TicketItem.tags.remove())

        def build(transaction: TransactWrite) -> None:
            transaction.update(item, actions=actions, condition=TableItem.pk.exists())
            self._save_search_keys(transaction, ticket)
            if retagged and tags_before is not None:
                link_changes(transaction, mapping.TICKET_TAGS, ticket.id, tags_before, ticket.tags, ticket.updated_at)
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
        self._write(lambda transaction: rate_in(transaction, ticket_id, customer_id, rating, part))

    def has_part(self, ticket_id: str, part_id: str) -> bool:
        try:
            TicketPartItem.get(ticket_pk(ticket_id), f"PART#{part_id}")
        except DoesNotExist:
            return False
        return True

    def list_customer_tickets(self, customer_id: str, *, cursor: str | None, limit: int) -> Page[Ticket]:
        return self._index_page(
            TableItem.by_customer,
            mapping.customer_key(customer_id),
            cursor,
            limit,
            mapping.ticket_from_item,
            sort_prefix=mapping.CUSTOMER_TICKETS,
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


def rate_in(transaction: TransactWrite, ticket_id: str, customer_id: str, rating: Rating, part: TicketPart) -> None:
    """Within ``transaction``: the customer's rating, once, on a resolved ticket of theirs (the ticket's
    condition is the transaction's first item), and its timeline part."""
    transaction.update(
        version_bumping(ticket_pk(ticket_id), META),
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
