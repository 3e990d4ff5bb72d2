"""The local runtime (``python -m localrt``) as a subprocess on free ports, as the end-to-end tests start it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.harness import REPO, subprocess_environment

MESSENGER_SECRET = "bench-messenger-secret-for-local-only"
AGENT_SECRET = "bench-agent-secret-for-local-only-00"
START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Runtime:
    base_url: str
    moto_url: str
    log: Path
    process: subprocess.Popen[str]

    def customer_token(self, user_id: str, **claims: Any) -> str:
        from helpdesk.auth.customer_tokens import sign_customer_token

        return sign_customer_token(MESSENGER_SECRET, user_id, ttl_seconds=3600, **claims)

    def agent_token(self, sub: str, groups: list[str]) -> str:
        from localrt.identities import sign_agent_token

        return sign_agent_token(AGENT_SECRET, sub, groups, name=sub)


@contextmanager
def local_runtime(module: str = "localrt", **extra_env: str) -> Iterator[Runtime]:
    """``python -m <module>`` until the block ends, then Ctrl-C; fails with its log if it doesn't come up."""
    port, moto_port = free_port(), free_port()
    log_path = Path(tempfile.mkdtemp(prefix="bench-localrt-")) / "localrt.log"
    settings = {
        "PORT": str(port),
        "MOTO_PORT": str(moto_port),
        "LOCAL_MESSENGER_SECRET": MESSENGER_SECRET,
        "LOCAL_AGENT_SECRET": AGENT_SECRET,
        "LOCAL_TICK_SECONDS": "1",
    }
    env = subprocess_environment(**(settings | extra_env))
    for leaked in ("AWS_ENDPOINT_URL", "TABLE_NAME", "MESSENGER_SECRET_ARN", "ATTACHMENTS_BUCKET", "FANOUT_QUEUE_URL"):
        env.pop(leaked, None)
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter running our own module
            [sys.executable, "-m", module], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the local runtime did not come up:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            yield Runtime(base_url=base, moto_url=f"http://127.0.0.1:{moto_port}", log=log_path, process=process)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
