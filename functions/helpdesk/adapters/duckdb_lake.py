"""The lake queried with DuckDB: the local runtime's and the tests' stand-in for Athena.

It reads the same objects Firehose writes (``helpdesk.domain.lake``), from a directory that mirrors
the lake bucket: ``sync()`` copies the objects the bucket has and the mirror hasn't (Firehose's objects
never change once written; erasure rewrites are caught by their ETag). Each object's events are loaded
once into an in-memory ``raw_*`` table per detail type (the ``detail`` struct from the event's JSON
Schema, with the object's name, so a rewritten object replaces its rows), the counterpart of Athena's
Glue tables; over them, the generated base views' queries (kept as tables, recomputed for a detail
type when its objects load) and the same metric views Athena has. Loading once instead of reading the
gzip'd JSON at every query keeps a page of reports fast at a million events.

**The one place the SQL dialects differ.** Everything is written in Trino SQL and translated here
with sqlglot (``to_duckdb``), plus one rewrite sqlglot doesn't make: Trino's
``from_iso8601_timestamp`` gives a timestamp with time zone; here it becomes a plain ``TIMESTAMP``
in UTC (the lake's timestamps all end in ``Z``), so results need neither pytz nor the ICU extension.

Runs a query at ``start`` (DuckDB is embedded and fast), so the report service's start/poll/results
steps behave as on Athena. Never used in AWS: duckdb and sqlglot are development dependencies only.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from helpdesk.domain.lake import EVENTS_PREFIX, FILE_EXTENSION, EventTable, event_tables
from helpdesk.domain.metrics import BoundQuery, QueryFailed, QueryResult, QueryState, metric_views

REPO = Path(__file__).resolve().parents[3]
SCHEMAS_DIR = REPO / "events" / "schemas"


@cache
def to_duckdb(trino_sql: str) -> str:
    """One statement of Trino SQL as DuckDB runs it (see the module's docstring)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(trino_sql, read="trino")

    def plain_utc(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.FromISO8601Timestamp):
            return exp.cast(node.this, exp.DataType.Type.TIMESTAMP)
        return node

    return tree.transform(plain_utc).sql(dialect="duckdb")


def _value(value: Any) -> Any:
    """JSON-ready cell values, as the Athena adapter gives them."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


class DuckDbLake:
    """Implements the report service's ``LakeQueries`` port over a mirror of the lake bucket."""

    def __init__(
        self,
        mirror: Path,
        *,
        bucket: str | None = None,
        s3_client: Any = None,
        schemas_dir: Path = SCHEMAS_DIR,
    ) -> None:
        self._mirror = mirror
        self._bucket = bucket
        self._s3 = s3_client
        self._tables = event_tables(schemas_dir)
        self._lock = threading.Lock()
        self._results: dict[str, QueryResult | QueryFailed] = {}
        self._etags: dict[str, str] = {}
        self._connection: Any = None

    # --- the mirror ------------------------------------------------------------------------------

    def sync(self) -> list[Path]:
        """Copy the bucket's new or rewritten lake objects into the mirror; the paths copied."""
        if self._bucket is None:
            return []
        client = self._s3
        if client is None:
            import boto3

            client = self._s3 = boto3.client("s3")
        copied: list[Path] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=EVENTS_PREFIX):
            for item in page.get("Contents", []):
                key, etag = item["Key"], item.get("ETag", "")
                if not key.endswith(FILE_EXTENSION) or self._etags.get(key) == etag:
                    continue
                target = self._mirror / key
                target.parent.mkdir(parents=True, exist_ok=True)
                body = client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
                partial = target.with_suffix(".part")
                partial.write_bytes(body)
                partial.replace(target)
                self._etags[key] = etag
                copied.append(target)
        return copied

    # --- tables and views ------------------------------------------------------------------------

    def _by_detail_type(self, paths: Iterable[Path]) -> dict[str, list[Path]]:
        grouped: dict[str, list[Path]] = {}
        for path in paths:
            detail_type = path.parent.parent.name.removeprefix("detail_type=")
            grouped.setdefault(detail_type, []).append(path)
        return grouped

    def _load(self, table: EventTable, paths: list[Path]) -> None:
        """(Re)load these objects' events into the detail type's table (an object rewritten by erasure
        replaces its rows)."""
        names = [str(path) for path in paths]
        self._connection.execute(f"DELETE FROM {table.raw} WHERE filename IN (SELECT unnest(?))", [names])  # noqa: S608
        struct = table.duckdb_struct().replace("'", "''")
        self._connection.execute(
            f"INSERT INTO {table.raw} SELECT detail, dt, filename FROM read_json(?, "  # noqa: S608
            f"columns={{'detail': '{struct}'}}, format='newline_delimited', compression='gzip', "
            "hive_partitioning=true, hive_types={'dt': 'VARCHAR'}, filename=true)",
            [names],
        )

    def statements(self) -> Iterable[str]:
        """The statements that create the tables (one per detail type) and every view, in order."""
        for table in self._tables:
            columns = f"detail {table.duckdb_struct()}, dt VARCHAR, filename VARCHAR"
            yield f"CREATE TABLE IF NOT EXISTS {table.raw} ({columns})"
        for table in self._tables:
            yield self._base_table(table)
        for view in metric_views():
            yield to_duckdb(view.sql)

    @staticmethod
    def _base_table(table: EventTable) -> str:
        """The base view's query, kept as a table: computed when objects load, not at every query."""
        return f"CREATE OR REPLACE TABLE {table.view} AS {to_duckdb(table.base_select_sql())}"

    def refresh(self) -> None:
        """Sync the mirror, and load what is new in it into the tables the views read (at first, all of it)."""
        import duckdb

        with self._lock:
            self._mirror.mkdir(parents=True, exist_ok=True)
            copied = self.sync()
            if self._connection is None:
                self._connection = duckdb.connect()
                self._connection.execute("SET enable_progress_bar = false")
                for statement in self.statements():
                    self._connection.execute(statement)
                copied = sorted((self._mirror / "events").glob(f"detail_type=*/dt=*/*{FILE_EXTENSION}"))
            tables = {table.detail_type: table for table in self._tables}
            for detail_type, paths in self._by_detail_type(copied).items():
                if detail_type in tables:
                    self._load(tables[detail_type], paths)
                    self._connection.execute(self._base_table(tables[detail_type]))

    # --- the port --------------------------------------------------------------------------------

    def start(self, query: BoundQuery) -> str:
        execution_id = str(uuid.uuid4())
        self.refresh()
        with self._lock:
            try:
                cursor = self._connection.execute(to_duckdb(query.sql), list(query.values))
                columns = tuple(str(column[0]) for column in cursor.description)
                rows = tuple(tuple(_value(v) for v in row) for row in cursor.fetchall())
                self._results[execution_id] = QueryResult(columns=columns, rows=rows, scanned_bytes=None)
            except Exception as error:  # noqa: BLE001 - DuckDB's errors are the query's outcome, as on Athena
                self._results[execution_id] = QueryFailed(reason=f"{type(error).__name__}: {error}")
        return execution_id

    def state(self, execution_id: str) -> QueryState:
        outcome = self._results.get(execution_id)
        if outcome is None:
            return QueryState.FAILED
        return QueryState.FAILED if isinstance(outcome, QueryFailed) else QueryState.SUCCEEDED

    def results(self, execution_id: str) -> QueryResult:
        outcome = self._results.get(execution_id)
        if isinstance(outcome, QueryResult):
            return outcome
        raise RuntimeError(outcome.reason if outcome else f"no query {execution_id}")

    def failure(self, execution_id: str) -> str | None:
        outcome = self._results.get(execution_id)
        return outcome.reason if isinstance(outcome, QueryFailed) else None
