"""The reports' metrics, written once in SQL (Trino, as Athena runs it) beside this module.

- ``lake_sql/views/*.sql``: the metric views over the lake's base views, created in file-name order
  (each may use the ones before). Athena gets them from the deployment (a custom resource runs them);
  DuckDB gets the same text, translated in one place (``helpdesk.adapters.duckdb_lake``).
- ``lake_sql/reports/<section>.sql``: one query per report section, and ``items_<section>.sql`` for the
  conversations or tickets behind a segment of its chart. Parameters are named (``:from_day``); a
  query is bound into positional ``?`` parameters, which both engines take. A ``-- with: <name>`` line
  after a query's ``WITH`` brings in ``reports/shared/<name>.sql``, subqueries two queries share.

Filters use ``''`` for "all" (``:team_id = '' OR team_id = :team_id``), so no parameter is ever null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

SQL_DIR = Path(__file__).with_name("lake_sql")
SECTIONS: tuple[str, ...] = (
    "summary",
    "volumes_by_day",
    "volumes",
    "response_times",
    "sla",
    "csat",
    "bot_paths",
    "handoff_reasons",
    "knowledge",
    "backlog",
)
"""The report's sections, in the order the page shows them."""
DRILLABLE: tuple[str, ...] = tuple(
    section for section in SECTIONS if (SQL_DIR / "reports" / f"items_{section}.sql").exists()
)
_PARAMETER = re.compile(r"(?<![:\w]):([a-z_]+)\b")
_SHARED = re.compile(r"^-- with: (\w+)$", re.MULTILINE)


class QueryState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class QueryResult:
    """A query's answer: column names and rows of JSON-ready values (timestamps as ISO 8601 strings)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    scanned_bytes: int | None = None
    """What Athena billed for (None where the engine doesn't say)."""

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class QueryFailed:
    reason: str


@dataclass(frozen=True)
class View:
    name: str
    sql: str


@dataclass(frozen=True)
class BoundQuery:
    """A query ready to run: positional ``?`` parameters and their values, in order."""

    sql: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ReportQuery:
    name: str
    sql: str

    @property
    def parameters(self) -> tuple[str, ...]:
        """The named parameters it takes, each once, in order of first use."""
        return tuple(dict.fromkeys(_PARAMETER.findall(_code(self.sql))))

    def bind(self, values: Mapping[str, str]) -> BoundQuery:
        """Named parameters to positional ones; raises ``KeyError`` naming a missing parameter."""
        missing = [name for name in self.parameters if name not in values]
        if missing:
            raise KeyError(f"query {self.name} needs {', '.join(missing)}")
        ordered: list[str] = []

        def placeholder(match: re.Match[str]) -> str:
            ordered.append(str(values[match.group(1)]))
            return "?"

        return BoundQuery(sql=_PARAMETER.sub(placeholder, _code(self.sql)), values=tuple(ordered))


def _code(sql: str) -> str:
    """The SQL without its comments (they may mention parameters) and the trailing newline."""
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip()


def _name(sql: str, path: Path) -> str:
    match = re.search(r"CREATE OR REPLACE VIEW (\w+)", sql)
    if match is None:
        raise ValueError(f"{path.name} doesn't create a view (CREATE OR REPLACE VIEW <name> AS ...)")
    return match.group(1)


@cache
def metric_views() -> tuple[View, ...]:
    """The metric views, in the order they must be created."""
    paths = sorted((SQL_DIR / "views").glob("*.sql"))
    return tuple(View(name=_name(path.read_text(), path), sql=_code(path.read_text())) for path in paths)


@cache
def report_query(name: str) -> ReportQuery:
    """The query, with each ``-- with: <name>`` line replaced by ``reports/shared/<name>.sql`` (named subqueries
    two queries share)."""
    path = SQL_DIR / "reports" / f"{name}.sql"
    if not path.exists():
        raise KeyError(f"no report query {name!r}")
    shared = SQL_DIR / "reports" / "shared"
    sql = _SHARED.sub(lambda match: (shared / f"{match.group(1)}.sql").read_text().rstrip("\n"), path.read_text())
    return ReportQuery(name=name, sql=sql)


def section_query(section: str) -> ReportQuery:
    return report_query(section)


def items_query(section: str) -> ReportQuery:
    return report_query(f"items_{section}")


class ReportStatus(StrEnum):
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class StoredReport(BaseModel):
    """One cached answer (or a query still running), as the ``ReportResults`` port keeps it."""

    key: str
    status: ReportStatus
    execution_id: str | None = None
    columns: list[str] = []
    rows: list[list[Any]] = []
    truncated: bool = False
    reason: str | None = None
    created_at: datetime
    expires_at: datetime
