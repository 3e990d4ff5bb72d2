"""The local runtime (`python -m localrt`) as a subprocess on free ports, for tests over real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from helpdesk.auth.customer_tokens import sign_customer_token

from tests.support.workspaces import agents_only_workspace

REPO = Path(__file__).resolve().parents[2]
MESSENGER_SECRET = "e2e-messenger-secret-for-tests-only"
AGENT_SECRET = "e2e-agent-secret-for-tests-only-000"
START_TIMEOUT = 45


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    port, moto_port = free_port(), free_port()
    log_path = log_dir / "localrt.log"
    env = {
        **os.environ,
        "PORT": str(port),
        "MOTO_PORT": str(moto_port),
        "LOCAL_MESSENGER_SECRET": MESSENGER_SECRET,
        "LOCAL_AGENT_SECRET": AGENT_SECRET,
        "LOCAL_TICK_SECONDS": "1",
        # This checkout's code, even when the virtualenv's editable install points at another.
        "PYTHONPATH": os.pathsep.join(str(REPO / d) for d in ("functions", "local")),
        **extra_env,
    }
    for leaked in ("AWS_ENDPOINT_URL", "TABLE_NAME", "MESSENGER_SECRET_ARN", "ATTACHMENTS_BUCKET", "FANOUT_QUEUE_URL"):
        env.pop(leaked, None)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "localrt"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the local runtime did not come up:\n{log_path.read_text()}")
            time.sleep(0.2)
        runtime = LocalRuntime(base_url=base, moto_url=f"http://127.0.0.1:{moto_port}", process=process)
        yield runtime
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("the local runtime did not stop within 20 s of Ctrl-C")
        assert code == 0, log_path.read_text()


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
