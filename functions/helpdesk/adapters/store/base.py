"""The shared write path of the table's stores: one transaction, its failed conditions, shared pieces.

Each aggregate has its own store (``customers``, ``agents``, ``conversations``, ``attachments``,
``tickets``, ``trackers``); they all write through ``TableStore._write``, which runs one
TransactWriteItems and turns a failed condition into the domain's ``ConditionFailed``. Every method
of a store is one DynamoDB request unless its docstring says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.cursors import decode_cursor, encode_cursor
from helpdesk.adapters.search_keys import search_key_items
from helpdesk.adapters.table import AttachmentItem, CustomerItem, TableItem, TicketItem
from helpdesk.domain.errors import ConditionFailed
from helpdesk.domain.models import Conversation, Customer, Page, Ticket
from helpdesk.domain.policy import Scope
from helpdesk.domain.retention import Retention

META = mapping.META


def is_condition_failure(error: TransactWriteError | UpdateError) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
        return True
    return error.cause_response_code in {"ConditionalCheckFailedException"}


def version_bumping(pk: str, sk: str) -> TicketItem:
    """A ticket to update without reading it first (``add_version_condition=False``) whose version still
    moves on by one: PynamoDB *adds* 1 to a set version, but *sets* 1 when the model's version is None."""
    return TicketItem(pk=pk, sk=sk, version=0)


def within_scope(scope: Scope | None) -> Condition | None:
    """The condition that a ticket is in the policy's ``scope`` (of its teams, or assigned to its agent)."""
    if scope is None:
        return None
    assigned = TicketItem.assignee_id == scope.assignee_id
    if not scope.teams:
        return assigned
    return TicketItem.team_id.is_in(*sorted(scope.teams)) | assigned


def failed_item(failure: ConditionFailed) -> int | None:
    """Which item of a transaction (by position) failed its condition, if DynamoDB said so."""
    error = failure.__cause__
    reasons = getattr(error, "cancellation_reasons", None) or []
    return next(
        (n for n, reason in enumerate(reasons) if reason is not None and reason.code == "ConditionalCheckFailed"),
        None,
    )


class TableStore:
    """Base of every store: the table connection (made on first write) and the transactional write."""

    def __init__(self, connection: Connection | None = None, *, retention: Retention | None = None) -> None:
        self._connection = connection
        self._retention = retention or Retention()
        """How long closed conversations and resolved tickets are kept (the table's TTL on them)."""

    def _transaction(self) -> TransactWrite:
        if self._connection is None:
            meta = TableItem.Meta
            self._connection = Connection(region=meta.region, host=getattr(meta, "host", None))
        return TransactWrite(connection=self._connection)

    def _write(self, build: Callable[[TransactWrite], None]) -> None:
        """Run ``build(transaction)`` as one transaction; a failed condition becomes ``ConditionFailed``."""
        try:
            with self._transaction() as transaction:
                build(transaction)
        except TransactWriteError as error:
            if is_condition_failure(error):
                raise ConditionFailed from error
            raise

    @staticmethod
    def _save_search_keys(
        transaction: TransactWrite,
        thing: Customer | Ticket | Conversation,
        *,
        room: int | None = None,
        customer: Customer | None = None,
    ) -> int:
        """The thing's search keys, in its own transaction (at most ``room`` of them); returns how many.

        Keys an edit made stale are deleted by the search indexer; the search ignores them meanwhile."""
        items = search_key_items(thing, customer)
        for item in items[:room]:
            transaction.save(item)
        return len(items[:room])

    @staticmethod
    def _customer_upsert(customer: Customer, at: Any) -> tuple[CustomerItem, list[Any]]:
        profile = CustomerItem(pk=mapping.customer_pk(customer.user_id), sk="PROFILE")
        actions: list[Any] = [
            CustomerItem.kind.set(CustomerItem),
            CustomerItem.user_id.set(customer.user_id),
            # In the customer's by_customer partition, so the inbox profile reads it with their tickets.
            CustomerItem.gsi1pk.set(mapping.customer_key(customer.user_id)),
            CustomerItem.gsi1sk.set(mapping.CUSTOMER_PROFILE),
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

    @staticmethod
    def _index_page[T](
        index: Any,
        partition: str,
        cursor: str | None,
        limit: int,
        convert: Any,
        *,
        oldest_first: bool = False,
        sort_prefix: str | None = None,
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
        range_condition = None
        if sort_prefix is not None:
            range_key = next(a for a in keys if a.is_range_key)
            range_condition = range_key.startswith(sort_prefix)
        result = index.query(
            partition, range_condition, scan_index_forward=oldest_first, limit=limit, last_evaluated_key=start
        )
        items = [convert(item) for item in result]
        return Page[T](items=items, next_cursor=encode_cursor(result.last_evaluated_key))
