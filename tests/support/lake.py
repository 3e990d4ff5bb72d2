"""Lake events for tests and benchmarks: EventBridge envelopes whose ``detail`` matches its JSON Schema,
written into a directory in the lake's layout (``helpdesk.domain.lake``)."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from helpdesk.domain import lake

from tests.conftest import REPO

SCHEMAS = REPO / "events" / "schemas"
DEFAULTS: dict[str, Any] = {
    "customer_id": "customer-1",
    "team_id": "frontline",
    "channel": "messenger",
    "ticket_number": 1,
    "ticket_type_id": "damaged-item",
    "category": "customer",
    "version": 1,
    "assignee_id": None,
    "conversation_id": None,
    "linked_ticket_id": None,
    "tracker_id": None,
    "created_by_type": "agent",
    "state_id": "open",
    "state_category": "submitted",
    "priority": "normal",
    "customer_is_visitor": False,
    "identity_verified": False,
    "status": "open",
    "viewed_object_type": None,
    "path_id": None,
    "step_id": None,
    "resolved_by": None,
    "handoff_reason": None,
    "has_comment": False,
    "due_at": None,
    "breached_at": None,
    "fulfilled": True,
    "target_seconds": 3600,
}


@cache
def schema(detail_type: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{detail_type}.json").read_text())
    return loaded


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def bus_event(detail_type: str, at: datetime, *, event_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """An event as the bus delivers it; required detail fields not given take ``DEFAULTS``."""
    detail: dict[str, Any] = {
        "event_id": event_id or str(uuid.uuid4()),
        "occurred_at": iso(at),
        "sequence": str(int(at.timestamp() * 1000)),
    }
    for name in schema(detail_type)["required"]:
        if name in detail:
            continue
        if name in fields:
            detail[name] = fields[name]
        elif name in DEFAULTS:
            detail[name] = DEFAULTS[name]
        else:
            raise KeyError(f"{detail_type} needs {name}")
    unknown = set(fields) - set(schema(detail_type)["properties"])
    if unknown:
        raise KeyError(f"{detail_type} has no {sorted(unknown)}")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "helpdesk",
        "account": "123456789012",
        "time": iso(at),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def write_lake(root: Path, events: list[dict[str, Any]], *, per_object: int = 1000) -> list[Path]:
    """Write events as Firehose would: grouped by partition, ``per_object`` events an object."""
    partitions: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        partitions[lake.partition_of(event)].append(event)
    written: list[Path] = []
    for (detail_type, day), members in sorted(partitions.items()):
        for start in range(0, len(members), per_object):
            chunk = members[start : start + per_object]
            key = lake.object_key(detail_type, day, "helpdesk-test-lake", datetime.now(UTC), uuid.uuid4().hex)
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(lake.encode(chunk))
            written.append(path)
    return written
