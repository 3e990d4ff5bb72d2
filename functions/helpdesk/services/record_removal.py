"""When the table no longer has a conversation or a ticket, nothing of it stays behind.

A closed conversation and a resolved ticket expire by the table's TTL (the workspace's ``retention``),
and TTL deletes only their own item. The event publisher reads that REMOVE on the stream and hands it
here, and the rest of the record goes too: its messages or timeline, the files' records, its search
keys, tag links and email thread. An erasure's removals come through the same way, after the erasure
deleted the same items itself: deleting them again changes nothing.
"""

from __future__ import annotations

from typing import Protocol

from helpdesk.domain.changes import CommittedChange
from helpdesk.domain.models import Conversation, Ticket


class RecordParts(Protocol):
    def delete_parts_of(self, removed: Conversation | Ticket) -> int:
        """Delete everything of ``removed`` the table still holds; how many items were asked to go."""
        ...


def forget_parts(change: CommittedChange, parts: RecordParts) -> int:
    """Delete what went with the conversation or ticket this change removed; how many items (0 if none)."""
    if change.removed is None:
        return 0
    return parts.delete_parts_of(change.removed)
