"""The local runtime (`python -m localrt`) as a subprocess on free ports, for tests over real HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpdesk.auth.customer_tokens import sign_customer_token
from localrt.launcher import REPO, DidNotStart, free_port, launched

from tests.support.workspaces import agents_only_workspace

__all__ = ["REPO", "LocalRuntime", "free_port", "running_local_runtime"]
MESSENGER_SECRET = "e2e-messenger-secret-for-tests-only"
AGENT_SECRET = "e2e-agent-secret-for-tests-only-000"
START_TIMEOUT = 90
"""Until every worker is ready (``/healthz`` 200): a bound for a runtime that never starts, generous for
busy machines; a runtime that starts sooner is used sooner."""


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
    except DidNotStart as failure:
        pytest.fail(str(failure))
    assert started.exit_code == 0, f"Ctrl-C didn't stop the runtime cleanly:\n{started.log.read_text()[-3000:]}"


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
