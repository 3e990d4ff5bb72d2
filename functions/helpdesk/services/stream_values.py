"""Values as the table's stream images hold them: maps and lists kept as JSON strings, times as ISO text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def json_map(value: Any) -> dict[str, Any]:
    """A map attribute, stored either as a DynamoDB map or (``JSONAttribute``) as a JSON string."""
    if isinstance(value, str):
        value = json.loads(value) if value else None
    return value if isinstance(value, dict) else {}


def when(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        value = json.loads(value) if value else None
    return value if isinstance(value, list) else []
