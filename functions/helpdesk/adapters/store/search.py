"""The search keys' reads: which things a term starts one of (one Query), and those things (one BatchGetItem).

The keys are written with the things they name (``base.TableStore._save_search_keys``); the key design
and access pattern are in ``table.py``. The search indexer also mends keys from the table's stream
(``mend_keys``): it writes keys a merge had no room for, and deletes stale ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpdesk.adapters import mapping
from helpdesk.adapters.mapping import META
from helpdesk.adapters.search_keys import key_item, search_pk
from helpdesk.adapters.store.base import TableStore
from helpdesk.adapters.table import ConversationItem, CustomerItem, SearchKeyItem, TableItem, TicketItem
from helpdesk.domain.models import Conversation, Customer, NotificationPreferences, Ticket
from helpdesk.domain.search_index import KeyChange
from helpdesk.domain.search_terms import SearchHit

MAX_BATCH = 100
"""BatchGetItem reads at most 100 items: the search asks for no more."""


class SearchTable(TableStore):
    def find(self, term: str, *, limit: int) -> list[SearchHit]:
        """The things with a term starting with ``term``, terms in order (one Query)."""
        found: dict[tuple[str, str], SearchHit] = {}
        for item in SearchKeyItem.query(search_pk(term), SearchKeyItem.sk.startswith(term), limit=limit):
            if isinstance(item, SearchKeyItem) and item.entity_kind in ("customer", "ticket", "conversation"):
                hit = SearchHit(kind=item.entity_kind, id=item.entity_id, customer_id=item.customer_id)  # type: ignore[arg-type]
                found.setdefault((hit.kind, hit.id), hit)
        return list(found.values())

    def read_found(
        self, customer_ids: Sequence[str], ticket_ids: Sequence[str], conversation_ids: Sequence[str]
    ) -> tuple[list[Customer], list[Ticket], list[Conversation]]:
        """The things that still exist among those named, in one BatchGetItem (at most 100 of them)."""
        keys = [(mapping.customer_pk(i), "PROFILE") for i in dict.fromkeys(customer_ids)]
        keys += [(mapping.ticket_pk(i), META) for i in dict.fromkeys(ticket_ids)]
        keys += [(mapping.conversation_pk(i), META) for i in dict.fromkeys(conversation_ids)]
        customers: list[Customer] = []
        tickets: list[Ticket] = []
        conversations: list[Conversation] = []
        if not keys:
            return customers, tickets, conversations
        for item in TableItem.batch_get(keys[:MAX_BATCH]):
            if isinstance(item, CustomerItem):
                customers.append(
                    Customer(
                        user_id=item.user_id,
                        email=item.email,
                        name=item.name,
                        phone=item.phone,
                        preferences=NotificationPreferences.model_validate(item.preferences or {}),
                    )
                )
            elif isinstance(item, TicketItem):
                tickets.append(mapping.ticket_from_item(item))
            elif isinstance(item, ConversationItem):
                conversations.append(mapping.conversation_from_item(item))
        return customers, tickets, conversations

    def mend_keys(self, changes: list[KeyChange]) -> None:
        """Write and delete keys as the search indexer found them missing or stale (BatchWriteItem, 25 a request)."""
        with SearchKeyItem.batch_write() as batch:
            for change in changes:
                for term in sorted(change.deleted):
                    batch.delete(key_item(term, change.kind, change.entity_id, change.customer_id))
                for term in sorted(change.saved):
                    batch.save(key_item(term, change.kind, change.entity_id, change.customer_id))
