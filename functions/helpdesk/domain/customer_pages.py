"""What a customer's page of a conversation or a ticket's timeline shows, and where its cursor points.

A cursor handed to a customer is always the id of something that customer sees, never an internal
note's or an internal part's: those ids are time-ordered, so one would tell the customer that a
note exists and when it was written. Internal items are read and skipped; a page is read
``CUSTOMER_READ_AHEAD`` items longer than asked, so that its cursor can move past a run of them.
Only a run longer than that (hundreds of internal notes in a row) can hold a customer's page back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

CUSTOMER_READ_AHEAD = 200


class _Item(Protocol):
    @property
    def id(self) -> str: ...


def newer_page[T: _Item](
    items: Sequence[T], *, after: str | None, limit: int, shown: Callable[[T], bool]
) -> tuple[list[T], str | None]:
    """Messages after ``after`` (oldest first), at most ``limit`` the customer sees, and the next cursor.

    The cursor is the last message shown; with none shown it stays where the customer was (``after``,
    which the customer sent), so nothing about what was skipped leaves the service.
    """
    visible = [item for item in items if shown(item)]
    page = visible[:limit] if after is not None else visible[-limit:]
    return page, page[-1].id if page else after


def older_page[T: _Item](
    items: Sequence[T], *, more_stored: bool, limit: int, shown: Callable[[T], bool]
) -> tuple[list[T], str | None]:
    """The newest ``limit`` items the customer sees among ``items`` (oldest first), and the cursor to older ones.

    The cursor is the oldest item shown, given when older items may exist (read but beyond the page,
    or not read at all); the page it leads to may turn out empty when all that is left is internal.
    """
    visible = [item for item in items if shown(item)]
    page = visible[-limit:]
    more = more_stored or len(visible) > limit
    return page, page[0].id if more and page else None
