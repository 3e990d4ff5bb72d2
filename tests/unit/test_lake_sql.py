"""The metrics' SQL: every statement parses as Trino (Athena) SQL, and runs on DuckDB over a lake
written in Firehose's layout, giving the figures a person works out by hand from the same events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from helpdesk.adapters.duckdb_lake import DuckDbLake, to_duckdb
from helpdesk.domain import lake
from helpdesk.domain.metrics import DRILLABLE, SECTIONS, items_query, metric_views, section_query
from jsonschema import Draft202012Validator

from tests.support.lake import SCHEMAS, bus_event, schema, write_lake

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RANGE = {"from_day": "2026-03-01", "to_day": "2026-03-03", "team_id": "", "channel": ""}
AS_OF = "2026-03-03T23:59:59.999Z"


def at(minutes: float, day: datetime = DAY) -> datetime:
    return day + timedelta(minutes=minutes)


def the_day() -> list[dict[str, Any]]:
    """Four conversations, three tickets, their clocks, ratings and the bot's outcomes on 2 March;
    a fifth conversation on 5 March; one rating delivered twice."""
    e = bus_event
    rated_twice = e("CsatRated", at(300), ticket_id="t1", ticket_number=1, team_id="returns", score=5)
    return [
        e("ConversationStarted", at(0), conversation_id="c1"),
        e("ConversationStarted", at(1), conversation_id="c2"),
        e("ConversationStarted", at(2), conversation_id="c3", channel="email", team_id="returns"),
        e("ConversationStarted", at(3), conversation_id="c4"),
        e("ConversationStarted", at(0, DAY + timedelta(days=3)), conversation_id="c5"),
        e("KnowledgeAnswerShown", at(4), conversation_id="c1", article_id="shipping"),
        e("KnowledgeAnswerRated", at(5), conversation_id="c1", article_id="shipping", helpful=True),
        e("KnowledgeAnswerShown", at(4), conversation_id="c2", article_id="returns", path_id="faq", step_id="kb"),
        e(
            "KnowledgeAnswerRated",
            at(6),
            conversation_id="c2",
            article_id="returns",
            path_id="faq",
            step_id="kb",
            helpful=False,
        ),
        e("BotConversationEnded", at(5), conversation_id="c1", outcome="resolved", resolved_by="kb"),
        e(
            "BotConversationEnded",
            at(7),
            conversation_id="c2",
            outcome="handed_off",
            path_id="faq",
            step_id="kb",
            handoff_reason="kb_not_helpful",
            resolved_by="agent",
        ),
        e(
            "BotConversationEnded",
            at(8),
            conversation_id="c3",
            team_id="returns",
            channel="email",
            outcome="ticket_created",
            path_id="damaged",
            step_id="create",
            resolved_by="ticket",
        ),
        e("TicketCreated", at(8), ticket_id="t1", ticket_number=1, conversation_id="c3", team_id="returns"),
        e("TicketCreated", at(60), ticket_id="t2", ticket_number=2, ticket_type_id="refund-request"),
        e("TicketCreated", at(61), ticket_id="t3", ticket_number=3, conversation_id="c4"),
        # t1: answered in 10 business minutes, resolved in 2 business hours.
        e("SlaClockStopped", at(20), ticket_id="t1", ticket_number=1, team_id="returns", assignee_id="rita",
          clock="first_response", started_at=lake_time(at(8)), stopped_at=lake_time(at(20)),
          elapsed_seconds=600, target_seconds=3600),
        e("TicketStateChanged", at(200), ticket_id="t1", ticket_number=1, team_id="returns", assignee_id="rita",
          from_state_id="open", to_state_id="done", from_state_category="submitted", to_state_category="resolved"),
        e("SlaClockStopped", at(200), ticket_id="t1", ticket_number=1, team_id="returns", assignee_id="rita",
          clock="resolution", started_at=lake_time(at(8)), stopped_at=lake_time(at(200)),
          elapsed_seconds=7200, target_seconds=86400),
        # t2: answered in 2 business minutes.
        e("SlaClockStopped", at(62), ticket_id="t2", ticket_number=2, ticket_type_id="refund-request",
          assignee_id="frank", clock="first_response", started_at=lake_time(at(60)), stopped_at=lake_time(at(62)),
          elapsed_seconds=120),
        # t3: breached its first response, then answered late (one breach, not two).
        e("SlaBreached", at(121), ticket_id="t3", ticket_number=3, assignee_id="frank", clock="first_response",
          started_at=lake_time(at(61)), breached_at=lake_time(at(121))),
        e("SlaClockStopped", at(150), ticket_id="t3", ticket_number=3, assignee_id="frank", clock="first_response",
          started_at=lake_time(at(61)), stopped_at=lake_time(at(150)), elapsed_seconds=5000,
          breached_at=lake_time(at(121))),
        rated_twice,
        rated_twice,
        e("CsatRated", at(301), ticket_id="t2", ticket_number=2, ticket_type_id="refund-request", score=2,
          assignee_id="frank"),
    ]  # fmt: skip


def lake_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> DuckDbLake:
    root = tmp_path_factory.mktemp("lake")
    events = the_day()
    # The duplicate rating arrives in an object of its own, as a redelivery would.
    write_lake(root, events[:-2])
    write_lake(root, events[-2:])
    duck = DuckDbLake(root)
    duck.refresh()
    return duck


def run(engine: DuckDbLake, name: str, *, items: bool = False, **params: str) -> list[dict[str, Any]]:
    query = (items_query if items else section_query)(name)
    values = {"segment": "", "breakdown": "", "outcome": "", "as_of": AS_OF} | RANGE | params
    execution = engine.start(query.bind(values))
    assert engine.failure(execution) is None, engine.failure(execution)
    return engine.results(execution).records()


# --- Trino ---------------------------------------------------------------------------------------


PARAMETERS = {"segment": "", "breakdown": "team", "outcome": "", "as_of": AS_OF} | RANGE


def every_statement() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(name, the Trino SQL Athena runs, what DuckDB runs of it, parameters)."""
    statements: list[tuple[str, str, str, tuple[str, ...]]] = [
        # DuckDB keeps a base view's answer as a table; the query is the same.
        (t.view, t.base_view_sql(), t.base_select_sql(), ())
        for t in lake.event_tables(SCHEMAS)
    ]
    statements += [(v.name, v.sql, v.sql, ()) for v in metric_views()]
    for name, query in [(s, section_query(s)) for s in SECTIONS] + [(f"items_{s}", items_query(s)) for s in DRILLABLE]:
        bound = query.bind(PARAMETERS)
        statements.append((name, bound.sql, bound.sql, bound.values))
    return statements


