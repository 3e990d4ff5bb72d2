"""SLA clocks: business-time arithmetic, pausing while waiting on the customer, breaches and warnings."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpdesk.adapters.workspace_files import WorkspaceConfigError, load_workspace
from helpdesk.domain.sla import BusinessCalendar, BusinessHours, NoBusinessTime, SlaState
from helpdesk.domain.workspace import SlaPolicy, StateCategory
from pydantic import ValidationError

from tests.conftest import DEMO_WORKSPACE

LONDON = ZoneInfo("Europe/London")
WEEKDAYS_8_TO_18 = {day: ["08:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
DEMO_HOURS: dict[str, Any] = {
    "time_zone": "Europe/London",
    **WEEKDAYS_8_TO_18,
    "sat": ["09:00-13:00"],
    "holidays": {"country": "GB", "subdivision": "ENG"},
}


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def calendar(**overrides: Any) -> BusinessCalendar:
    return BusinessCalendar(BusinessHours.model_validate({**DEMO_HOURS, **overrides}))


HOURS = timedelta(hours=1)
ALWAYS = BusinessCalendar.always_open()
DEMO = calendar()


# Calendar ---------------------------------------------------------------------------------------------------


def test_without_business_hours_time_counts_around_the_clock_even_across_dst() -> None:
    saturday_noon = london(2026, 3, 28, 12)

    due = ALWAYS.add(saturday_noon, 24 * HOURS)

    assert due == datetime(2026, 3, 29, 12, tzinfo=UTC)  # 24 real hours...
    assert due.astimezone(LONDON).hour == 13  # ...though the wall clock moved 25
    assert ALWAYS.between(saturday_noon, due) == 24 * HOURS
    assert ALWAYS.is_open(london(2026, 12, 25, 3))


def test_time_counts_only_within_opening_hours_and_resumes_the_next_morning() -> None:
    monday = london(2026, 3, 2, 10)

    assert DEMO.add(monday, 3 * HOURS) == london(2026, 3, 2, 13)
    assert DEMO.add(london(2026, 3, 2, 16), 4 * HOURS) == london(2026, 3, 3, 10)
    assert DEMO.between(london(2026, 3, 2, 16), london(2026, 3, 3, 10)) == 4 * HOURS


def test_a_deadline_on_closing_time_is_that_evening_not_the_next_morning() -> None:
    assert DEMO.add(london(2026, 3, 2, 16), 2 * HOURS) == london(2026, 3, 2, 18)


def test_weekends_count_only_their_opening_hours() -> None:
    friday_five = london(2026, 3, 6, 17)

    assert DEMO.add(friday_five, 5 * HOURS) == london(2026, 3, 7, 13)  # 1h Friday + 4h Saturday morning
    assert DEMO.add(friday_five, 6 * HOURS) == london(2026, 3, 9, 9)  # Sunday is closed
    assert not DEMO.is_open(london(2026, 3, 8, 12))


def test_public_holidays_from_the_holidays_library_are_closed() -> None:
    christmas_eve = london(2026, 12, 24, 17)

    # Christmas (Fri), Boxing Day (Sat), Sunday and Boxing Day observed (Mon 28th) are all closed.
    assert DEMO.add(christmas_eve, 2 * HOURS) == london(2026, 12, 29, 9)
    assert not DEMO.is_open(london(2026, 12, 25, 10))
    assert DEMO.is_open(london(2026, 12, 29, 10))


def test_extra_closed_days_and_removed_holidays_adjust_the_library() -> None:
    adjusted = calendar(
        holidays={
            "country": "GB",
            "subdivision": "ENG",
            "extra": ["2026-03-02"],  # a company day off on a Monday
            "removed": ["2026-05-04"],  # open on the May Day bank holiday
        }
    )

    assert not adjusted.is_open(london(2026, 3, 2, 10))
    assert adjusted.is_open(london(2026, 3, 3, 10))
    assert adjusted.is_open(london(2026, 5, 4, 10))
    assert not DEMO.is_open(london(2026, 5, 4, 10))


def test_opening_hours_follow_the_local_clock_across_dst_changes() -> None:
    # Friday 17:00 GMT + 6 business hours: 1h Friday, 4h Saturday, then Monday 09:00 BST (08:00 UTC).
    due = DEMO.add(london(2026, 3, 27, 17), 6 * HOURS)

    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert due.astimezone(LONDON).hour == 9


def test_a_range_across_a_dst_change_is_an_hour_shorter_or_longer() -> None:
    nights = calendar(sun=["00:00-03:00"], holidays=None)

    spring_forward = nights.between(london(2026, 3, 29, 0), london(2026, 3, 30, 0))
    fall_back = nights.between(london(2026, 10, 25, 0), london(2026, 10, 26, 0))

    assert spring_forward == 2 * HOURS
    assert fall_back == 4 * HOURS
    assert nights.add(london(2026, 3, 29, 0), 2 * HOURS) == london(2026, 3, 29, 3)


def test_a_start_outside_opening_hours_counts_from_the_next_opening() -> None:
    assert DEMO.add(london(2026, 3, 2, 6), HOURS) == london(2026, 3, 2, 9)
    assert DEMO.add(london(2026, 3, 2, 19), 30 * timedelta(minutes=1)) == london(2026, 3, 3, 8, 30)
    assert DEMO.add(london(2026, 3, 8, 12), HOURS) == london(2026, 3, 9, 9)  # from a Sunday


def test_starts_in_any_time_zone_mean_the_same_instant() -> None:
    in_new_york = datetime(2026, 3, 2, 5, tzinfo=ZoneInfo("America/New_York"))  # 10:00 in London

    assert DEMO.add(in_new_york, 3 * HOURS) == london(2026, 3, 2, 13)


def test_several_ranges_in_a_day_skip_the_gaps() -> None:
    lunch_break = calendar(mon=["13:00-17:00", "09:00-12:00"])

    assert lunch_break.add(london(2026, 3, 2, 11), 2 * HOURS) == london(2026, 3, 2, 14)
    assert lunch_break.between(london(2026, 3, 2, 8), london(2026, 3, 2, 18)) == 7 * HOURS
    assert not lunch_break.is_open(london(2026, 3, 2, 12, 30))
    assert lunch_break.is_open(london(2026, 3, 2, 13))
    assert not lunch_break.is_open(london(2026, 3, 2, 17))


def test_between_is_zero_for_an_empty_or_reversed_interval() -> None:
    assert DEMO.between(london(2026, 3, 2, 12), london(2026, 3, 2, 12)) == timedelta(0)
    assert DEMO.between(london(2026, 3, 2, 12), london(2026, 3, 2, 10)) == timedelta(0)


def test_naive_times_and_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        DEMO.add(datetime(2026, 3, 2, 10), HOURS)
    with pytest.raises(ValueError, match="duration must not be negative"):
        DEMO.add(london(2026, 3, 2, 10), -HOURS)


def test_a_calendar_closed_for_years_fails_clearly_instead_of_looping() -> None:
    mondays = [date(2026, 3, 2) + timedelta(weeks=week) for week in range(3 * 53)]
    only_closed_mondays = calendar(
        **{day: [] for day in ("tue", "wed", "thu", "fri", "sat")},
        holidays={"country": "GB", "extra": [d.isoformat() for d in mondays]},
    )

    with pytest.raises(NoBusinessTime, match=r"no business time in the 732 days from 2026-03-01 \(Europe/London\)"):
        only_closed_mondays.add(london(2026, 3, 1, 12), HOURS)


@pytest.mark.parametrize(
    "hours",
    [DEMO_HOURS, {**DEMO_HOURS, "mon": ["09:00-12:00", "13:00-17:30"], "sun": ["00:00-03:00", "22:00-24:00"]}],
)
def test_between_measures_back_exactly_what_add_added(hours: dict[str, Any]) -> None:
    business = BusinessCalendar(BusinessHours.model_validate(hours))
    rng = random.Random(20260302)
    for _ in range(300):
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(2 * 365 * 86400))
        duration = timedelta(seconds=rng.randrange(1, 200 * 3600), microseconds=rng.randrange(1_000_000))

        due = business.add(start, duration)

        assert due > start
        assert business.between(start, due) == duration, (start, duration, due)
        assert business.is_open(due - timedelta(microseconds=1))


# Clocks -----------------------------------------------------------------------------------------------------

POLICY = SlaPolicy(
    first_response=4 * HOURS, next_response=2 * HOURS, resolution=20 * HOURS, warn_at=0.5, business_hours=True
)
MONDAY_TEN = london(2026, 3, 2, 10)


def test_a_new_ticket_owes_a_first_response_and_a_resolution() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)

    assert state.clocks["first_response"].due_at == london(2026, 3, 2, 14)
    assert state.clocks["first_response"].warn_at_time == london(2026, 3, 2, 12)
    assert state.due_at == london(2026, 3, 4, 10)  # 8h Mon + 10h Tue + 2h Wed
    assert "next_response" not in state.clocks
    assert state.next_deadline() == london(2026, 3, 2, 12)


def test_waiting_on_the_customer_pauses_resolution_and_resuming_adds_exactly_the_paused_business_time() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)
    original_due = state.due_at
    assert original_due is not None

    pause_at, resume_at = london(2026, 3, 2, 15), london(2026, 3, 3, 12)
    paused = state.on_category_change(StateCategory.IN_PROGRESS, StateCategory.WAITING_ON_CUSTOMER, pause_at)
    assert paused.due_at is None
    assert paused.clocks["resolution"].paused
    resumed = paused.on_category_change("waiting_on_customer", "in_progress", resume_at)

    # Paused Monday 15-18 and Tuesday 08-12: 7 business hours.
    assert resumed.due_at == london(2026, 3, 4, 17)
    assert DEMO.between(original_due, resumed.due_at) == DEMO.between(pause_at, resume_at) == 7 * HOURS
    assert state.due_at == original_due  # transitions return new states


def test_pausing_around_the_clock_moves_the_deadline_by_the_wall_time_paused() -> None:
    state = SlaState.start(POLICY.model_copy(update={"business_hours": False}), DEMO, MONDAY_TEN)
    original_due = state.due_at
    assert original_due == MONDAY_TEN + 20 * HOURS

    paused = state.on_category_change("in_progress", "waiting_on_customer", MONDAY_TEN + 2 * HOURS)
    resumed = paused.on_category_change("waiting_on_customer", "in_progress", MONDAY_TEN + 39 * HOURS)

    assert resumed.due_at == original_due + 37 * HOURS


def test_the_first_response_is_not_paused_by_waiting_on_the_customer() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)

    waiting = state.on_category_change("in_progress", "waiting_on_customer", MONDAY_TEN + HOURS)

    assert waiting.clocks["first_response"].due_at == london(2026, 3, 2, 14)
    assert waiting.overdue(london(2026, 3, 2, 14)) == ["first_response"]


def test_resolving_stops_every_clock_and_meets_the_resolution() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)
    resolved_at = MONDAY_TEN + HOURS

    resolved = state.on_category_change("submitted", "resolved", resolved_at)

    assert resolved.clocks["resolution"].met_at == resolved_at
    assert resolved.clocks["first_response"].stopped
    assert resolved.clocks["first_response"].met_at is None  # nobody answered
    assert resolved.due_at is None
    assert resolved.next_deadline() is None
    assert resolved.overdue(london(2027, 1, 1, 12)) == []


def test_reopening_restarts_resolution_from_the_business_time_already_used() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)
    resolved = state.on_category_change("in_progress", "resolved", london(2026, 3, 2, 16))  # 6h used

    reopened = resolved.on_category_change("resolved", "in_progress", london(2026, 3, 9, 8))

    assert reopened.clocks["resolution"].met_at is None
    assert reopened.clocks["resolution"].elapsed == 6 * HOURS
    assert reopened.due_at == london(2026, 3, 10, 12)  # 14h left: Mon 08-18, Tue 08-12


def test_reopening_into_waiting_on_the_customer_keeps_resolution_paused() -> None:
    resolved = SlaState.start(POLICY, DEMO, MONDAY_TEN).on_category_change("in_progress", "resolved", MONDAY_TEN)

    reopened = resolved.on_category_change("resolved", "waiting_on_customer", MONDAY_TEN + HOURS)

    assert reopened.clocks["resolution"].paused
    assert reopened.due_at is None


def test_an_agent_reply_meets_the_first_response_once() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)

    replied = state.on_agent_reply(MONDAY_TEN + HOURS)
    replied_again = replied.on_agent_reply(MONDAY_TEN + 2 * HOURS)

    first = replied_again.clocks["first_response"]
    assert first.met_at == MONDAY_TEN + HOURS
    assert first.elapsed == HOURS
    assert first.due_at is None
    assert replied_again.next_deadline() == london(2026, 3, 3, 10)  # resolution warning at 10 of 20 hours


def test_each_customer_message_after_the_first_response_owes_a_next_response() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)

    before_reply = state.on_customer_message(MONDAY_TEN + HOURS)
    assert "next_response" not in before_reply.clocks  # the first response is still owed

    replied = before_reply.on_agent_reply(MONDAY_TEN + 2 * HOURS)
    asked = replied.on_customer_message(london(2026, 3, 2, 17))
    asked_again = asked.on_customer_message(london(2026, 3, 2, 17, 30))
    assert asked_again.clocks["next_response"] == asked.clocks["next_response"]  # still the first question's
    assert asked.clocks["next_response"].due_at == london(2026, 3, 3, 9)  # 1h Monday, 1h Tuesday

    answered = asked_again.on_agent_reply(london(2026, 3, 3, 8, 30))
    assert answered.clocks["next_response"].met_at == london(2026, 3, 3, 8, 30)

    asked_later = answered.on_customer_message(london(2026, 3, 3, 11))
    assert asked_later.clocks["next_response"].started_at == london(2026, 3, 3, 11)
    assert asked_later.clocks["next_response"].met_at is None


def test_no_next_response_clock_without_one_in_the_policy() -> None:
    policy = SlaPolicy(first_response=4 * HOURS, resolution=20 * HOURS)
    replied = SlaState.start(policy, DEMO, MONDAY_TEN).on_agent_reply(MONDAY_TEN + HOURS)

    assert "next_response" not in replied.on_customer_message(MONDAY_TEN + 2 * HOURS).clocks


def test_the_next_response_pauses_while_waiting_on_the_customer() -> None:
    asked = SlaState.start(POLICY, DEMO, MONDAY_TEN).on_agent_reply(MONDAY_TEN).on_customer_message(MONDAY_TEN)

    waiting = asked.on_category_change("in_progress", "waiting_on_customer", MONDAY_TEN + HOURS)
    back = waiting.on_category_change("waiting_on_customer", "in_progress", london(2026, 3, 3, 8))

    assert waiting.clocks["next_response"].paused
    assert back.clocks["next_response"].due_at == london(2026, 3, 3, 9)


def test_a_breach_is_reported_once_and_the_clock_keeps_running() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)
    late = london(2026, 3, 2, 15)

    assert state.overdue(london(2026, 3, 2, 13, 59)) == []
    assert state.overdue(late) == ["first_response"]
    breached = state.mark_breached("first_response", late)

    assert breached.overdue(late) == []
    assert breached.mark_breached("first_response", late + HOURS).clocks["first_response"].breached_at == late
    assert breached.clocks["first_response"].running  # still owed
    assert breached.on_agent_reply(late + HOURS).clocks["first_response"].met_at == late + HOURS
    assert breached.next_deadline() == london(2026, 3, 3, 10)  # only the resolution warning is left


def test_a_warning_is_due_at_the_policys_fraction_of_the_target_and_sent_once() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)
    noon = london(2026, 3, 2, 12)

    assert state.warnings_due(noon - timedelta(seconds=1)) == []
    assert state.warnings_due(noon) == ["first_response"]
    warned = state.mark_warned("first_response", noon)

    assert warned.warnings_due(noon) == []
    assert warned.next_deadline() == london(2026, 3, 2, 14)  # now the breach itself
    assert state.warnings_due(london(2026, 3, 2, 14)) == []  # past due is a breach, not a warning


def test_marking_a_clock_the_ticket_does_not_have_is_an_error() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN)

    with pytest.raises(ValueError, match="no 'next_response' SLA clock"):
        state.mark_breached("next_response", MONDAY_TEN)


def test_the_state_survives_a_round_trip_through_json_storage() -> None:
    state = SlaState.start(POLICY, DEMO, MONDAY_TEN).on_category_change(
        "submitted", "waiting_on_customer", MONDAY_TEN + HOURS
    )

    loaded = SlaState.load(state.model_dump_json(), calendar())

    assert loaded == state
    resumed = loaded.on_category_change("waiting_on_customer", "in_progress", london(2026, 3, 3, 8))
    assert resumed.due_at == london(2026, 3, 4, 17)  # 1h used Monday; 10h Tuesday, 9h Wednesday


def test_a_state_read_without_a_calendar_refuses_to_compute_deadlines() -> None:
    raw = SlaState.start(POLICY, DEMO, MONDAY_TEN).model_dump_json()

    with pytest.raises(RuntimeError, match=r"SlaState\.load"):
        SlaState.model_validate_json(raw).on_category_change("submitted", "waiting_on_customer", MONDAY_TEN)


def test_a_policy_can_count_around_the_clock_despite_business_hours() -> None:
    state = SlaState.start(POLICY.model_copy(update={"business_hours": False}), DEMO, london(2026, 3, 7, 20))
    loaded = SlaState.load(state.model_dump_json(), DEMO)

    assert loaded.clocks["first_response"].due_at == london(2026, 3, 8, 0)


# Configuration ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_zone": "Europe/Londres"}, "'Europe/Londres' is not an IANA time zone"),
        ({"mon": ["9:00-17:00"]}, r"mon\n.*'9:00-17:00' is not an opening range like '09:00-17:30'"),
        ({"tue": ["09:00-25:00"]}, r"tue\n.*'09:00-25:00' has a time that doesn't exist"),
        ({"wed": ["17:00-09:00"]}, "'17:00-09:00' must start before it ends"),
        ({"thu": ["09:00-12:00", "11:30-14:00"]}, "'09:00-12:00' and '11:30-14:00' overlap"),
        ({"holidays": {"country": "XX"}}, "'XX' is not a country the holidays library knows"),
        ({"holidays": {"country": "GB", "subdivision": "YRK"}}, "'YRK' is not a subdivision of GB; use one of ENG"),
        (
            {"holidays": {"country": "GB", "extra": ["2026-12-24"], "removed": ["2026-12-24"]}},
            "2026-12-24 is listed in both",
        ),
        (
            {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat")},
            "no opening hours on any day",
        ),
        ({"monday": ["09:00-17:00"]}, "monday\n  Extra inputs are not permitted"),
    ],
)
def test_broken_business_hours_are_rejected_with_a_clear_message(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BusinessHours.model_validate({**DEMO_HOURS, **change})


def test_touching_ranges_and_a_single_range_string_are_accepted() -> None:
    hours = BusinessHours.model_validate({**DEMO_HOURS, "mon": "12:00-24:00", "tue": ["12:00-18:00", "08:00-12:00"]})

    assert hours.mon == ("12:00-24:00",)
    assert hours.tue == ("08:00-12:00", "12:00-18:00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"next_response": "PT0S"}, "next_response must be positive"),
        ({"next_response": "P10D"}, "next_response can't be longer than resolution"),
        ({"warn_at": 1.5}, "warn_at\n  Input should be less than 1"),
    ],
)
def test_broken_sla_policies_are_rejected(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SlaPolicy.model_validate({"first_response": "PT4H", "resolution": "P2D", **change})


def test_an_sla_written_before_next_response_existed_still_loads() -> None:
    policy = SlaPolicy.model_validate({"first_response": "PT4H", "resolution": "P2D"})

    assert (policy.next_response, policy.warn_at, policy.business_hours) == (None, 0.8, True)


def test_the_demo_workspace_works_london_business_hours() -> None:
    workspace = load_workspace(DEMO_WORKSPACE)

    assert workspace.business_calendar.is_open(london(2026, 3, 7, 10))  # Saturday morning
    assert not workspace.business_calendar.is_open(london(2026, 12, 25, 10))
    for ticket_type in workspace.ticket_types:
        assert ticket_type.sla is not None
        assert ticket_type.sla.next_response is not None


def test_a_bad_time_zone_in_workspace_yaml_names_the_file_and_field(tmp_path: Path) -> None:
    workspace_dir = tmp_path / "ws"
    shutil.copytree(DEMO_WORKSPACE, workspace_dir)
    manifest = workspace_dir / "workspace.yaml"
    manifest.write_text(manifest.read_text().replace("time_zone: Europe/London", "time_zone: GMT+1"))

    with pytest.raises(WorkspaceConfigError, match=r"workspace\.yaml: business_hours\.time_zone: .*'GMT\+1'"):
        load_workspace(workspace_dir)


def test_a_system_without_a_time_zone_database_says_so_instead_of_blaming_the_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("helpdesk.domain.business_hours.available_timezones", set)

    with pytest.raises(ValidationError, match="this system has no time zone database"):
        BusinessHours.model_validate({**DEMO_HOURS, "time_zone": "Nowhere/Town"})
