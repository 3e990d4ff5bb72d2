"""Schemathesis against both OpenAPI documents on the local runtime: 0 server errors, 0 schema violations.

Every check runs (server errors, response schema conformance, status code conformance, negative data
rejection, ignored auth, missing headers, positive data acceptance with fuzz_checks.py's stricter
stand-in for 422s) except ``unsupported_method``: the local gateway's HTTP server answers TRACE with 501
before any of our code runs, and API Gateway answers undeclared methods with 403, so no gateway of ours
can give the 405 it wants. Takes minutes: ``make test-slow`` runs it (marked ``slow``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import LocalRuntime, running_local_runtime
from tests.support.workspaces import agents_only_workspace

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def fuzz_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    """Its own runtime (fuzzing fills the table with junk), running this checkout's code."""
    code = os.pathsep.join(str(REPO / part) for part in ("functions", "local"))
    with running_local_runtime(
        tmp_path_factory.mktemp("localrt-fuzz"),
        LOCAL_WORKSPACE_DIR=str(agents_only_workspace()),
        PYTHONPATH=code,
        LOCAL_CUSTOMER_RATE_LIMIT="1000000/60",  # thousands of requests on one token: not a customer's pace
        LOCAL_VISITOR_CREATION_RATE_LIMIT="1000000/60",  # nor hundreds of visitors from one address
    ) as runtime:
        yield runtime


def schemathesis(runtime: LocalRuntime, surface: str, token: str, tmp_path: Path) -> tuple[int, str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{runtime.base_url}/{surface}/openapi.json",
        "--url",
        runtime.base_url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--exclude-checks",
        "unsupported_method",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "2",
        "--no-color",
    ]
    env = {**os.environ, "PYTHONPATH": str(HERE), "SCHEMATHESIS_HOOKS": "fuzz_checks"}
    finished = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1500, check=False)
    return finished.returncode, finished.stdout + finished.stderr


@pytest.mark.parametrize("surface", ["messenger", "inbox"])
def test_fuzzing_finds_no_server_error_and_no_schema_violation(
    fuzz_runtime: LocalRuntime, surface: str, tmp_path: Path
) -> None:
    # Given valid tokens: a customer's for the messenger, an admin agent's for the inbox
    token = (
        fuzz_runtime.customer_token("fuzz-customer", email="fuzz@example.com")
        if surface == "messenger"
        else fuzz_runtime.agent_token("fuzz-admin", ["admins", "frontline"])
    )

    # When schemathesis throws generated requests at every operation of the document
    code, report = schemathesis(fuzz_runtime, surface, token, tmp_path)

    # Then every check passes
    generated = re.search(r"(\d+) generated", report)
    print(f"{surface}: {generated.group(1) if generated else '?'} requests fuzzed")
    assert code == 0, report[report.find("FAILURES") :][:30000]
    assert "Server error" not in report
    assert "Response violates schema" not in report
