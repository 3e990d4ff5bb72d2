"""Puts domain events on the custom EventBridge bus.

PutEvents takes at most 10 entries and 256 KB a call, and can accept some entries of a call while
refusing others (``FailedEntryCount``). Refused entries are sent again a few times with backoff;
if some are still refused the publisher raises, so the stream record is retried as a whole. That
can publish an event twice: consumers de-duplicate on ``detail.event_id``.

The EventBridge client is created on first use; tests inject one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, Protocol

import boto3

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
TIME_BYTES = 14
"""What EventBridge counts for an entry's ``Time`` when it sizes a request."""
ATTEMPTS = 4
BASE_DELAY_SECONDS = 0.2


class BusEvent(Protocol):
    """What the bus needs of an event (``helpdesk.services.domain_events.DomainEvent`` is one)."""

    @property
    def detail_type(self) -> str: ...

    @property
    def detail(self) -> Mapping[str, Any]: ...


class EventPublishError(Exception):
    """Some events were still refused after every attempt; the message lists the error codes."""


class EventBusPublisher:
    def __init__(
        self,
        bus_name: str,
        source: str = "helpdesk",
        *,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not bus_name:
            raise ValueError("bus_name is required: the name or ARN of the EventBridge bus")
        self._bus_name = bus_name
        self._source = source
        self._client = client
        self._sleep = sleep

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("events")

    def entry(self, event: BusEvent) -> dict[str, Any]:
        """The PutEvents entry of one event."""
        return {
            "EventBusName": self._bus_name,
            "Source": self._source,
            "DetailType": str(event.detail_type),
            "Detail": json.dumps(dict(event.detail), separators=(",", ":"), ensure_ascii=False),
        }

    def publish(self, events: Iterable[BusEvent]) -> None:
        """Put every event on the bus, or raise ``EventPublishError``."""
        entries = [self.entry(event) for event in events]
        for batch in _batches(entries):
            self._put(batch)

    def _put(self, entries: list[dict[str, Any]]) -> None:
        pending = entries
        errors: list[str] = []
        for attempt in range(ATTEMPTS):
            if attempt:
                self._sleep(BASE_DELAY_SECONDS * 2 ** (attempt - 1))
            response = self.client.put_events(Entries=pending)
            if not response.get("FailedEntryCount"):
                return
            # Results come back in the order of the entries; a failed one has an ErrorCode.
            results = response.get("Entries", [])
            paired = zip(pending, results, strict=True)
            failed = [(entry, result) for entry, result in paired if result.get("ErrorCode")]
            pending = [entry for entry, _ in failed]
            errors = sorted({f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}" for _, result in failed})
            if not pending:
                return
        raise EventPublishError(
            f"{len(pending)} of {len(entries)} events refused by bus {self._bus_name} after {ATTEMPTS} attempts: "
            + "; ".join(errors)
        )


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it against the request limit."""
    size = TIME_BYTES
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key, "")).encode())
    size += sum(len(resource.encode()) for resource in entry.get("Resources", []))
    return size


def _batches(entries: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    batch_size = 0
    for entry in entries:
        size = entry_size(entry)
        if size > MAX_REQUEST_BYTES:
            raise EventPublishError(
                f"event {entry['DetailType']} is {size} bytes: more than the {MAX_REQUEST_BYTES} EventBridge accepts"
            )
        if batch and (len(batch) == MAX_ENTRIES or batch_size + size > MAX_REQUEST_BYTES):
            yield batch
            batch, batch_size = [], 0
        batch.append(entry)
        batch_size += size
    if batch:
        yield batch
