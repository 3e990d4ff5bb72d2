"""The search keys of one customer, ticket or conversation, as items to write in its own transaction.

The key design is in ``table.py`` (``SearchKeyItem``); the terms come from ``domain/search_terms.py``.
"""

from __future__ import annotations

from helpdesk.adapters.table import SearchKeyItem
from helpdesk.domain.models import Conversation, Customer, Ticket
from helpdesk.domain.search_terms import EntityKind, partition_of, terms_of

FIND_PREFIX = "FIND#"


def search_pk(term: str) -> str:
    return f"{FIND_PREFIX}{partition_of(term)}"


def search_sk(term: str, kind: EntityKind, entity_id: str) -> str:
    return f"{term}#{kind}#{entity_id}"


def kind_of(thing: Customer | Ticket | Conversation) -> tuple[EntityKind, str]:
    if isinstance(thing, Customer):
        return "customer", thing.user_id
    if isinstance(thing, Ticket):
        return "ticket", thing.id
    return "conversation", thing.id


def key_item(term: str, kind: EntityKind, entity_id: str, customer_id: str | None = None) -> SearchKeyItem:
    return SearchKeyItem(
        pk=search_pk(term),
        sk=search_sk(term, kind, entity_id),
        term=term,
        entity_kind=kind,
        entity_id=entity_id,
        customer_id=customer_id,
    )


def search_key_items(thing: Customer | Ticket | Conversation, customer: Customer | None = None) -> list[SearchKeyItem]:
    """One item per term (a put of the same key again is harmless: the items are idempotent).

    A conversation is also found by its ``customer``'s terms (their phone number, say)."""
    kind, entity_id = kind_of(thing)
    terms = set(terms_of(thing))
    owner = thing.customer_id if isinstance(thing, Conversation) else None
    if isinstance(thing, Conversation) and customer is not None:
        terms |= terms_of(customer)
    return [key_item(term, kind, entity_id, owner) for term in sorted(terms)]
