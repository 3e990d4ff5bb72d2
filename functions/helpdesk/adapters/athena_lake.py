"""The lake queried with Athena: the report service's ``LakeQueries`` port in AWS.

Queries run in the reports workgroup (which enforces its own result location, encryption and
bytes-scanned limit) against the lake's Glue database. ``start`` returns at once with the execution
id; ``state`` and ``results`` are asked later, by the same request or a later one. Parameters go as
Athena's execution parameters (string literals), never into the SQL text.

Athena returns every cell as text; ``results`` types them by the result set's column types, and
gives timestamps as ISO 8601 UTC strings, as the DuckDB adapter does.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

import boto3

from helpdesk.domain.metrics import BoundQuery, QueryResult, QueryState

_STATES = {
    "QUEUED": QueryState.RUNNING,
    "RUNNING": QueryState.RUNNING,
    "SUCCEEDED": QueryState.SUCCEEDED,
    "FAILED": QueryState.FAILED,
    "CANCELLED": QueryState.FAILED,
}
_INTEGERS = {"tinyint", "smallint", "integer", "bigint"}
_DECIMALS = {"double", "real", "float", "decimal"}


def literal(value: str) -> str:
    """A string as an Athena execution parameter: a quoted SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def _cell(value: str | None, kind: str) -> Any:
    if value is None:
        return None
    kind = kind.lower()
    if kind in _INTEGERS:
        return int(value)
    if kind in _DECIMALS:
        return float(value)
    if kind == "boolean":
        return value == "true"
    if kind.startswith("timestamp"):
        text = value.removesuffix(" UTC").replace(" ", "T")
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return value


class AthenaLake:
    def __init__(self, database: str, workgroup: str, *, client: Any = None) -> None:
        if not database or not workgroup:
            raise ValueError("the lake's Glue database and the Athena workgroup are both required")
        self._database = database
        self._workgroup = workgroup
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("athena")

    def start(self, query: BoundQuery) -> str:
        request: dict[str, Any] = {
            "QueryString": query.sql,
            "QueryExecutionContext": {"Database": self._database},
            "WorkGroup": self._workgroup,
        }
        if query.values:
            request["ExecutionParameters"] = [literal(value) for value in query.values]
        return str(self.client.start_query_execution(**request)["QueryExecutionId"])

    def _execution(self, execution_id: str) -> dict[str, Any]:
        execution: dict[str, Any] = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
        return execution

    def state(self, execution_id: str) -> QueryState:
        return _STATES.get(self._execution(execution_id)["Status"]["State"], QueryState.FAILED)

    def failure(self, execution_id: str) -> str | None:
        status = self._execution(execution_id)["Status"]
        if _STATES.get(status["State"]) is not QueryState.FAILED:
            return None
        return str(status.get("StateChangeReason") or status["State"])

    def results(self, execution_id: str) -> QueryResult:
        execution = self._execution(execution_id)
        scanned = execution.get("Statistics", {}).get("DataScannedInBytes")
        columns: tuple[str, ...] = ()
        kinds: list[str] = []
        rows: list[tuple[Any, ...]] = []
        first = True
        for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
            result_set = page["ResultSet"]
            if not columns:
                info = result_set["ResultSetMetadata"]["ColumnInfo"]
                columns = tuple(str(c["Name"]) for c in info)
                kinds = [str(c["Type"]) for c in info]
            data = result_set.get("Rows", [])
            if first and data:
                data = data[1:]  # a SELECT's first row repeats the column names
            first = False
            for row in data:
                cells = [cell.get("VarCharValue") for cell in row["Data"]]
                rows.append(tuple(_cell(v, k) for v, k in zip(cells, kinds, strict=True)))
        return QueryResult(columns=columns, rows=tuple(rows), scanned_bytes=int(scanned) if scanned else None)

    def run_statement(self, sql: str, *, poll: Any = None, timeout_seconds: float = 120) -> None:
        """Run one statement to its end (``CREATE OR REPLACE VIEW`` at deployment); raise if it fails."""
        import time

        sleep = poll or time.sleep
        execution_id = self.start(BoundQuery(sql=sql, values=()))
        waited = 0.0
        while (state := self.state(execution_id)) is QueryState.RUNNING:
            if waited > timeout_seconds:
                raise TimeoutError(f"statement still running after {timeout_seconds:.0f}s: {sql.splitlines()[0]}")
            sleep(0.5)
            waited += 0.5
        if state is QueryState.FAILED:
            raise RuntimeError(f"{sql.splitlines()[0]} failed: {self.failure(execution_id)}")
