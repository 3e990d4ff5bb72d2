"""1. Cold start: importing each Lambda handler module in a fresh interpreter, against ``import boto3`` alone.

Each figure is the median, over ``rounds`` fresh interpreters, of the time the ``import`` statement
takes (interpreter start-up, the same for both, is left out). The rounds interleave the modules, so
a busy moment on the machine hits them all alike.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from bench.harness import REPO, Result, median, subprocess_environment

GOAL_RATIO = 1.3
REFERENCE = "boto3"
HANDLERS = REPO / "functions" / "helpdesk" / "handlers"
_PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


def handler_modules() -> list[str]:
    """Every Lambda handler module (one per function) under ``functions/helpdesk/handlers``."""
    return sorted(f"helpdesk.handlers.{p.stem}" for p in HANDLERS.glob("*.py") if p.stem != "__init__")


def import_seconds(module: str) -> float:
    """How long ``import module`` takes in a fresh interpreter."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        env=subprocess_environment(),
        cwd=REPO,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{completed.stderr[-2000:]}")
    return float(completed.stdout.strip().splitlines()[-1])


def what_dominates(module: str, top: int = 8) -> list[dict[str, float | str]]:
    """``python -X importtime``: the top-level packages whose own import time adds up to the most."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=subprocess_environment(),
        cwd=REPO,
        check=True,
    )
    by_package: dict[str, int] = defaultdict(int)
    for line in completed.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            by_package[match.group(4).split(".")[0]] += int(match.group(1))
    heaviest = sorted(by_package.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return [{"package": name, "ms": round(us / 1000, 1)} for name, us in heaviest]


def run(rounds: int = 5) -> list[Result]:
    modules = [REFERENCE, *handler_modules()]
    samples: dict[str, list[float]] = {m: [] for m in modules}
    for _ in range(rounds):
        for module in modules:
            samples[module].append(import_seconds(module))
    reference = median(samples[REFERENCE])
    ratios = {m: median(samples[m]) / reference for m in modules if m != REFERENCE}
    heaviest = max(ratios, key=lambda m: ratios[m])
    met = ratios[heaviest] <= GOAL_RATIO
    details: dict[str, object] = {
        "reference": f"import {REFERENCE}",
        "reference_ms": round(reference * 1000, 1),
        "rounds": rounds,
        "per_handler": {
            m.rsplit(".", 1)[1]: {"ms": round(median(samples[m]) * 1000, 1), "ratio": round(ratios[m], 2)}
            for m in sorted(ratios, key=lambda m: ratios[m], reverse=True)
        },
        "heaviest": heaviest,
    }
    if not met:
        details["heaviest_dominated_by"] = what_dominates(heaviest)
    return [
        Result(
            benchmark="cold start",
            figure=f"heaviest handler import ({Path(heaviest.replace('.', '/')).name}) vs import boto3",
            value=round(ratios[heaviest], 2),
            unit="x",
            goal=f"<= {GOAL_RATIO}x",
            met=met,
            details=details,
        )
    ]
