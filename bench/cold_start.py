"""1. Cold start: importing each Lambda handler in a fresh interpreter, against ``import boto3`` alone.

Every handler the system declares in ``helpdesk.surfaces`` (the API handlers, the authorizer, every
queue and stream worker; ``tests.support.lambda_handlers``) is measured; a handler module that
``surfaces`` doesn't declare fails ``tests/unit/test_bench.py``, so none is left out.

Two figures per handler, each from a pair of fresh interpreters per round (one importing boto3, one
the handler, in alternating order so a busy moment on the machine hits both alike):
- import CPU time (``time.process_time`` around the ``import``, so other processes on the machine
  don't count), as the median over rounds of the pair's ratio; goal <= 1.3x;
- the interpreter's peak RSS after the import (``ru_maxrss``, the interpreter included, as Lambda's
  "Max Memory Used" counts it), median over rounds, in MiB next to boto3's.
Where a handler misses the goal, ``-X importtime`` names the packages whose imports dominate.

Importing a handler module loads almost nothing (``helpdesk.handlers.entry``): powertools and the
function's code load on its first invocation. So the API functions and the authorizer also get the
figure that counts for a first request: the import plus that first load (``lambda_handler.prepare()``,
which builds exactly what the first invocation builds), against ``import boto3``; reported, no goal.

Both sides import with a warm bytecode cache of their own (a private ``PYTHONPYCACHEPREFIX``, filled by
one unmeasured import of each module first), so the figures are about the work the imports do, not
about whether this machine happened to have ``.pyc`` files (``PYTHONDONTWRITEBYTECODE`` is ignored).
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass

from bench.harness import REPO, Result, median, subprocess_environment
from tests.support.lambda_handlers import handler_modules

GOAL_RATIO = 1.3
REFERENCE = "boto3"
_PROBE = (
    "import resource, time, json\n"
    "started = time.process_time()\n"
    "import {module}\n"
    "cpu = time.process_time() - started\n"
    "print(json.dumps({{'cpu': cpu, 'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))"
)
_INIT_PROBE = (
    "import resource, time, json\n"
    "started = time.process_time()\n"
    "import {module}\n"
    "{module}.lambda_handler.prepare()\n"
    "cpu = time.process_time() - started\n"
    "print(json.dumps({{'cpu': cpu, 'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))"
)
INIT_MEASURED = (
    "helpdesk.handlers.messenger_api",
    "helpdesk.handlers.inbox_api",
    "helpdesk.handlers.messenger_authorizer",
)
INIT_ROUNDS = 3
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


@dataclass(frozen=True)
class Sample:
    cpu_seconds: float
    rss_mib: float


def probe_environment(bytecode: str) -> dict[str, str]:
    """The child's environment: this checkout's code, and bytecode cached under ``bytecode``."""
    env = subprocess_environment(PYTHONPYCACHEPREFIX=bytecode)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure_import(module: str, env: dict[str, str], *, with_init: bool = False) -> Sample:
    """CPU time of ``import module`` (and with ``with_init`` its first invocation's loading) and the peak
    RSS after it, in a fresh interpreter."""
    probe = _INIT_PROBE if with_init else _PROBE
    completed = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", probe.format(module=module)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{completed.stderr[-2000:]}")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    return Sample(cpu_seconds=float(figures["cpu"]), rss_mib=float(figures["rss_kib"]) / 1024)


def what_dominates(module: str, env: dict[str, str], top: int = 8) -> list[dict[str, float | str]]:
    """``python -X importtime``: the top-level packages whose own import time adds up to the most."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=env,
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


@dataclass
class Pairs:
    """One handler's paired samples: (boto3, handler) per round."""

    reference: list[Sample] = dataclasses.field(default_factory=list)
    handler: list[Sample] = dataclasses.field(default_factory=list)

    def cpu_ratio(self) -> float:
        return median([h.cpu_seconds / r.cpu_seconds for r, h in zip(self.reference, self.handler, strict=True)])

    def rss(self) -> tuple[float, float]:
        """(handler's, boto3's) median peak RSS in MiB."""
        return median([h.rss_mib for h in self.handler]), median([r.rss_mib for r in self.reference])


def measure(modules: list[str], rounds: int, env: dict[str, str]) -> dict[str, Pairs]:
    """Paired fresh-interpreter samples for each module, the order within a pair alternating by round."""
    for module in [REFERENCE, *modules]:
        measure_import(module, env)  # fills the bytecode cache; not counted
    pairs = {module: Pairs() for module in modules}
    for round_ in range(rounds):
        for module in modules:
            if round_ % 2 == 0:
                reference, handler = measure_import(REFERENCE, env), measure_import(module, env)
            else:
                handler, reference = measure_import(module, env), measure_import(REFERENCE, env)
            pairs[module].reference.append(reference)
            pairs[module].handler.append(handler)
    return pairs


def run(rounds: int = 7) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-bytecode-") as bytecode:
        return _run(rounds, probe_environment(bytecode))


def _run(rounds: int, env: dict[str, str]) -> list[Result]:
    modules = handler_modules()
    pairs = measure(modules, rounds, env)
    results = []
    for module in sorted(modules, key=lambda m: pairs[m].cpu_ratio(), reverse=True):
        ratio = pairs[module].cpu_ratio()
        rss, reference_rss = pairs[module].rss()
        name = module.rsplit(".", 1)[1]
        met = ratio <= GOAL_RATIO
        details: dict[str, object] = {
            "module": module,
            "reference": f"import {REFERENCE}",
            "rounds": rounds,
            "cpu_ms": round(median([s.cpu_seconds for s in pairs[module].handler]) * 1000, 1),
            "reference_cpu_ms": round(median([s.cpu_seconds for s in pairs[module].reference]) * 1000, 1),
            "cpu_ratio": round(ratio, 2),
            "peak_rss_mib": round(rss, 1),
            "reference_peak_rss_mib": round(reference_rss, 1),
            "rss_ratio": round(rss / reference_rss, 2),
        }
        if not met:
            details["dominated_by"] = what_dominates(module, env)
        results.append(
            Result(
                benchmark="cold start",
                figure=f"import {name}: CPU vs import boto3 (peak RSS {rss:.0f} MiB vs {reference_rss:.0f} MiB)",
                value=round(ratio, 2),
                unit="x",
                goal=f"<= {GOAL_RATIO}x",
                met=met,
                details=details,
            )
        )
    results += _init_results(env)
    return results


def _init_results(env: dict[str, str]) -> list[Result]:
    """Import plus the first invocation's loading, for the functions customers and agents wait on."""
    results = []
    for module in INIT_MEASURED:
        measure_import(module, env, with_init=True)  # fills the bytecode cache; not counted
        pairs = Pairs()
        for round_ in range(INIT_ROUNDS):
            if round_ % 2 == 0:
                pairs.reference.append(measure_import(REFERENCE, env))
                pairs.handler.append(measure_import(module, env, with_init=True))
            else:
                pairs.handler.append(measure_import(module, env, with_init=True))
                pairs.reference.append(measure_import(REFERENCE, env))
        ratio = pairs.cpu_ratio()
        rss, reference_rss = pairs.rss()
        name = module.rsplit(".", 1)[1]
        results.append(
            Result(
                benchmark="cold start",
                figure=f"import + first invocation's loading, {name}: CPU vs import boto3 (peak RSS {rss:.0f} MiB)",
                value=round(ratio, 2),
                unit="x",
                goal="reported",
                met=None,
                details={
                    "module": module,
                    "rounds": INIT_ROUNDS,
                    "cpu_ms": round(median([s.cpu_seconds for s in pairs.handler]) * 1000, 1),
                    "reference_cpu_ms": round(median([s.cpu_seconds for s in pairs.reference]) * 1000, 1),
                    "peak_rss_mib": round(rss, 1),
                    "reference_peak_rss_mib": round(reference_rss, 1),
                    "dominated_by": what_dominates(f"{module}; {module}.lambda_handler.prepare()", env),
                },
            )
        )
    return results