@pytest.mark.parametrize(("name", "sql", "run", "values"), every_statement(), ids=[s[0] for s in every_statement()])
def test_every_view_and_report_query_is_trino_sql_and_runs_on_duckdb(
    name: str, sql: str, run: str, values: tuple[str, ...], engine: DuckDbLake
) -> None:
    # Given one statement as Athena will run it
    # When sqlglot reads it as Trino SQL, and DuckDB runs its translation over the fixture lake
    tree = sqlglot.parse_one(sql, read="trino")
    rows = engine._connection.execute(to_duckdb(run), list(values)).fetchall()

    # Then it parses, and DuckDB runs it (a view is created; a query answers)
    assert tree is not None
    assert sql.startswith("CREATE") or rows


def test_every_fixture_event_matches_its_published_schema() -> None:
    for event in the_day():
        Draft202012Validator(schema(event["detail-type"])).validate(event["detail"])


# --- the figures ---------------------------------------------------------------------------------


def test_the_summary_gives_the_figures_a_lead_would_work_out_by_hand(engine: DuckDbLake) -> None:
    # Given the day's events in the lake (one rating delivered twice, one conversation three days later)
    # When the summary for 1-3 March runs
    [summary] = run(engine, "summary")

    # Then: 4 conversations and 3 tickets; first responses 120, 600, 5000 s (median 600); one
    # resolution of 7200 s; SLA 3 met, 1 breached; CSAT 5 and 2; the bot resolved 1 of 3
    assert (summary["conversations"], summary["tickets"]) == (4, 3)
    assert summary["median_first_response_seconds"] == 600
    assert summary["median_resolution_seconds"] == 7200
    assert (summary["sla_met"], summary["sla_breached"], summary["sla_met_pct"]) == (3, 1, 75.0)
    assert (summary["csat_ratings"], summary["csat_average"]) == (2, 3.5)
    assert (summary["bot_conversations"], summary["bot_resolved"]) == (3, 1)
    assert summary["bot_resolution_pct"] == pytest.approx(100 / 3)


def test_a_range_reads_only_its_days_and_a_team_only_its_own(engine: DuckDbLake) -> None:
    [month] = run(engine, "summary", to_day="2026-03-31")
    [returns] = run(engine, "summary", team_id="returns")
    [email] = run(engine, "summary", channel="email")

    assert month["conversations"] == 5
    assert (returns["conversations"], returns["tickets"], returns["csat_average"]) == (1, 1, 5.0)
    assert (email["conversations"], email["tickets"], email["sla_met"]) == (1, 1, 2)


