"""10. The live channel as people see it: from a committed change to it showing on the other person's page.

Runs the two-browser test (``tests/e2e/test_live_pages.py``: an agent and a customer in headless
Chromium on the local runtime, polling disabled) with the issue's promise as its limit
(``LIVE_SHOWN_WITHIN_MS=1000``), ``RUNS`` times one after another, and reports the slowest showing of
each kind of change over all runs. ``make test`` runs the same test with a looser limit, because
there it shares the machine with the rest of the suite; timings are held here.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from bench.harness import REPO, Result

RUNS = 3
LIMIT_MS = 1000
TEST = "tests/e2e/test_live_pages.py::test_agents_and_customers_see_each_other_live_without_polling"
MARK = "live timings (ms):"


def run() -> list[Result]:
    worst: dict[str, float] = {}
    failures = 0
    for _ in range(RUNS):
        done = subprocess.run(  # noqa: S603 - our own test file, run with this interpreter
            [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly", "-p", "no:cacheprovider", TEST],
            cwd=REPO,
            env={**os.environ, "LIVE_SHOWN_WITHIN_MS": str(LIMIT_MS)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        failures += done.returncode != 0
        for line in done.stdout.splitlines():
            if line.startswith(MARK):
                for change, ms in ast.literal_eval(line.removeprefix(MARK).strip()).items():
                    worst[change] = max(worst.get(change, 0.0), float(ms))
    if not worst:
        raise RuntimeError(f"the live pages test printed no timings ({failures} of {RUNS} runs failed)")
    slowest = max(worst.values())
    return [
        Result(
            benchmark="live pages",
            figure=f"change -> shown on the other browser, slowest of {RUNS} runs (local runtime)",
            value=round(slowest),
            unit="ms",
            goal=f"<= {LIMIT_MS} ms for every change, every run passing",
            met=slowest <= LIMIT_MS and failures == 0,
            details={"slowest_ms_by_change": {k: round(v) for k, v in worst.items()}, "failed_runs": failures},
        )
    ]
