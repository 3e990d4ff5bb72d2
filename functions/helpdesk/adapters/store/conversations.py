"""Conversations and their messages; inbox views of conversations; merging a visitor into a customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.mapping import META, conversation_pk
from helpdesk.adapters.store.base import TableStore, version_bumping
from helpdesk.adapters.table import AttachmentItem, ConversationItem, MessageItem, TableItem, TicketItem
from helpdesk.domain.models import (
    Attachment,
    AuthorType,
    Conversation,
    ConversationStatus,
    Customer,
    Message,
    Page,
    TicketPart,
    utc_now,
)

MAX_MERGED_ITEMS = 50
MAX_TRANSACTION_ITEMS = 100


class ConversationTable(TableStore):
    def start_conversation(
        self, customer: Customer, conversation: Conversation, message: Message, replies: Sequence[Message] = ()
    ) -> None:
        """Upsert the customer's profile, create the conversation, its first message and the bot's
        replies to it, atomically."""
        profile, actions = self._customer_upsert(customer, conversation.created_at)

        def build(transaction: TransactWrite) -> None:
            transaction.update(profile, actions=actions)
            self._save_search_keys(transaction, customer)
            transaction.save(mapping.conversation_item(conversation), condition=TableItem.pk.does_not_exist())
            self._save_search_keys(transaction, conversation, customer=customer)
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

    def read_for_message(
        self, conversation_id: str, attachment_ids: Sequence[str]
    ) -> tuple[Conversation | None, list[Attachment]]:
        """The conversation and the attachments a message names, in one BatchGetItem."""
        keys = [(conversation_pk(conversation_id), META)]
        keys += [(mapping.attachment_pk(i), META) for i in dict.fromkeys(attachment_ids)]
        items = list(TableItem.batch_get(keys))
        conversation = next((i for i in items if isinstance(i, ConversationItem)), None)
        files = [mapping.attachment_from_item(i) for i in items if isinstance(i, AttachmentItem)]
        return (mapping.conversation_from_item(conversation) if conversation else None), files

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
        files_owner: str | None = None,
    ) -> None:
        """Append a message and refresh the conversation's preview, in one transaction.

        ``owner``: the conversation must belong to this customer; ``must_be_open``: and be open.
        Attachments named by the message are linked to the conversation (and must be the
        customer's, or ``files_owner``'s, and not yet used); ``ticket_part`` records them on the linked ticket.
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
                    files_owner or customer_id,
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
        if status is ConversationStatus.CLOSED:  # kept for the workspace's retention, then DynamoDB's TTL
            actions.append(ConversationItem.expires_at.set(self._retention.conversation_expiry(utc_now())))
        else:
            actions.append(ConversationItem.expires_at.remove())
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
        owned = list(TableItem.by_customer.query(mapping.customer_key(visitor_id), limit=2 * MAX_MERGED_ITEMS))
        conversations = [i for i in owned if isinstance(i, ConversationItem)][:MAX_MERGED_ITEMS]
        tickets = [i for i in owned if isinstance(i, TicketItem)][:MAX_MERGED_ITEMS]
        if not conversations and not tickets:
            return 0
        profile, profile_actions = self._customer_upsert(customer, utc_now())

        def build(transaction: TransactWrite) -> None:
            transaction.update(profile, actions=profile_actions)
            room = MAX_TRANSACTION_ITEMS - 1 - len(conversations) - len(tickets)
            room -= self._save_search_keys(transaction, customer, room=room)
            owned_by_visitor = ConversationItem.customer_id == visitor_id
            for conversation in conversations:
                actions: list[Any] = [
                    ConversationItem.customer_id.set(customer.user_id),
                    ConversationItem.customer_is_visitor.set(False),
                    ConversationItem.gsi1pk.set(mapping.customer_key(customer.user_id)),
                ]
                actions += [ConversationItem.customer_name.set(customer.name)] if customer.name else []
                actions += [ConversationItem.customer_email.set(customer.email)] if customer.email else []
                transaction.update(
                    ConversationItem(pk=conversation.pk, sk=conversation.sk),
                    actions=actions,
                    condition=owned_by_visitor,
                )
                # Found by the customer now; keys that don't fit are written by the search indexer.
                merged = mapping.conversation_from_item(conversation).model_copy(
                    update={
                        "customer_id": customer.user_id,
                        "customer_name": customer.name or conversation.customer_name,
                        "customer_email": customer.email or conversation.customer_email,
                    }
                )
                room -= self._save_search_keys(transaction, merged, room=max(room, 0), customer=customer)
            for ticket in tickets:
                transaction.update(
                    version_bumping(ticket.pk, ticket.sk),
                    actions=[
                        TicketItem.customer_id.set(customer.user_id),
                        TicketItem.gsi1pk.set(mapping.customer_key(customer.user_id)),
                    ],
                    condition=TicketItem.customer_id == visitor_id,
                    add_version_condition=False,
                )

        self._write(build)
        return len(conversations) + len(tickets)

    def list_customer_conversations(self, customer_id: str, *, cursor: str | None, limit: int) -> Page[Conversation]:
        return self._index_page(
            TableItem.by_customer,
            mapping.customer_key(customer_id),
            cursor,
            limit,
            mapping.conversation_from_item,
            sort_prefix=mapping.CUSTOMER_CONVERSATIONS,
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
