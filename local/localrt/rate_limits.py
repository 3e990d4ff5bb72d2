"""The gateway's stand-in for the WAF rule that limits each customer (``helpdesk.surfaces.CUSTOMER_RATE_LIMIT``).

Counts requests per ``Authorization`` header in a sliding window, like WAF's rate-based rule keyed on
that header; ``LOCAL_CUSTOMER_RATE_LIMIT=<requests>/<seconds>`` overrides it (tests, demos).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable

from helpdesk.surfaces import RateLimit


class RateLimiter:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, authorization: str | None) -> bool:
        """Count this request; False when the caller is over the limit (the request isn't counted then)."""
        key = hashlib.sha256((authorization or "").encode()).hexdigest()  # no tokens kept in memory as such
        now = self._clock()
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.limit.window_seconds:
                times.popleft()
            if len(times) >= self.limit.requests:
                return False
            times.append(now)
            return True


def limit_from_environment(default: RateLimit, value: str | None) -> RateLimit:
    if not value:
        return default
    try:
        requests, seconds = (int(part) for part in value.split("/", 1))
    except ValueError as error:
        raise ValueError(
            f"LOCAL_CUSTOMER_RATE_LIMIT must look like 300/60 (requests/seconds), not {value!r}"
        ) from error
    if requests < 1 or seconds < 1:
        raise ValueError("LOCAL_CUSTOMER_RATE_LIMIT needs at least 1 request and 1 second")
    return RateLimit(surface=default.surface, requests=requests, window_seconds=seconds)
