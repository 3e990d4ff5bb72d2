"""The event lake's layout: where each domain event lands in S3, and the tables that describe it.

Every event this system puts on its bus is kept in the lake bucket exactly as EventBridge delivered
it (the whole envelope, ``detail`` included), one JSON document per line, gzip-compressed:

    events/detail_type=<DetailType>/dt=<YYYY-MM-DD>/<stream>-<n>-<YYYY-MM-DD-HH-MM-SS>-<uuid>.json.gz

``dt`` is the UTC day of the event's ``detail.occurred_at`` (not of its arrival), so a report for a
range of days reads exactly those days' partitions. In AWS Firehose writes these objects with dynamic
partitioning (the jq queries in ``PARTITION_QUERIES``); locally the lake writer does the same in
Python (``partition_of``), and a test keeps the two equal.

Why newline-delimited JSON and not Parquet: one Firehose stream carries every detail type, each with
its own schema, and Firehose's Parquet conversion takes one schema per stream; the events are small
and few (a help desk's whole year is megabytes compressed, and Athena bills at least 10 MB a query);
a field added to an event lands in the lake at once and old files stay readable; and erasure can
rewrite an object with nothing but the standard library (see ``ERASURE``).

One Glue table per detail type (``raw_table``: a ``detail`` struct column from the event's JSON
Schema, partition projection on ``dt``) and one typed, de-duplicated view over it (``base_view``)
are generated here from ``events/schemas``; the metric views are SQL files beside the reports.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EVENTS_PREFIX = "events/"
PARTITION_QUERIES: dict[str, str] = {
    "detail_type": '.["detail-type"]',
    "dt": ".detail.occurred_at[0:10]",
}
"""Firehose's dynamic partitioning keys (jq 1.6): the detail type, and the UTC day the event happened."""
OBJECT_PREFIX = "events/detail_type=!{partitionKeyFromQuery:detail_type}/dt=!{partitionKeyFromQuery:dt}/"
ERROR_PREFIX = "errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/"
FILE_EXTENSION = ".json.gz"
FIRST_DAY = "2024-01-01"
"""Partition projection's first day; nothing in the lake is older than the system."""

ERASURE = "rewrite"
"""How erasure reaches the lake: by rewriting the objects that hold a customer's events, not by a
tombstone list. A query for ``"$path"`` (Athena; ``filename`` in DuckDB) where ``customer_id`` (or a
``ticket_id``/``conversation_id`` of theirs: ``TicketReplied`` carries no customer) matches names the
objects; each is read, filtered line by line (``decode``/``encode``) and written back under its key.
Objects hold one Firehose buffer, so this is cheap; wait one buffer interval after the customer's
last activity (or rewrite twice) so nothing of theirs is still in flight. See infra/README.md."""

_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class LakeRecordError(ValueError):
    """An event that can't be placed in the lake (it goes to Firehose's error prefix in AWS)."""


def partition_of(event: Mapping[str, Any]) -> tuple[str, str]:
    """(detail type, day) of one bus event: what ``PARTITION_QUERIES`` extract, in Python."""
    detail_type = event.get("detail-type")
    detail = event.get("detail")
    occurred = detail.get("occurred_at") if isinstance(detail, Mapping) else None
    day = occurred[0:10] if isinstance(occurred, str) else None
    if not isinstance(detail_type, str) or not detail_type or day is None or not _LINE.match(day):
        raise LakeRecordError("an event needs a detail-type and a detail.occurred_at to be placed in the lake")
    return detail_type, day


def object_prefix(detail_type: str, day: str) -> str:
    """The key prefix ``OBJECT_PREFIX`` gives one partition."""
    return OBJECT_PREFIX.replace("!{partitionKeyFromQuery:detail_type}", detail_type).replace(
        "!{partitionKeyFromQuery:dt}", day
    )


def object_key(detail_type: str, day: str, stream: str, written_at: datetime, unique: str) -> str:
    """A lake object's key, as Firehose names them: the partition's prefix, then
    ``<stream>-<version>-<YYYY-MM-DD-HH-MM-SS>-<unique>`` and the file extension."""
    stamp = written_at.astimezone(UTC).strftime("%Y-%m-%d-%H-%M-%S")
    return f"{object_prefix(detail_type, day)}{stream}-1-{stamp}-{unique}{FILE_EXTENSION}"


