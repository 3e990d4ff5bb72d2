"""The gateway's stand-in for the WAF's rate-based rules: every limit in ``helpdesk.surfaces.RATE_LIMITS``.

Each limit counts requests per caller in a sliding window. Who the caller is follows the limit's
``key``: ``customer`` is the identity the messenger authorizer verified (so no spelling of the
header, and no second token of the same customer, gets a fresh budget); ``source`` is the client's
address (so one client asking for visitor tokens can't use up everyone else's). A request with no
verified identity isn't counted by a ``customer`` limit, as WAF doesn't count a request without the
header its rule is keyed on.

``LOCAL_<NAME>_RATE_LIMIT=<requests>/<seconds>`` (``RateLimit.local_override``) sets another limit
for tests and demos, e.g. ``LOCAL_CUSTOMER_RATE_LIMIT=5/60``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping

from helpdesk.surfaces import RateLimit

SWEEP_EVERY = 1000
"""Forget callers whose window has passed every this many requests, so memory stays bounded."""


class RateLimiter:
    """One limit: a sliding window of request times per caller."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._since_sweep = 0

    def allow(self, caller: str) -> bool:
        """Count this request; False when the caller is over the limit (the request isn't counted then)."""
        key = hashlib.sha256(caller.encode()).hexdigest()  # no identities or addresses kept as such
        now = self._clock()
        with self._lock:
            self._sweep(now)
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.limit.window_seconds:
                times.popleft()
            if len(times) >= self.limit.requests:
                return False
            times.append(now)
            return True

    def callers(self) -> int:
        with self._lock:
            return len(self._seen)

    def _sweep(self, now: float) -> None:
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        horizon = now - self.limit.window_seconds
        for key in [k for k, times in self._seen.items() if not times or times[-1] <= horizon]:
            del self._seen[key]


class RateLimits:
    """Every limit the local gateway plays, and which of them a request is over."""

    def __init__(self, limits: Iterable[RateLimit], clock: Callable[[], float] = time.monotonic) -> None:
        self.limiters = [RateLimiter(limit, clock) for limit in limits if limit.local]

    def exceeded(self, *, surface: str, method: str, path: str, customer: str | None, client: str) -> RateLimit | None:
        """The first limit this request is over (counting it against every limit it falls under), or None."""
        for limiter in self.limiters:
            limit = limiter.limit
            on_path = limit.path is None or (method, path) == ("POST", limit.path)
            if limit.surface not in (None, surface) or not on_path:
                continue
            caller = f"source:{client}" if limit.key == "source" else f"customer:{customer}" if customer else None
            if caller is not None and not limiter.allow(caller):
                return limit
        return None


def limits_from_environment(limits: Iterable[RateLimit], environment: Mapping[str, str]) -> list[RateLimit]:
    """The declared limits, with the local overrides the environment sets."""
    return [_overridden(limit, environment.get(limit.local_override)) for limit in limits]


def _overridden(limit: RateLimit, value: str | None) -> RateLimit:
    if not value:
        return limit
    try:
        requests, seconds = (int(part) for part in value.split("/", 1))
    except ValueError as error:
        raise ValueError(
            f"{limit.local_override} must look like {limit.requests}/{limit.window_seconds} (requests/seconds), "
            f"not {value!r}"
        ) from error
    if requests < 1 or seconds < 1:
        raise ValueError(f"{limit.local_override} needs at least 1 request and 1 second")
    return dataclasses.replace(limit, requests=requests, window_seconds=seconds)
