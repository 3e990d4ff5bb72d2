"""The benchmark harness's cheapest pieces: DynamoDB's sizing rules, and the round-trip pass over every route."""

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


def test_the_round_trip_pass_drives_routes_and_counts_their_calls(aws: None) -> None:
    from bench.api import InProcessApi
    from bench.harness import DynamoRecorder, in_memory_aws
    from bench.round_trips import all_routes, drive_every_route

    with in_memory_aws(), DynamoRecorder() as recorder:
        calls = drive_every_route(InProcessApi(recorder))

    by_route = {c.route: c for c in calls}
    assert by_route["POST /messenger/conversations"].operations == ["TransactWriteItems"]
    assert by_route["GET /messenger/tickets"].operations == ["Query"]
    assert by_route["GET /messenger/openapi.json"].operations == []
    assert len(calls) > len(all_routes()) * 0.8
    assert not [c.route for c in calls if "Scan" in c.operations]
