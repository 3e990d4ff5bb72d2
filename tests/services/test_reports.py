"""The report service over the real table cache: Athena's asynchronous life (started by one request,
collected by a later one), DuckDB's immediate one, caching per range, and who may see reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from helpdesk.adapters.athena_lake import AthenaLake, literal
from helpdesk.adapters.duckdb_lake import DuckDbLake
from helpdesk.adapters.store import ReportResultTable
from helpdesk.domain.errors import Forbidden, InvalidInput, NotFound
from helpdesk.domain.metrics import BoundQuery, QueryResult, QueryState
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.roles import Role
from helpdesk.services.reports import (
    ReportRange,
    ReportService,
    ReportStatus,
    Segment,
    parse_range,
    parse_segment,
)

from tests.support.lake import bus_event, write_lake
from tests.support.principals import ADMIN, FRONTLINE_AGENT

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
LAST_WEEK = ReportRange(date(2026, 3, 2), date(2026, 3, 8))
RETURNS_LEAD = AgentPrincipal(id="agent-lena", name="Lena", teams=frozenset({"returns"}), role=Role.LEAD)


class SlowLake:
    """Answers like Athena: running for a while after it is started."""

    def __init__(self, polls_until_done: int = 1, *, fails: bool = False) -> None:
        self.started: list[BoundQuery] = []
        self.polls: dict[str, int] = {}
        self.polls_until_done = polls_until_done
        self.fails = fails

    def start(self, query: BoundQuery) -> str:
        self.started.append(query)
        execution_id = f"q{len(self.started)}"
        self.polls[execution_id] = 0
        return execution_id

    def state(self, execution_id: str) -> QueryState:
        self.polls[execution_id] += 1
        if self.polls[execution_id] <= self.polls_until_done:
            return QueryState.RUNNING
        return QueryState.FAILED if self.fails else QueryState.SUCCEEDED

    def results(self, execution_id: str) -> QueryResult:
        return QueryResult(columns=("conversations", "tickets"), rows=((4, 3),))

    def failure(self, execution_id: str) -> str | None:
        return "TABLE_NOT_FOUND: line 1:1" if self.fails else None


@pytest.fixture
def cache(table: str) -> ReportResultTable:
    return ReportResultTable()


def service(lake: Any, cache: ReportResultTable, now: datetime = NOW) -> ReportService:
    return ReportService(lake, cache, clock=lambda: now)


def test_a_section_athena_is_still_computing_answers_running_then_ready_from_the_cache(
    cache: ReportResultTable, dynamo_calls: Any
) -> None:
    lake = SlowLake(polls_until_done=1)
    reports = service(lake, cache)

    dynamo_calls.reset()
    first = reports.section(ADMIN, "summary", LAST_WEEK)
    assert first.status is ReportStatus.RUNNING
    assert dynamo_calls.count() <= 2
    dynamo_calls.reset()
    second = reports.section(ADMIN, "summary", LAST_WEEK)
    assert dynamo_calls.count() <= 2
    third = reports.section(ADMIN, "summary", LAST_WEEK)

    assert second.status is ReportStatus.READY
    assert second.records() == [{"conversations": 4, "tickets": 3}]
    assert third.records() == second.records()
    assert len(lake.started) == 1  # one query for the range, however often it is asked


def test_the_same_range_with_another_filter_is_another_query(cache: ReportResultTable) -> None:
    lake = SlowLake(polls_until_done=0)
    reports = service(lake, cache)

    reports.section(ADMIN, "summary", LAST_WEEK)
    reports.section(ADMIN, "summary", ReportRange(LAST_WEEK.from_day, LAST_WEEK.to_day, team_id="returns"))

    assert len(lake.started) == 2
    assert lake.started[1].values != lake.started[0].values


def test_a_range_that_includes_today_is_asked_again_after_a_few_minutes(cache: ReportResultTable) -> None:
    lake = SlowLake(polls_until_done=0)
    today = ReportRange(NOW.date() - timedelta(days=6), NOW.date())
    service(lake, cache).section(ADMIN, "summary", today)
    service(lake, cache, NOW + timedelta(minutes=2)).section(ADMIN, "summary", today)
    service(lake, cache, NOW + timedelta(minutes=6)).section(ADMIN, "summary", today)
    service(lake, cache, NOW + timedelta(hours=6)).section(ADMIN, "summary", LAST_WEEK)
    service(lake, cache, NOW + timedelta(hours=7)).section(ADMIN, "summary", LAST_WEEK)

    assert len(lake.started) == 3  # today's twice (stale after 5 minutes), last week's once


def test_a_failed_query_says_why_and_is_tried_again_later(cache: ReportResultTable) -> None:
    lake = SlowLake(polls_until_done=0, fails=True)
    answer = service(lake, cache).section(ADMIN, "summary", LAST_WEEK)
    service(lake, cache, NOW + timedelta(minutes=2)).section(ADMIN, "summary", LAST_WEEK)

    assert answer.status is ReportStatus.FAILED
    assert answer.reason is not None
    assert "TABLE_NOT_FOUND" in answer.reason
    assert len(lake.started) == 2


def test_only_leads_and_admins_see_reports_and_an_unknown_section_is_not_found(cache: ReportResultTable) -> None:
    reports = service(SlowLake(), cache)
    with pytest.raises(Forbidden):
        reports.section(FRONTLINE_AGENT, "summary", LAST_WEEK)
    with pytest.raises(Forbidden):
        reports.section(FRONTLINE_AGENT, "summary", ReportRange(LAST_WEEK.from_day, LAST_WEEK.to_day, "frontline"))
    assert reports.section(RETURNS_LEAD, "summary", LAST_WEEK).section == "summary"
    with pytest.raises(NotFound):
        reports.section(ADMIN, "payroll", LAST_WEEK)
    with pytest.raises(NotFound):
        reports.section(ADMIN, "summary", LAST_WEEK, Segment())  # the summary has no items


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        (("2026-13-01", None, None, None), "from"),
        (("2026-03-09", "2026-03-01", None, None), "from"),
        ((None, "2026-04-01", None, None), "to"),
        (("2024-01-01", "2026-03-01", None, None), "from"),
        ((None, None, "payroll", None), "team_id"),
        ((None, None, None, "fax"), "channel"),
    ],
)
def test_a_bad_range_names_the_field(arguments: tuple[Any, ...], field: str, workspace: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_range(workspace, NOW.date(), *arguments)
    assert field in [name for name, _ in refused.value.problems]


def test_a_bad_segment_names_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_segment("sla", "frontline", "planet", "late")
    assert [name for name, _ in refused.value.problems] == ["breakdown", "outcome"]


def test_the_default_range_is_the_last_seven_days(workspace: Any) -> None:
    assert parse_range(workspace, NOW.date(), None, None, None, None) == ReportRange(date(2026, 3, 4), NOW.date())


def test_the_rollup_fills_the_common_ranges_so_the_page_finds_them_ready(
    cache: ReportResultTable, tmp_path: Path
) -> None:
    yesterday = NOW - timedelta(days=1)
    write_lake(tmp_path, [bus_event("ConversationStarted", yesterday, conversation_id="c1")])
    lake = DuckDbLake(tmp_path)
    reports = service(lake, cache)

    pending = reports.warm(reports.common_ranges())
    answer = reports.section(ADMIN, "summary", ReportRange(yesterday.date(), yesterday.date()))

    assert pending == []
    assert answer.records()[0]["conversations"] == 1


def test_athena_gets_the_query_with_its_parameters_as_literals_and_its_answer_is_typed(aws: None) -> None:
    from moto.athena.models import QueryResults, athena_backends

    client = boto3.client("athena")
    client.create_work_group(Name="reports", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/"}})
    rows = [
        {"Data": [{"VarCharValue": "day"}, {"VarCharValue": "tickets"}, {"VarCharValue": "at"}]},
        {
            "Data": [
                {"VarCharValue": "2026-03-02"},
                {"VarCharValue": "3"},
                {"VarCharValue": "2026-03-02 09:00:00.000 UTC"},
            ]
        },
    ]
    columns = [{"Name": "day", "Type": "varchar"}, {"Name": "tickets", "Type": "bigint"},
               {"Name": "at", "Type": "timestamp with time zone"}]  # fmt: skip
    backend = athena_backends["123456789012"]["us-east-1"]
    backend.query_results_queue.append(QueryResults(rows=rows, column_info=columns))
    athena = AthenaLake("lake", "reports", client=client)

    execution = athena.start(BoundQuery(sql="SELECT * FROM volumes WHERE dt = ?", values=("2026-03-02",)))

    assert athena.state(execution) is QueryState.SUCCEEDED
    assert athena.results(execution).records() == [
        {"day": "2026-03-02", "tickets": 3, "at": "2026-03-02T09:00:00.000Z"}
    ]
    assert literal("O'Brien") == "'O''Brien'"
