"""The local runtime (`python -m localrt`) as a subprocess on free ports, for tests over real HTTP."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from helpdesk.auth.customer_tokens import sign_customer_token
from helpdesk.surfaces import EVENT_SOURCE
from jsonschema import Draft202012Validator
from localrt.launcher import REPO, DidNotStart, free_port, launched

from tests.support.workspaces import agents_only_workspace

__all__ = ["REPO", "LocalRuntime", "free_port", "running_local_runtime"]
MESSENGER_SECRET = "e2e-messenger-secret-for-tests-only"
AGENT_SECRET = "e2e-agent-secret-for-tests-only-000"
START_TIMEOUT = 120
"""Until every worker is ready (``/healthz`` 200): a bound for a runtime that never starts, generous for
busy machines; a runtime that starts sooner is used sooner."""
SCHEMAS = REPO / "events" / "schemas"


@dataclass
class LocalRuntime:
    base_url: str
    moto_url: str
    process: subprocess.Popen[str]

    def customer_token(self, user_id: str, ttl_seconds: int = 3600, **claims: Any) -> str:
        return sign_customer_token(MESSENGER_SECRET, user_id, ttl_seconds=ttl_seconds, **claims)

    def agent_token(self, sub: str, groups: list[str], name: str | None = None) -> str:
        from localrt.identities import sign_agent_token

        return sign_agent_token(AGENT_SECRET, sub, groups, name=name)


@contextmanager
def running_local_runtime(log_dir: Path, **extra_env: str) -> Iterator[LocalRuntime]:
    """``python -m localrt`` on free ports until the block ends; then Ctrl-C, which must exit 0."""
    settings = {
        "LOCAL_MESSENGER_SECRET": MESSENGER_SECRET,
        "LOCAL_AGENT_SECRET": AGENT_SECRET,
        "LOCAL_TICK_SECONDS": "1",
    }
    try:
        with launched(log_dir / "localrt.log", settings | extra_env, start_timeout=START_TIMEOUT) as started:
            yield LocalRuntime(base_url=started.base_url, moto_url=started.moto_url, process=started.process)
            assert_published_events_match_their_schemas(started.base_url)
    except DidNotStart as failure:
        pytest.fail(str(failure))
    assert started.exit_code == 0, f"Ctrl-C didn't stop the runtime cleanly:\n{started.log.read_text()[-3000:]}"


def schema_problems(event: dict[str, Any]) -> list[str]:
    """What the published schema of ``event``'s detail type says is wrong with its detail (none: valid)."""
    schema_file = SCHEMAS / f"{event.get('detail-type')}.json"
    if not schema_file.is_file():
        return [f"no published schema for detail-type {event.get('detail-type')!r}"]
    schema = json.loads(schema_file.read_text())
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.path)) or '(detail)'}: {e.message}" for e in validator.iter_errors(event["detail"])]


def assert_published_events_match_their_schemas(base_url: str) -> None:
    """Every event the system put on the bus during a scenario (the local outbox keeps them) matches its schema."""
    events = requests.get(f"{base_url}/_local/outbox", timeout=30).json()["events"]
    refused = {
        f"{event['detail-type']} {event['detail'].get('event_id')}": problems
        for event in events
        if event.get("source") == EVENT_SOURCE and (problems := schema_problems(event))
    }
    assert refused == {}, f"published events their schemas refuse: {refused}"


@pytest.fixture(scope="session")
def local_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    """The local runtime on the demo workspace without its bot: customers talk straight to agents."""
    workspace = agents_only_workspace()
    with running_local_runtime(tmp_path_factory.mktemp("localrt"), LOCAL_WORKSPACE_DIR=str(workspace)) as runtime:
        yield runtime


@pytest.fixture(scope="session")
def bot_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    """The local runtime as `make run` starts it: the demo workspace with its bot and order system."""
    with running_local_runtime(tmp_path_factory.mktemp("localrt-bot")) as runtime:
        yield runtime
