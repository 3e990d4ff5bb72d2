"""Keeps the search up to date from the table's committed changes (the search indexer's work).

Both jobs are idempotent, so a retried batch changes nothing twice: the full-text index of messages
(``MessageIndexWriter``: an add is a drop of the same message first) and the search keys (puts and
deletes of the same keys). What each change means is decided in ``domain/search_index.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from helpdesk.domain.changes import CommittedChange
from helpdesk.domain.search_index import IndexOperation, KeyChange, index_operations, key_change


@dataclass
class IndexingReport:
    operations: int = 0
    keys_saved: int = 0
    keys_deleted: int = 0
    skipped: list[str] = field(default_factory=list)


class MessageIndexWriter(Protocol):
    def apply(self, operations: list[IndexOperation]) -> None:
        """Apply the operations in order, as one change of the index (retrying if another writer got there)."""
        ...


class SearchKeyRepairs(Protocol):
    def mend_keys(self, changes: list[KeyChange]) -> None: ...


class SearchIndexer:
    def __init__(self, index: MessageIndexWriter, keys: SearchKeyRepairs) -> None:
        self._index = index
        self._keys = keys

    def process(self, changes: Iterable[CommittedChange]) -> IndexingReport:
        """Bring the message index and the search keys up to date with these changes (in stream order)."""
        report = IndexingReport()
        operations: list[IndexOperation] = []
        key_changes: list[KeyChange] = []
        for change in changes:
            operations += index_operations(change)
            mended = key_change(change)
            if mended is not None:
                key_changes.append(mended)
        if operations:
            self._index.apply(operations)
        if key_changes:
            self._keys.mend_keys(key_changes)
        report.operations = len(operations)
        report.keys_saved = sum(len(k.saved) for k in key_changes)
        report.keys_deleted = sum(len(k.deleted) for k in key_changes)
        return report