def encode(events: Iterable[Mapping[str, Any]]) -> bytes:
    """One lake object's body: each event as one line of JSON, gzip-compressed."""
    lines = "".join(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n" for event in events)
    return gzip.compress(lines.encode(), mtime=0)


def decode(body: bytes) -> list[dict[str, Any]]:
    """The events of one lake object."""
    return [json.loads(line) for line in gzip.decompress(body).decode().splitlines() if line.strip()]


def snake(detail_type: str) -> str:
    """``TicketCreated`` -> ``ticket_created``: the name of its view."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", detail_type).lower()


def raw_table(detail_type: str) -> str:
    """The Glue table over one detail type's objects."""
    return f"raw_{snake(detail_type)}"


# --- columns from the JSON Schemas ---------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    """``string``, ``timestamp`` (an ISO 8601 string in the lake), ``bigint`` or ``boolean``."""


@dataclass(frozen=True)
class EventTable:
    detail_type: str
    columns: tuple[Column, ...]

    @property
    def view(self) -> str:
        return snake(self.detail_type)

    @property
    def raw(self) -> str:
        return raw_table(self.detail_type)

    def glue_struct(self) -> str:
        """The ``detail`` column's Glue type: ``struct<event_id:string,...>``."""
        fields = ",".join(f"{c.name}:{_GLUE[c.kind]}" for c in self.columns)
        return f"struct<{fields}>"

    def duckdb_struct(self) -> str:
        fields = ", ".join(f'"{c.name}" {_DUCKDB[c.kind]}' for c in self.columns)
        return f"STRUCT({fields})"

    def base_view_sql(self) -> str:
        """The typed, de-duplicated view (Trino SQL): one row per event, however often it was delivered.

        A redelivered event is byte-identical in ``detail`` and lands in the same ``dt``, so DISTINCT
        removes it, and a filter on ``dt`` still reaches the table (partition pruning).
        """
        return f"CREATE OR REPLACE VIEW {self.view} AS\n{self.base_select_sql()}"

    def base_select_sql(self) -> str:
        """The base view's query alone (DuckDB keeps its answer as a table, refreshed as objects load)."""
        selected = [_select(c) for c in self.columns]
        body = ",\n  ".join([*selected, "dt"])
        return f"SELECT DISTINCT\n  {body}\nFROM {self.raw}"


_GLUE = {"string": "string", "timestamp": "string", "bigint": "bigint", "boolean": "boolean"}
_DUCKDB = {"string": "VARCHAR", "timestamp": "VARCHAR", "bigint": "BIGINT", "boolean": "BOOLEAN"}


def _select(column: Column) -> str:
    source = f'detail."{column.name}"'
    if column.kind == "timestamp":
        return f'from_iso8601_timestamp({source}) AS "{column.name}"'
    return f'{source} AS "{column.name}"'


def _kind(name: str, spec: Mapping[str, Any]) -> str:
    types = spec.get("type")
    names = set(types) if isinstance(types, list) else {types} if types else set()
    names.discard("null")
    if "enum" in spec:
        values = {type(v) for v in spec["enum"] if v is not None}
        if values <= {str}:
            return "string"
    if names == {"integer"}:
        return "bigint"
    if names == {"boolean"}:
        return "boolean"
    if names == {"string"}:
        return "timestamp" if spec.get("format") == "date-time" else "string"
    raise ValueError(f"property {name!r}: no lake column type for JSON Schema {dict(spec)}")


def event_table(schema: Mapping[str, Any]) -> EventTable:
    """One detail type's table, from its JSON Schema (the columns in the schema's order)."""
    properties: Mapping[str, Any] = schema["properties"]
    return EventTable(
        detail_type=str(schema["title"]),
        columns=tuple(Column(name, _kind(name, spec)) for name, spec in properties.items()),
    )


def event_tables(schemas_dir: Path) -> tuple[EventTable, ...]:
    """Every detail type's table, from ``events/schemas/*.json``, by name."""
    schemas = (json.loads(path.read_text()) for path in sorted(schemas_dir.glob("*.json")))
    return tuple(event_table(schema) for schema in schemas)


def table_named(tables: Iterable[EventTable], detail_type: str) -> EventTable:
    for table in tables:
        if table.detail_type == detail_type:
            return table
    raise KeyError(f"no lake table for detail type {detail_type!r}")
