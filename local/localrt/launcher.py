"""Start ``python -m localrt`` as a subprocess on free ports and stop it with Ctrl-C, as a person would.

Shared by the end-to-end tests and the benchmarks, so both run the system the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

REPO = Path(__file__).resolve().parents[2]
LEAKED_SETTINGS = ("AWS_ENDPOINT_URL", "TABLE_NAME", "MESSENGER_SECRET_ARN", "ATTACHMENTS_BUCKET", "FANOUT_QUEUE_URL")
"""What a parent process may have set for its own AWS clients and the runtime must not inherit."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Launched:
    base_url: str
    moto_url: str
    log: Path
    process: subprocess.Popen[str]
    exit_code: int | None = None
    """Set once the block ends: what the runtime exited with after Ctrl-C (None: it had to be killed)."""


class DidNotStart(RuntimeError):
    pass


@contextmanager
def launched(
    log_path: Path,
    environment: Mapping[str, str],
    *,
    module: str = "localrt",
    start_timeout: float = 60,
    until: Literal["healthy", "listening"] = "healthy",
) -> Iterator[Launched]:
    """The runtime until the block ends; ``environment`` adds to this process's (secrets, workspace, ...).

    It runs this checkout's code (``PYTHONPATH``), whatever a virtualenv's editable install points at.
    The block starts once ``/healthz`` answers 200 (every worker ready), or with ``until="listening"``
    the moment the gateway's port accepts connections. Raises ``DidNotStart`` with the end of its log
    if that doesn't happen in time.
    """
    port, moto_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "MOTO_PORT": str(moto_port),
        "PYTHONPATH": os.pathsep.join(str(REPO / d) for d in ("functions", "local")),
        **environment,
    }
    for leaked in LEAKED_SETTINGS:
        env.pop(leaked, None)
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter running our own module
            [sys.executable, "-m", module], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        runtime = Launched(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{moto_port}", log_path, process)
        try:
            _wait_until_up(runtime, start_timeout, until)
            yield runtime
        finally:
            process.send_signal(signal.SIGINT)
            try:
                runtime.exit_code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(runtime: Launched, timeout: float, until: Literal["healthy", "listening"]) -> None:
    deadline = time.monotonic() + timeout
    port = int(runtime.base_url.rsplit(":", 1)[1])
    while True:
        if until == "listening":
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                pass
        else:
            try:
                with urllib.request.urlopen(f"{runtime.base_url}/healthz", timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not listening yet, or 503: a worker isn't ready
        if runtime.process.poll() is not None or time.monotonic() > deadline:
            runtime.process.kill()
            raise DidNotStart(f"the local runtime did not come up:\n{runtime.log.read_text()[-3000:]}")
        time.sleep(0.02 if until == "listening" else 0.2)
