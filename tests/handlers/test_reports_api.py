"""The reports API and the lake's deploy-time function, fed with their sample events over moto."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import boto3
import pytest
from helpdesk.domain import lake

from tests.handlers.conftest import LAKE_BUCKET
from tests.support.events import Reply, agent_authorizer, customised, invoke, sample_event
from tests.support.lake import bus_event

Call = Callable[[dict[str, Any]], Reply]


@pytest.fixture
def reports(inbox: Call) -> Call:
    from helpdesk.handlers import reports_api

    return lambda event: invoke(reports_api.lambda_handler, event)


def put_events(events: list[dict[str, Any]]) -> None:
    for event in events:
        detail_type, day = lake.partition_of(event)
        key = lake.object_key(detail_type, day, "test", datetime.now(UTC), event["detail"]["event_id"])
        boto3.client("s3").put_object(Bucket=LAKE_BUCKET, Key=key, Body=lake.encode([event]))


def with_query(name: str, **query: str | None) -> dict[str, Any]:
    event = sample_event(name)
    merged = {**(event["queryStringParameters"] or {}), **query}
    merged = {k: v for k, v in merged.items() if v is not None}
    event["queryStringParameters"] = merged or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in merged.items()} or None
    return event


def test_an_admin_gets_a_section_as_json_and_the_same_table_as_csv(reports: Call) -> None:
    day = datetime(2026, 11, 3, 10, tzinfo=UTC)
    put_events([bus_event("ConversationStarted", day, conversation_id="c1"),
                bus_event("ConversationStarted", day, conversation_id="c2", channel="email")])  # fmt: skip

    answer = reports(with_query("reports_api/get_section"))
    exported = reports(with_query("reports_api/get_section", format="csv"))

    assert answer.status == 200, answer.body
    summary = dict(zip(answer.body["columns"], answer.body["rows"][0], strict=True))
    assert summary["conversations"] == 2
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.body)))
    assert rows[0] == answer.body["columns"]
    assert rows[1] == ["" if v is None else str(v) for v in answer.body["rows"][0]]


def test_the_items_behind_a_segment_are_listed(reports: Call) -> None:
    day = datetime(2026, 11, 3, 10, tzinfo=UTC)
    clock = {"clock": "first_response", "started_at": "2026-11-03T09:00:00Z", "breached_at": "2026-11-03T10:00:00Z"}
    put_events([bus_event("SlaBreached", day, ticket_id="t7", ticket_number=7, team_id="returns", **clock)])

    answer = reports(with_query("reports_api/get_section_items"))

    assert answer.status == 200, answer.body
    assert [row[answer.body["columns"].index("ticket_number")] for row in answer.body["rows"]] == [7]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"from": "yesterday"}, "from"), ({"to": "2999-01-01"}, "to"), ({"team_id": "payroll"}, "team_id"),
     ({"channel": "pigeon"}, "channel")],
)  # fmt: skip
def test_a_bad_filter_is_a_422_naming_the_field(reports: Call, query: dict[str, str], field: str) -> None:
    answer = reports(with_query("reports_api/get_section", **query))
    assert answer.status == 422
    assert field in [detail["field"] for detail in answer.body["details"]]


def test_an_agent_without_the_role_gets_403_and_an_unknown_section_404(reports: Call) -> None:
    agent = customised("reports_api/get_section", authorizer=agent_authorizer("agent-frank", "frontline"))
    unknown = customised("reports_api/get_section", path="/inbox/reports/payroll")

    assert reports(agent).status == 403
    assert reports(unknown).status == 404


def test_the_reports_api_serves_its_openapi_document(reports: Call) -> None:
    document = reports(sample_event("reports_api/openapi"))
    assert document.status == 200
    assert "/inbox/reports/{section}" in document.body["paths"]


def test_the_views_custom_resource_runs_each_statement_and_answers_cloudformation(aws: None) -> None:
    from helpdesk.handlers import lake_views

    event = sample_event("lake_views/create")
    ran: list[str] = []
    answered: list[dict[str, Any]] = []

    class FakeAthena:
        def run_statement(self, sql: str) -> None:
            ran.append(sql)

    def respond(request: Any, timeout: float) -> Any:
        answered.append(json.loads(request.data))
        return io.BytesIO(b"")

    with patch.object(lake_views, "athena", lambda: FakeAthena()), patch("urllib.request.urlopen", respond):
        lake_views.lambda_handler(event, _context())

    assert ran == event["ResourceProperties"]["Statements"]
    assert answered[0]["Status"] == "SUCCESS"
    assert answered[0]["PhysicalResourceId"] == lake_views.PHYSICAL_ID


def _context() -> Any:
    from localrt.context import FakeLambdaContext

    context = FakeLambdaContext(function_name="lake-views")
    context.log_stream_name = "2026/12/01/[$LATEST]lake-views"  # type: ignore[attr-defined]
    return context
