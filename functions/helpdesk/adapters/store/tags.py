"""Tag views: the conversations or tickets with a tag, newest first, and the links that make them.

Each tag of an item is a link item (``TAG#<CONV|TICKET>#<tag>`` / ``<id>``) written and deleted in the
transaction that changes the item's tags (``link_changes``); a view is one Query of the links and one
BatchGetItem of the items they name: two requests, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.cursors import decode_cursor, encode_cursor
from helpdesk.adapters.mapping import META
from helpdesk.adapters.store.base import TableStore
from helpdesk.adapters.table import ConversationItem, TableItem, TicketItem
from helpdesk.adapters.tag_items import TagLinkItem
from helpdesk.domain.models import Conversation, Page, Ticket


def link_changes(
    transaction: TransactWrite,
    subject: str,
    subject_id: str,
    before: Sequence[str],
    after: Sequence[str],
    at: datetime,
) -> None:
    """Add the links of the tags ``after`` adds to ``before``, delete those of the tags it drops."""
    for tag in [t for t in after if t not in before]:
        transaction.save(
            TagLinkItem(pk=mapping.tag_pk(subject, tag), sk=subject_id, tag=tag, subject_id=subject_id, created_at=at)
        )
    for tag in [t for t in before if t not in after]:
        transaction.delete(TagLinkItem(pk=mapping.tag_pk(subject, tag), sk=subject_id))


class TagTable(TableStore):
    def tagged_conversations(self, tag: str, *, cursor: str | None, limit: int) -> Page[Conversation]:
        """The conversations with ``tag``, newest first: one Query and one BatchGetItem."""
        return self._tagged(
            mapping.CONVERSATION_TAGS,
            tag,
            cursor,
            limit,
            lambda i: mapping.conversation_pk(i),
            lambda item: mapping.conversation_from_item(item) if isinstance(item, ConversationItem) else None,
        )

    def tagged_tickets(self, tag: str, *, cursor: str | None, limit: int) -> Page[Ticket]:
        """The tickets with ``tag``, newest first: one Query and one BatchGetItem."""
        return self._tagged(
            mapping.TICKET_TAGS,
            tag,
            cursor,
            limit,
            lambda i: mapping.ticket_pk(i),
            lambda item: mapping.ticket_from_item(item) if isinstance(item, TicketItem) else None,
        )

    @staticmethod
    def _tagged[T](
        subject: str,
        tag: str,
        cursor: str | None,
        limit: int,
        key: Callable[[str], str],
        convert: Callable[[Any], T | None],
    ) -> Page[T]:
        partition = mapping.tag_pk(subject, tag)
        start = decode_cursor(cursor, key_attributes={"PK", "SK"}, expected={"PK": partition}) if cursor else None
        links = TableItem.query(partition, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        ids = [link.subject_id for link in links if isinstance(link, TagLinkItem)]
        found: dict[str, T] = {}
        if ids:
            for item in TableItem.batch_get([(key(i), META) for i in ids]):
                converted = convert(item)
                if converted is not None:
                    found[item.pk.split("#", 1)[1]] = converted
        return Page[T](items=[found[i] for i in ids if i in found], next_cursor=encode_cursor(links.last_evaluated_key))
