"""The local runtime (``python -m localrt``) as a subprocess on free ports, launched as the end-to-end tests do."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localrt.launcher import launched

from bench.harness import subprocess_environment

MESSENGER_SECRET = "bench-messenger-secret-for-local-only"
AGENT_SECRET = "bench-agent-secret-for-local-only-00"
START_TIMEOUT = 60


@dataclass
class Runtime:
    base_url: str
    moto_url: str
    log: Path
    process: subprocess.Popen[str]
    smtp_port: int = 0

    def customer_token(self, user_id: str, **claims: Any) -> str:
        from helpdesk.auth.customer_tokens import sign_customer_token

        return sign_customer_token(MESSENGER_SECRET, user_id, ttl_seconds=3600, **claims)

    def agent_token(self, sub: str, groups: list[str]) -> str:
        from localrt.identities import sign_agent_token

        return sign_agent_token(AGENT_SECRET, sub, groups, name=sub)


@contextmanager
def local_runtime(module: str = "localrt", **extra_env: str) -> Iterator[Runtime]:
    """``python -m <module>`` until the block ends, then Ctrl-C; fails with its log if it doesn't come up."""
    log_path = Path(tempfile.mkdtemp(prefix="bench-localrt-")) / "localrt.log"
    settings = {
        "LOCAL_MESSENGER_SECRET": MESSENGER_SECRET,
        "LOCAL_AGENT_SECRET": AGENT_SECRET,
        "LOCAL_TICK_SECONDS": "1",
    }
    environment = subprocess_environment(**(settings | extra_env))
    with launched(log_path, environment, module=module, start_timeout=START_TIMEOUT) as started:
        yield Runtime(
            base_url=started.base_url,
            moto_url=started.moto_url,
            log=log_path,
            process=started.process,
            smtp_port=started.smtp_port,
        )
