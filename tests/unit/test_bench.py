"""The benchmark harness's cheapest pieces: DynamoDB's sizing rules, the round-trip pass over every route of both
APIs, and the cold-start list of handlers; a new route or handler can't be left out of `make bench`."""

from __future__ import annotations

import pytest

from bench.harness import item_size, read_units, write_units


def test_item_size_follows_dynamodbs_rules() -> None:
    # Name bytes plus value bytes: strings by UTF-8 length, numbers by significant digits.
    assert item_size({"PK": {"S": "abc"}}) == 2 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"é": {"S": "é"}}) == 2 + 2
    assert item_size({"ok": {"BOOL": True}, "none": {"NULL": True}}) == (2 + 1) + (4 + 1)
    assert item_size({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + (1 + 1 + 2)


def test_capacity_units_round_up_per_started_unit() -> None:
    assert write_units(1) == 1
    assert write_units(1025) == 2
    assert write_units(1000, transactional=True) == 2
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(100, consistent=False) == 0.5


def test_an_unknown_attribute_type_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'XX'"):
        item_size({"a": {"XX": 1}})


def test_the_round_trip_pass_drives_every_route_of_both_apis_and_counts_their_calls(aws: None) -> None:
    from bench.api import InProcessApi
    from bench.harness import DynamoRecorder, in_memory_aws
    from bench.round_trips import drive_every_route, not_driven

    with in_memory_aws(), DynamoRecorder() as recorder:
        calls = drive_every_route(InProcessApi(recorder))

    assert not_driven(calls) == [], "a route of the APIs isn't driven by bench/round_trips.py: add a call for it"
    assert [(c.label, c.status) for c in calls if not 200 <= c.status < 300] == []
    by_label = {c.label: c for c in calls}
    assert by_label["POST /messenger/conversations"].route == "POST /messenger/conversations"
    assert by_label["POST /messenger/conversations"].operations == ["TransactWriteItems"]
    assert by_label["GET /messenger/tickets"].operations == ["Query"]
    assert by_label["GET /messenger/openapi.json"].operations == []
    assert not [c.label for c in calls if "Scan" in c.operations]
    # A customer's export and erasure: the profile and the request's record, the rest is the worker's.
    privacy = ("/export", "/exports/", "/erasure")
    assert [by_label[label].operations for label in sorted(by_label) if any(p in label for p in privacy)] == [
        ["GetItem"],
        ["GetItem"],
        ["GetItem", "PutItem"],
        ["GetItem", "PutItem"],
    ]


def test_a_request_is_filed_under_the_route_its_resolver_serves_it_with() -> None:
    from bench.round_trips import route_of

    assert route_of("GET", "/messenger/conversations/01ABC") == "GET /messenger/conversations/<conversation_id>"
    assert route_of("GET", "/inbox/tickets") == "GET /inbox/tickets"
    assert route_of("DELETE", "/inbox/tickets") is None
    assert route_of("GET", "/inbox/nowhere") is None


def test_a_route_added_to_an_api_counts_as_not_driven_until_the_pass_drives_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpdesk.api import messenger as messenger_api

    from bench.round_trips import RouteCall, all_routes, not_driven, resolver_routes

    every_route_driven = [RouteCall(label=r, route=r, status=200, operations=[]) for r in all_routes()]
    monkeypatch.setattr(messenger_api.app, "_static_routes", [*messenger_api.app._static_routes])
    messenger_api.app.get("/messenger/brand-new-thing")(lambda: {})
    resolver_routes.cache_clear()
    try:
        missing = not_driven(every_route_driven)
    finally:
        monkeypatch.undo()
        resolver_routes.cache_clear()

    assert missing == ["GET /messenger/brand-new-thing"]


def test_the_cold_start_benchmark_measures_every_handler_module() -> None:
    from tests.support.lambda_handlers import handler_modules, modules_on_disk

    # A handler module that helpdesk.surfaces doesn't declare is a function nobody deploys or measures.
    assert handler_modules() == modules_on_disk()


def test_a_new_kind_of_function_declared_in_surfaces_is_measured_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import dataclass

    from helpdesk import surfaces

    from tests.support.lambda_handlers import declared_handlers

    @dataclass(frozen=True)
    class MailReceiver:
        name: str
        handler: str

    receivers = (MailReceiver("inbound-mail", "helpdesk.handlers.inbound_mail.lambda_handler"),)
    monkeypatch.setattr(surfaces, "MAIL_RECEIVERS", receivers, raising=False)
    monkeypatch.setattr(surfaces, "LIVE_HANDLER", "helpdesk.handlers.live.lambda_handler", raising=False)

    declared = declared_handlers()

    assert "helpdesk.handlers.inbound_mail.lambda_handler" in declared
    assert "helpdesk.handlers.live.lambda_handler" in declared
    assert "helpdesk.handlers.messenger_authorizer.lambda_handler" in declared


def test_rerunning_some_benchmarks_replaces_only_their_rows() -> None:
    from bench.__main__ import merged
    from bench.harness import Result

    def row(benchmark: str, figure: str) -> Result:
        return Result(benchmark=benchmark, figure=figure, value=1, unit="x", goal="", met=None)

    previous = [row("cold start", "heaviest handler"), row("round trips", "worst route"), row("cost", "per ticket")]
    fresh = [row("cold start", "import notifier"), row("cold start", "import inbox_api")]

    rows = merged([r.as_dict() for r in previous], fresh, ["cold_start"])

    assert [(r.benchmark, r.figure) for r in rows] == [
        ("cold start", "import notifier"),
        ("cold start", "import inbox_api"),
        ("round trips", "worst route"),
        ("cost", "per ticket"),
    ]
