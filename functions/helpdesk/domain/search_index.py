"""What a committed change of the table means for the search: message-index operations and key repairs.

Pure functions over ``CommittedChange`` (``services/search_indexing.py`` applies them): a customer's
or agent's message added, edited (anonymised) or removed; a removed conversation or customer takes all
their messages out of the index (bot messages are not indexed: every conversation would match their
stock phrases). An edit or erasure of a customer, conversation or ticket makes the keys of the terms
it no longer has stale, and may leave new terms' keys to write (a merge that had no room for them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from helpdesk.domain.changes import CommittedChange
from helpdesk.domain.search_terms import EntityKind, item_terms

INDEXED_AUTHORS = frozenset({"customer", "agent"})


@dataclass(frozen=True)
class IndexedMessage:
    message_id: str
    conversation_id: str
    customer_id: str
    body: str


@dataclass(frozen=True)
class IndexOperation:
    """One step for the message index, applied in order: ``add`` a message, or ``drop`` by a field."""

    action: Literal["add", "drop"]
    message: IndexedMessage | None = None
    field: Literal["message_id", "conversation_id", "customer_id"] = "message_id"
    value: str = ""


@dataclass(frozen=True)
class KeyChange:
    kind: EntityKind
    entity_id: str
    customer_id: str | None
    saved: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()


def index_operations(change: CommittedChange) -> list[IndexOperation]:
    """What one committed change means for the message index."""
    kind = change.kind
    if kind == "message":
        message_id = str((change.new or change.old).get("id") or "")
        if not message_id:
            return []
        drop = IndexOperation("drop", field="message_id", value=message_id)
        new = change.new
        if change.event_name == "REMOVE" or not new:
            return [drop]
        body = str(new.get("body") or "").strip()
        if new.get("author_type") not in INDEXED_AUTHORS or not body:
            return [drop] if change.event_name == "MODIFY" else []
        message = IndexedMessage(
            message_id=message_id,
            conversation_id=str(new.get("conversation_id") or ""),
            customer_id=str(new.get("customer_id") or ""),
            body=body,
        )
        return [drop, IndexOperation("add", message=message)]
    if change.event_name == "REMOVE" and kind == "conversation" and change.old.get("id"):
        return [IndexOperation("drop", field="conversation_id", value=str(change.old["id"]))]
    if change.event_name == "REMOVE" and kind == "customer" and change.old.get("user_id"):
        return [IndexOperation("drop", field="customer_id", value=str(change.old["user_id"]))]
    return []


def key_change(change: CommittedChange) -> KeyChange | None:
    """The search keys one change of a customer, conversation or ticket made stale or left to write."""
    if change.event_name == "INSERT" or change.kind not in ("customer", "conversation", "ticket"):
        return None
    before = item_terms(change.kind, change.old)
    after = item_terms(change.kind, change.new) if change.event_name == "MODIFY" else None
    if before is None and after is None:
        return None
    kind, entity_id, _ = after or before  # type: ignore[misc]
    old_terms = before[2] if before else frozenset()
    new_terms = after[2] if after else frozenset()
    owner: Any = (change.new or change.old).get("customer_id") if kind == "conversation" else None
    if old_terms == new_terms:
        return None
    return KeyChange(kind, entity_id, owner, saved=new_terms - old_terms, deleted=old_terms - new_terms)
