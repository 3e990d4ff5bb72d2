"""What the inbox search finds things by: the terms of customers, tickets and conversations, and the query.

A *term* is a normalised string an agent may type the start of: a customer's email, name (whole and
each word), phone number (digits only) and external id; a ticket's number, title (whole and each
word) and attribute values (an order id); a conversation's customer (email, name, id). Each term is
kept in the table as a key written with the thing it names (``adapters/store/search.py``), so an
exact or prefix lookup is one Query. Terms are also how a hit is checked against the thing as it is
now: a key left behind by an edit or an erasure matches nothing and is dropped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from helpdesk.domain.errors import BadQuery
from helpdesk.domain.models import Conversation, Customer, Ticket

EntityKind = Literal["customer", "ticket", "conversation"]


@dataclass(frozen=True)
class SearchHit:
    """A search key's answer: a thing with a term starting with the query (and a conversation's customer)."""

    kind: EntityKind
    id: str
    customer_id: str | None = None


MIN_QUERY = 2
MAX_QUERY = 100
PARTITION_CHARS = 2
"""Keys are grouped by their first two characters: a query of at least that many names one partition."""
MAX_TERMS = 16
"""At most this many terms per thing (each is an item in the thing's own transaction)."""
MAX_TERM = 100
_PHONE = re.compile(r"^\+?[\d\s().-]{4,}$")
_WORD = re.compile(r"[\w@.+-]+")


def normalise(text: str) -> str:
    """Lower case, compatibility-normalised, white space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _phone_digits(text: str) -> str | None:
    if not _PHONE.match(text.strip()):
        return None
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= MIN_QUERY else None


def query_term(q: str | None) -> str:
    """The term a query names (a phone number as its digits), or ``BadQuery`` (a 400) naming ``q``."""
    text = normalise(q or "")
    if len(text) < MIN_QUERY:
        raise BadQuery(
            f"type at least {MIN_QUERY} characters to search", [("q", f"must have at least {MIN_QUERY} characters")]
        )
    if len(text) > MAX_QUERY:
        raise BadQuery(
            f"a search is at most {MAX_QUERY} characters", [("q", f"must have at most {MAX_QUERY} characters")]
        )
    digits = _phone_digits(text)
    return digits if digits is not None and not text.isdigit() else text


def _text_terms(text: str | None) -> list[str]:
    """A name or title: the whole of it, then each word of two characters or more."""
    if not text:
        return []
    whole = normalise(text)[:MAX_TERM]
    words = [w for w in _WORD.findall(whole) if len(w) >= MIN_QUERY]
    return [whole, *words]


def _value_terms(value: Any) -> list[str]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float | str):
        text = normalise(str(value))
        return [text[:MAX_TERM]] if len(text) >= MIN_QUERY else []
    return []


def _keep(terms: Iterable[str]) -> frozenset[str]:
    kept: dict[str, None] = {}
    for term in terms:
        if len(term) >= MIN_QUERY and term not in kept:
            kept[term] = None
        if len(kept) == MAX_TERMS:
            break
    return frozenset(kept)


def _person_terms(user_id: str, email: str | None, name: str | None, phone: str | None = None) -> frozenset[str]:
    digits = _phone_digits(phone) if phone else None
    return _keep([normalise(email or ""), normalise(user_id), *([digits] if digits else []), *_text_terms(name)])


def _ticket_terms(number: int, title: str | None, attributes: Mapping[str, Any]) -> frozenset[str]:
    values = [t for value in attributes.values() for t in _value_terms(value)]
    return _keep([str(number), f"#{number}", *values, *_text_terms(title)])


def customer_terms(customer: Customer) -> frozenset[str]:
    return _person_terms(customer.user_id, customer.email, customer.name, customer.phone)


def conversation_terms(conversation: Conversation) -> frozenset[str]:
    """A conversation is found by its customer: email, external id, name."""
    return _person_terms(conversation.customer_id, conversation.customer_email, conversation.customer_name)


def ticket_terms(ticket: Ticket) -> frozenset[str]:
    """A ticket is found by its number (``123`` or ``#123``), its attribute values, and its title."""
    return _ticket_terms(ticket.number, ticket.title, ticket.attributes)


def item_terms(kind: str, values: Mapping[str, Any]) -> tuple[EntityKind, str, frozenset[str]] | None:
    """The kind, id and terms of a stored item (a stream image's plain values), or None if it has none."""
    if not values:
        return None
    if kind == "customer" and values.get("user_id"):
        user_id = str(values["user_id"])
        return "customer", user_id, _person_terms(user_id, values.get("email"), values.get("name"), values.get("phone"))
    if kind == "conversation" and values.get("id") and values.get("customer_id"):
        terms = _person_terms(str(values["customer_id"]), values.get("customer_email"), values.get("customer_name"))
        return "conversation", str(values["id"]), terms
    if kind == "ticket" and values.get("id") and values.get("number") is not None:
        attributes = values.get("attributes")
        if isinstance(attributes, str):  # a JSON attribute, as the stream carries it
            attributes = json.loads(attributes)
        terms = _ticket_terms(int(values["number"]), values.get("title"), attributes or {})
        return "ticket", str(values["id"]), terms
    return None


def terms_of(thing: Customer | Ticket | Conversation) -> frozenset[str]:
    if isinstance(thing, Customer):
        return customer_terms(thing)
    if isinstance(thing, Ticket):
        return ticket_terms(thing)
    return conversation_terms(thing)


def matches(thing: Customer | Ticket | Conversation, term: str) -> bool:
    """Whether ``thing`` as it is now still has a term starting with ``term`` (its key may be stale)."""
    return any(t.startswith(term) for t in terms_of(thing))


def partition_of(term: str) -> str:
    return term[:PARTITION_CHARS]
