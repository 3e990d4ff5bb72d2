"""One way to retry a read-decide-write that lost a race to another writer: read again, decide again.

Tickets and conversations are written with optimistic conditions (a version, an ``updated_at``),
so two writers at once can't both win; the loser re-reads the item and applies its change to what
is there now. Attempts are few and spread with jitter, so writers that collided don't collide again
in lockstep; when they run out, the caller's ``gave_up`` error (a 409 telling the client to retry)
is raised.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from helpdesk.domain.errors import VersionConflict


def jittered_pause(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # noqa: S311 - spreading retries, not security


def retry_on_conflict[T](
    attempt: Callable[[], T],
    *,
    attempts: int,
    gave_up: Callable[[], Exception],
    conflicts: tuple[type[Exception], ...] = (VersionConflict,),
    pause: Callable[[int], None] = jittered_pause,
) -> T:
    """``attempt()`` (a whole read-decide-write) until it doesn't raise one of ``conflicts``."""
    for number in range(attempts):
        if number:
            pause(number)
        try:
            return attempt()
        except conflicts as lost:
            if number + 1 == attempts:
                raise gave_up() from lost
    raise AssertionError("attempts must be at least 1")
