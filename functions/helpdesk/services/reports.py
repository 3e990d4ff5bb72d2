"""The Reports page's figures: one section of the report (or the items behind a segment of its chart)
for a range of days and optional team and channel filters.

A section is one query (``helpdesk.domain.metrics``) over the lake's views, run by the ``LakeQueries``
port: Athena in AWS (asynchronous: started by one request, collected by a later one), DuckDB locally
and in tests. Answers are kept in the table per section, range, filters and query text
(``ReportResults``), so a range asked again costs one GetItem; a range that ends before today is
final once the lake has caught up (Firehose buffers for minutes), so it is kept a day; one that
includes today only a few minutes. The daily rollup (``warm``) fills the common ranges every morning.

Each call reads the cache once and writes it at most once (two DynamoDB requests).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from helpdesk.domain.errors import InvalidInput, NotFound
from helpdesk.domain.metrics import (
    DRILLABLE,
    SECTIONS,
    BoundQuery,
    QueryState,
    ReportStatus,
    StoredReport,
    items_query,
    section_query,
)
from helpdesk.domain.policy import Action, Resource, authorize
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.workspace import Workspace
from helpdesk.services.ports import LakeQueries, ReportResults

__all__ = ["LakeQueries", "ReportResults", "ReportStatus", "StoredReport"]

CHANNELS = ("messenger", "email", "inbox")
"""Where conversations and tickets come from: the messenger, email, or an agent in the inbox."""
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "sla": ("policy", "team", "agent"),
    "csat": ("team", "agent", "type", "path"),
}
OUTCOMES = ("met", "breached")
MAX_RANGE_DAYS = 400
MAX_ROWS = 1000
"""Rows kept of one answer (a drill-down list is cut there, and says so)."""
SETTLED_AFTER = timedelta(minutes=15)
"""How long after a day ends its events may still be arriving (Firehose's buffer, retries)."""
FRESH_FOR = timedelta(minutes=5)
"""How long an answer for a range that includes today is kept: about Firehose's buffer. The local
runtime, whose lake is seconds behind, keeps them seconds (``REPORTS_FRESH_SECONDS``)."""
FINAL_FOR = timedelta(days=1)
COMMON_RANGES = (1, 7, 30)
"""The rollup's ranges: yesterday, the last 7 days and the last 30, ending yesterday."""


@dataclass(frozen=True)
class ReportRange:
    """The days (UTC, both included) and filters of a report; ``None`` filters mean all."""

    from_day: date
    to_day: date
    team_id: str | None = None
    channel: str | None = None

    def parameters(self) -> dict[str, str]:
        end = datetime.combine(self.to_day, datetime.max.time(), tzinfo=UTC)
        return {
            "from_day": self.from_day.isoformat(),
            "to_day": self.to_day.isoformat(),
            "team_id": self.team_id or "",
            "channel": self.channel or "",
            "as_of": end.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }


@dataclass(frozen=True)
class Segment:
    """A clicked part of a chart: what the items list is for."""

    segment: str = ""
    breakdown: str = ""
    outcome: str = ""

    def parameters(self) -> dict[str, str]:
        return {"segment": self.segment, "breakdown": self.breakdown, "outcome": self.outcome}


@dataclass
class SectionAnswer:
    section: str
    status: ReportStatus
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    truncated: bool = False
    generated_at: datetime | None = None
    retry_after_seconds: int | None = None
    reason: str | None = None
    """Why a failed section couldn't be computed (the engine's words; never customer data)."""

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def csv(self) -> str:
        """The table as CSV: a header row, then the rows as the page shows them."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if value is None else value for value in row])
        return out.getvalue()


def parse_range(
    workspace: Workspace,
    today: date,
    from_day: str | None,
    to_day: str | None,
    team_id: str | None,
    channel: str | None,
) -> ReportRange:
    """The report range a request asks for (default: the last 7 days up to today), or ``InvalidInput``
    naming each field that is wrong."""
    problems: list[tuple[str, str]] = []

    def day(name: str, value: str | None, default: date) -> date:
        if value in (None, ""):
            return default
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            problems.append((name, "must be a date as YYYY-MM-DD"))
            return default

    end = day("to", to_day, today)
    start = day("from", from_day, end - timedelta(days=6))
    if not problems:
        if start > end:
            problems.append(("from", "must not be after 'to'"))
        elif (end - start).days + 1 > MAX_RANGE_DAYS:
            problems.append(("from", f"a report covers at most {MAX_RANGE_DAYS} days"))
        if end > today:
            problems.append(("to", "must not be in the future"))
    teams = {team.id for team in workspace.teams}
    if team_id and team_id not in teams:
        problems.append(("team_id", f"must be one of the workspace's teams: {', '.join(sorted(teams))}"))
    if channel and channel not in CHANNELS:
        problems.append(("channel", f"must be one of {', '.join(CHANNELS)}"))
    if problems:
        raise InvalidInput("the report range is invalid", problems)
    return ReportRange(start, end, team_id or None, channel or None)


def parse_segment(section: str, segment: str | None, breakdown: str | None, outcome: str | None) -> Segment:
    problems: list[tuple[str, str]] = []
    allowed = BREAKDOWNS.get(section)
    if allowed is not None and (breakdown or "") not in allowed:
        problems.append(("breakdown", f"must be one of {', '.join(allowed)}"))
    if allowed is None and breakdown:
        problems.append(("breakdown", f"the {section} section has no breakdowns"))
    if outcome and (section != "sla" or outcome not in OUTCOMES):
        problems.append(("outcome", f"only the sla section takes an outcome: {', '.join(OUTCOMES)}"))
    if segment is not None and len(segment) > 200:
        problems.append(("segment", "must be at most 200 characters"))
    if problems:
        raise InvalidInput("the segment is invalid", problems)
    return Segment(segment or "", breakdown or "", outcome or "")


class ReportService:
    def __init__(
        self,
        lake: LakeQueries,
        results: ReportResults,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        fresh_for: timedelta = FRESH_FOR,
    ) -> None:
        self._lake = lake
        self._results = results
        self._clock = clock
        self._fresh_for = fresh_for

    def today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def section(
        self, agent: AgentPrincipal, section: str, report_range: ReportRange, segment: Segment | None = None
    ) -> SectionAnswer:
        """One section's table (or, with ``segment``, the items behind it): ready, or still running."""
        authorize(agent, Action.VIEW_REPORTS, Resource.reports(report_range.team_id))
        known = DRILLABLE if segment is not None else SECTIONS
        if section not in known:
            raise NotFound(f"no report section {section!r}" + (" with items" if segment is not None else ""))
        return self._answer(section, report_range, segment)

    def _answer(self, section: str, report_range: ReportRange, segment: Segment | None) -> SectionAnswer:
        query = items_query(section) if segment is not None else section_query(section)
        bound = query.bind(report_range.parameters() | (segment or Segment()).parameters())
        key = _key(section, segment is not None, bound)
        now = self._clock()
        stored = self._results.get(key)
        if stored is not None and stored.expires_at > now and stored.status is ReportStatus.READY:
            return _answer(section, stored)
        running = stored is not None and stored.status is ReportStatus.RUNNING and stored.expires_at > now
        if stored is not None and running and stored.execution_id:
            return self._collect(section, stored, report_range)
        execution_id = self._lake.start(bound)
        started = StoredReport(
            key=key, status=ReportStatus.RUNNING, execution_id=execution_id, created_at=now, expires_at=now + FINAL_FOR
        )
        return self._collect(section, started, report_range, started=True)

    def _collect(
        self, section: str, stored: StoredReport, report_range: ReportRange, *, started: bool = False
    ) -> SectionAnswer:
        """Look at a running query once: store its answer when it is done (or that it is running, when new)."""
        assert stored.execution_id is not None
        state = self._lake.state(stored.execution_id)
        now = self._clock()
        if state is QueryState.RUNNING:
            if started:
                self._results.put(stored)
            return SectionAnswer(section=section, status=ReportStatus.RUNNING, retry_after_seconds=2)
        if state is QueryState.FAILED:
            reason = self._lake.failure(stored.execution_id) or "the query failed"
            failed = stored.model_copy(
                update={"status": ReportStatus.FAILED, "reason": reason, "expires_at": now + timedelta(minutes=1)}
            )
            self._results.put(failed)
            return SectionAnswer(section=section, status=ReportStatus.FAILED, reason=reason)
        result = self._lake.results(stored.execution_id)
        rows = [list(row) for row in result.rows]
        ready = stored.model_copy(
            update={
                "status": ReportStatus.READY,
                "columns": list(result.columns),
                "rows": rows[:MAX_ROWS],
                "truncated": len(rows) > MAX_ROWS,
                "expires_at": now + self._lifetime(report_range, now),
            }
        )
        self._results.put(ready)
        return _answer(section, ready)

    def _lifetime(self, report_range: ReportRange, now: datetime) -> timedelta:
        settled = datetime.combine(report_range.to_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        return FINAL_FOR if now >= settled + SETTLED_AFTER else self._fresh_for

    # --- the daily rollup --------------------------------------------------------------------------

    def common_ranges(self) -> list[ReportRange]:
        yesterday = self.today() - timedelta(days=1)
        return [ReportRange(yesterday - timedelta(days=days - 1), yesterday) for days in COMMON_RANGES]

    def warm(self, ranges: Iterable[ReportRange]) -> list[tuple[str, ReportRange]]:
        """Start or collect every section of these ranges; what is still running (ask again later)."""
        pending: list[tuple[str, ReportRange]] = []
        for report_range in ranges:
            for section in SECTIONS:
                if self._answer(section, report_range, None).status is ReportStatus.RUNNING:
                    pending.append((section, report_range))
        return pending


def _key(section: str, items: bool, bound: BoundQuery) -> str:
    digest = hashlib.sha256(json.dumps([bound.sql, list(bound.values)]).encode()).hexdigest()[:32]
    return f"{'items' if items else 'section'}/{section}/{digest}"


def _answer(section: str, stored: StoredReport) -> SectionAnswer:
    return SectionAnswer(
        section=section,
        status=stored.status,
        columns=stored.columns,
        rows=stored.rows,
        truncated=stored.truncated,
        generated_at=stored.created_at,
    )
