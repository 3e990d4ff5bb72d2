"""The workflow definitions (``workflows/*.asl.json``): checked before CDK or moto ever load them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpdesk.surfaces import WORKFLOW_SUBSTITUTIONS, WORKFLOWS

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


def test_waiting_for_the_next_deadline_times_out_into_a_new_check() -> None:
    state = definition("standard.asl.json")["States"]["WaitForDeadlineOrChange"]
    assert state["TimeoutSecondsPath"] == "$.check.wait_seconds"
    timeout = next(c for c in state["Catch"] if c["ErrorEquals"] == ["States.Timeout"])
    assert timeout["Next"] == "Check"
    assert not any("States.Timeout" in r["ErrorEquals"] for r in state["Retry"]), "a timeout must not be retried"