def test_the_breakdowns_name_who_met_and_who_breached(engine: DuckDbLake) -> None:
    sla = {(r["breakdown"], r["segment"]): (r["met"], r["breached"]) for r in run(engine, "sla")}
    csat = {(r["breakdown"], r["segment"]): r["average_score"] for r in run(engine, "csat")}
    bot = {r["path_id"]: (r["conversations"], r["resolved"]) for r in run(engine, "bot_paths")}
    reasons = {r["handoff_reason"]: r["conversations"] for r in run(engine, "handoff_reasons")}
    knowledge = {r["article_id"]: (r["shown"], r["helped"], r["did_not_help"]) for r in run(engine, "knowledge")}
    times = {r["team_id"]: r["median_first_response_seconds"] for r in run(engine, "response_times")}

    assert sla[("team", "frontline")] == (1, 1)
    assert sla[("agent", "frank")] == (1, 1)
    assert sla[("policy", "damaged-item")] == (2, 1)
    assert csat[("path", "damaged")] == 5.0
    assert csat[("type", "refund-request")] == 2.0
    assert bot == {"(no path)": (1, 1), "faq": (1, 0), "damaged": (1, 0)}
    assert reasons == {"kb_not_helpful": 1}
    assert knowledge == {"returns": (1, 0, 1), "shipping": (1, 1, 0)}
    assert times == {"frontline": (120 + 5000) / 2, "returns": 600}


def test_the_backlog_counts_what_was_still_open_at_the_end_of_the_range(engine: DuckDbLake) -> None:
    backlog = run(engine, "backlog")
    open_items = run(engine, "backlog", items=True)

    assert backlog == [{"age_bucket": "1-3 days", "open_tickets": 2}]
    assert sorted(r["ticket_number"] for r in open_items) == [2, 3]


def test_a_chart_segment_lists_the_tickets_behind_it(engine: DuckDbLake) -> None:
    breached = run(engine, "sla", items=True, breakdown="team", segment="frontline", outcome="breached")
    day = run(engine, "volumes", items=True, segment="2026-03-02")
    rated = run(engine, "csat", items=True, breakdown="agent", segment="frank")

    assert [(r["ticket_number"], r["clock"]) for r in breached] == [(3, "first_response")]
    assert sorted(r["item_id"] for r in day) == ["c1", "c2", "c3", "c4", "t1", "t2", "t3"]
    assert [(r["ticket_number"], r["score"]) for r in rated] == [(2, 2)]


def test_duckdbs_spelling_of_the_one_difference_reads_the_same_instants_as_trinos(engine: DuckDbLake) -> None:
    # Trino's from_iso8601_timestamp is TIMESTAMPTZ in sqlglot's plain translation; ours is a UTC TIMESTAMP.
    stamps = ["2026-03-02T09:00:00Z", "2026-03-02T23:59:59.999999Z", "2026-12-31T00:00:00.5Z"]
    trino = "SELECT from_iso8601_timestamp(?) AS instant"
    plain = sqlglot.transpile(trino, read="trino", write="duckdb")[0]
    ours = to_duckdb(trino)
    connection = engine._connection
    connection.execute("SET TimeZone = 'UTC'")
    for stamp in stamps:
        [(expected,)] = connection.execute(f"SELECT epoch(instant) FROM ({plain}) AS spelled", [stamp]).fetchall()
        [(actual,)] = connection.execute(f"SELECT epoch(instant) FROM ({ours}) AS spelled", [stamp]).fetchall()
        assert actual == expected
    assert "TIMESTAMPTZ" in plain
    assert "TIMESTAMPTZ" not in ours


def test_the_lake_places_an_event_where_firehoses_queries_do(tmp_path: Path) -> None:
    event = bus_event("TicketCreated", DAY, ticket_id="t9")
    assert lake.PARTITION_QUERIES == {"detail_type": '.["detail-type"]', "dt": ".detail.occurred_at[0:10]"}
    assert lake.partition_of(event) == (event["detail-type"], event["detail"]["occurred_at"][0:10])
    [path] = write_lake(tmp_path, [event])
    assert path.relative_to(tmp_path).as_posix().startswith("events/detail_type=TicketCreated/dt=2026-03-02/")
    assert lake.decode(path.read_bytes()) == [event]
