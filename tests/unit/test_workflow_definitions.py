"""The workflow definitions (``workflows/*.asl.json``): checked before CDK or moto ever load them.

The contract every definition keeps: every Task retries with jitter and catches everything; nothing
that can never succeed on a retry is retried; every task that waits for a token has a timeout with
a designed way on; a long wait for a change expects heartbeats (which the workflow-tasks worker's
schedule sends) and recovers from a lost token through a new check.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpdesk.surfaces import WORKFLOW_SUBSTITUTIONS, WORKFLOW_TASKS, WORKFLOWS

WORKFLOW_DIR = Path(__file__).resolve().parents[2] / "workflows"


def definition(name: str) -> dict[str, Any]:
    return dict(json.loads((WORKFLOW_DIR / name).read_text()))


def targets(state: dict[str, Any]) -> set[str]:
    found = {state["Next"]} if "Next" in state else set()
    found |= {c["Next"] for c in state.get("Catch", [])}
    found |= {c["Next"] for c in state.get("Choices", [])}
    if "Default" in state:
        found.add(state["Default"])
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_task_retries_with_jitter_and_catches(workflow: Any) -> None:
    states = definition(workflow.definition)["States"]
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert tasks
    for name, state in tasks.items():
        assert state.get("Retry"), f"{name} has no Retry"
        assert all(r.get("JitterStrategy") == "FULL" for r in state["Retry"]), f"{name} retries without jitter"
        assert any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", [])), f"{name} catches nothing"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_state_is_reachable_and_every_jump_lands(workflow: Any) -> None:
    document = definition(workflow.definition)
    states = document["States"]
    reached, frontier = set(), [document["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name in reached:
            continue
        assert name in states, f"a jump to {name}, which is not a state"
        reached.add(name)
        frontier += sorted(targets(states[name]))
    assert reached == set(states), f"unreachable: {set(states) - reached}"
    assert any(s["Type"] == "Succeed" for s in states.values())


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_a_definition_names_only_the_declared_substitutions(workflow: Any) -> None:
    text = (WORKFLOW_DIR / workflow.definition).read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(WORKFLOW_SUBSTITUTIONS)


NEVER_RETRIED = {"States.Runtime", "States.DataLimitExceeded", "States.Timeout", "States.HeartbeatTimeout"}
"""A runtime error (a bad path, a bad value) fails the same way every time; a timeout has its own designed path."""
FAILURE_STATES = {"ReportFailure", "Failed"}


def tasks_of(workflow: Any) -> dict[str, dict[str, Any]]:
    states = definition(workflow.definition)["States"]
    return {name: state for name, state in states.items() if state["Type"] == "Task"}


def waits_for_a_token(state: dict[str, Any]) -> bool:
    return str(state["Resource"]).endswith(".waitForTaskToken")


def message(state: dict[str, Any]) -> dict[str, Any]:
    body = state.get("Parameters", {}).get("MessageBody", {})
    return dict(body) if isinstance(body, dict) else {}


def catcher(state: dict[str, Any], error: str) -> dict[str, Any]:
    return next(c for c in state["Catch"] if error in c["ErrorEquals"])


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_nothing_that_fails_the_same_way_every_time_is_retried(workflow: Any) -> None:
    for name, state in tasks_of(workflow).items():
        for retrier in state["Retry"]:
            assert not NEVER_RETRIED & set(retrier["ErrorEquals"]), f"{name} retries {retrier['ErrorEquals']}"
            assert retrier["BackoffRate"] > 1, name
            assert retrier["MaxDelaySeconds"] <= 300, name


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_wait_for_a_token_times_out_into_a_designed_path_not_a_failure(workflow: Any) -> None:
    waiting = {name: state for name, state in tasks_of(workflow).items() if waits_for_a_token(state)}
    assert waiting
    for name, state in waiting.items():
        assert ("TimeoutSeconds" in state) != ("TimeoutSecondsPath" in state), f"{name} needs one timeout"
        assert catcher(state, "States.Timeout")["Next"] not in FAILURE_STATES, f"{name}: a timeout is not a failure"
        if "HeartbeatSeconds" in state and "TimeoutSeconds" in state:
            assert state["HeartbeatSeconds"] < state["TimeoutSeconds"], name


def parks(workflow: Any) -> dict[str, dict[str, Any]]:
    """The waits for the next deadline or a change: the token is kept on the ticket (task ``park``)."""
    return {name: state for name, state in tasks_of(workflow).items() if message(state).get("task") == "park"}


def routes_into(states: dict[str, Any], target: str) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every (state, choice rule) that jumps to ``target``; the rule is None for a Next, a Default or a Catch."""
    found: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for state in states.values():
        found += [(state, rule) for rule in state.get("Choices", []) if rule["Next"] == target]
        if state.get("Default") == target or state.get("Next") == target:
            found.append((state, None))
        found += [(state, None) for c in state.get("Catch", []) if c["Next"] == target]
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_a_long_wait_for_a_change_is_watched_by_heartbeats_and_a_lost_token_recovers(workflow: Any) -> None:
    states = definition(workflow.definition)["States"]
    watched = {name: state for name, state in parks(workflow).items() if "HeartbeatSeconds" in state}
    assert watched, "a long wait declares a heartbeat"
    for name, state in watched.items():
        heartbeat = state["HeartbeatSeconds"]
        # The worker learns from the message that the token is to be watched (and how often).
        assert message(state)["heartbeat_seconds"] == heartbeat, name
        # A lost token: no heartbeat comes, and the workflow checks again and parks with a new token.
        assert catcher(state, "States.HeartbeatTimeout")["Next"] == "Check", name
        assert state["Catch"][0]["ErrorEquals"] == ["States.HeartbeatTimeout"], "caught before States.Timeout"
        # The heartbeat is shorter than the wait: only a wait longer than it is routed here.
        assert state["TimeoutSecondsPath"] == "$.check.wait_seconds", name
        for _, rule in routes_into(states, name):
            assert rule is not None, f"{name} is reached only through a choice on the wait"
            assert rule["Variable"] == state["TimeoutSecondsPath"]
            assert rule["NumericGreaterThan"] >= heartbeat
        # Something sends the heartbeats, several times per interval: the workflow-tasks worker's tick.
        assert WORKFLOW_TASKS.schedule_seconds is not None
        assert WORKFLOW_TASKS.schedule_seconds * 3 <= heartbeat


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_a_short_wait_for_a_change_is_only_taken_when_the_deadline_is_within_a_heartbeat(workflow: Any) -> None:
    states = definition(workflow.definition)["States"]
    heartbeat = min(s["HeartbeatSeconds"] for s in parks(workflow).values() if "HeartbeatSeconds" in s)
    for name, state in parks(workflow).items():
        if "HeartbeatSeconds" in state:
            continue
        assert "heartbeat_seconds" not in message(state), f"{name}: nobody must expect heartbeats for it"
        for choice, rule in routes_into(states, name):
            assert rule is None, name
            assert choice.get("Default") == name, f"{name} is only the choice's default"
            longer = [r for r in choice["Choices"] if r.get("Variable") == "$.check.wait_seconds"]
            assert longer, "the choice sends longer waits elsewhere"
            assert all(r["NumericGreaterThan"] <= heartbeat for r in longer)


def test_waiting_for_the_next_deadline_times_out_into_a_new_check() -> None:
    for state in parks(WORKFLOWS[0]).values():
        assert state["TimeoutSecondsPath"] == "$.check.wait_seconds"
        assert catcher(state, "States.Timeout")["Next"] == "Check"
