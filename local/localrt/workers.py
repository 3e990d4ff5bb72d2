"""Supervised workers: the threads that play Lambda's event-source mappings, kept running and reported.

On AWS a Lambda whose invocation dies is simply invoked again; locally a poller is a thread, and a
thread that dies stays dead. So each poller is a ``Worker`` the ``Supervisor`` runs on a thread of
its own: if the thread dies (an exception escapes the worker's loop), the supervisor logs it with
its traceback and starts it again after a backoff (0.5 s, doubling up to 30 s; back to 0.5 s once a
worker has run for a minute). The same ``Worker`` object is run again, so what it keeps between
shifts (the stream poller's position in each shard) survives the restart.

``Supervisor.health()`` is what ``/healthz`` reports: per worker its name, whether it is alive and
ready (its set-up calls done, polling), how often it was restarted and the last error, by type and
place only (an exception's message may carry a customer's data). ``Supervisor.crash(name)`` makes a
worker die at its next check, so the restart can be shown (``POST /_local/workers/<name>/crash``).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("localrt.workers")

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
STEADY_SECONDS = 60.0
"""A worker that has been ready this long before it died starts again after the first backoff."""


class CrashInjected(RuntimeError):
    """Raised inside a worker asked to crash (``Supervisor.crash``): a stand-in for any death."""


class Worker(Protocol):
    name: str

    def run(self, duty: Duty) -> None:
        """Set up, call ``duty.ready()``, then loop while ``duty.on_duty()``; return when it is False."""


@dataclass
class Duty:
    """One shift of a worker on one thread: the stop signal, its readiness, and the crash switch."""

    stopping: threading.Event
    ready_since: float | None = None
    """When the worker said it was ready (``time.monotonic()``); None until then."""
    _crash: threading.Event = field(default_factory=threading.Event)

    def ready(self) -> None:
        self.ready_since = time.monotonic()

    def on_duty(self) -> bool:
        """True while the worker should go on; raises ``CrashInjected`` if it was asked to crash."""
        if self._crash.is_set():
            raise CrashInjected("crash requested through the local runtime")
        return not self.stopping.is_set()

    def rest(self, seconds: float) -> bool:
        """Wait up to ``seconds`` (less if stopping or asked to crash: a schedule that ticks every few
        minutes still dies at once); then as ``on_duty``."""
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set() and not self._crash.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._crash.wait(min(left, 0.25))
        return self.on_duty()


@dataclass
class _Post:
    """A worker and what the supervisor knows of it."""

    worker: Worker
    thread: threading.Thread | None = None
    duty: Duty | None = None
    restarts: int = 0
    failures_in_a_row: int = 0
    last_error: dict[str, str] | None = None
    restart_at: float | None = None
    """When a dead worker's thread is due to start again; None while it is alive or not yet seen dead."""

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def ready(self) -> bool:
        return self.alive and self.duty is not None and self.duty.ready_since is not None


class Supervisor:
    def __init__(
        self,
        workers: list[Worker],
        stopping: threading.Event,
        *,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        names = [w.name for w in workers]
        if len(set(names)) != len(names):
            raise ValueError(f"worker names must be unique: {sorted(names)}")
        self.stopping = stopping
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self._posts = {w.name: _Post(w) for w in workers}
        self._lock = threading.Lock()
        self._monitor: threading.Thread | None = None

    @property
    def names(self) -> list[str]:
        return list(self._posts)

    def start(self) -> None:
        with self._lock:
            for post in self._posts.values():
                self._start(post)
        self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._monitor.start()

    def crash(self, name: str) -> bool:
        """Make the worker die at its next check; False if there is no such worker on duty."""
        with self._lock:
            post = self._posts.get(name)
            if post is None or post.duty is None or post.thread is None or not post.thread.is_alive():
                return False
            post.duty._crash.set()
            return True

    def health(self) -> tuple[bool, list[dict[str, Any]]]:
        """(every worker alive and ready, each worker's state), for ``/healthz``."""
        with self._lock:
            states = [
                {
                    "name": name,
                    "alive": post.alive,
                    "ready": post.ready,
                    "restarts": post.restarts,
                    "last_error": post.last_error,
                }
                for name, post in self._posts.items()
            ]
        return all(s["alive"] and s["ready"] for s in states), states

    def join(self, timeout: float) -> None:
        """After ``stopping`` is set: wait (in all up to ``timeout``) for the workers' threads to end."""
        deadline = time.monotonic() + timeout
        if self._monitor is not None:
            self._monitor.join(max(0.0, deadline - time.monotonic()))
        for post in self._posts.values():
            if post.thread is not None:
                post.thread.join(max(0.0, deadline - time.monotonic()))

    # --- inside -------------------------------------------------------------------------------------

    def _start(self, post: _Post) -> None:
        post.duty = Duty(self.stopping)
        post.restart_at = None
        post.thread = threading.Thread(
            target=self._shift, args=(post, post.duty), name=f"worker-{post.worker.name}", daemon=True
        )
        post.thread.start()

    def _shift(self, post: _Post, duty: Duty) -> None:
        try:
            post.worker.run(duty)
        except BaseException as death:  # whatever kills a worker is logged, and the worker restarted
            error = _describe(death)
            log.error(
                "worker %s died (%s at %s); it will be restarted",
                post.worker.name,
                error["type"],
                error["where"],
                exc_info=death,
            )
        else:
            if self.stopping.is_set():
                return
            error = {"type": "Returned", "where": "its loop ended while on duty", "at": _now()}
            log.error("worker %s stopped polling while on duty; it will be restarted", post.worker.name)
        with self._lock:
            post.last_error = error

    def _watch(self) -> None:
        while not self.stopping.wait(0.1):
            with self._lock:
                now = time.monotonic()
                for post in self._posts.values():
                    if post.alive:
                        continue
                    if post.restart_at is None:
                        since = post.duty.ready_since if post.duty is not None else None
                        steady = since is not None and now - since >= STEADY_SECONDS
                        post.failures_in_a_row = 1 if steady else post.failures_in_a_row + 1
                        delay = min(self.max_backoff, self.first_backoff * 2 ** (post.failures_in_a_row - 1))
                        post.restart_at = now + delay
                        log.warning("restarting worker %s in %.1f s", post.worker.name, delay)
                    elif now >= post.restart_at:
                        post.restarts += 1
                        self._start(post)


def _describe(error: BaseException) -> dict[str, str]:
    """The error by type and where it was raised (file:line in function), never its message."""
    frames = traceback.extract_tb(error.__traceback__)
    where = "unknown"
    if frames:
        last = frames[-1]
        where = f"{'/'.join(Path(last.filename).parts[-2:])}:{last.lineno} in {last.name}"
    return {"type": type(error).__name__, "where": where, "at": _now()}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
