"""Run the benchmarks, print the table, write the figures to ``bench/results.json``.

``python -m bench`` runs them all (minutes); ``python -m bench cold_start round_trips`` runs some, and
replaces only their rows in ``bench/results.json`` (each row keeps the command and time it was
measured with). A benchmark that fails is printed as not measured, with its error; it never passes
silently.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
import traceback
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import REPO, Result, prepare_environment

BENCHMARKS = (
    "cold_start",
    "overhead",
    "round_trips",
    "scale",
    "load",
    "live",
    "live_pages",
    "cost",
    "package_size",
    "lake",
    "search",
    "local_transactions",
)
RESULTS = REPO / "bench" / "results.json"


def run_one(name: str) -> list[Result]:
    module = importlib.import_module(f"bench.{name}")
    started = time.monotonic()
    try:
        results: list[Result] = module.run()
    except Exception as error:  # noqa: BLE001 - a broken benchmark is reported, not hidden, and the others still run
        traceback.print_exc()
        results = [
            Result(
                benchmark=name.replace("_", " "),
                figure="not measured",
                value=None,
                unit="",
                goal="",
                met=None,
                details={"error": f"{type(error).__name__}: {error}"},
            )
        ]
    for result in results:
        result.details.setdefault("seconds", round(time.monotonic() - started, 1))
    return results


def table(results: list[Result]) -> str:
    """The results as a Markdown table: benchmark, figure, value, goal, met."""
    rows = ["| benchmark | figure | value | goal | met |", "|---|---|---|---|---|"]
    for r in results:
        value = "—" if r.value is None else f"{r.value:g} {r.unit}".strip()
        met = "not measured" if r.value is None else {True: "yes", False: "**no**", None: "—"}[r.met]
        rows.append(f"| {r.benchmark} | {r.figure} | {value} | {r.goal} | {met} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run (default: all)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the figures (JSON)")
    parser.add_argument("--update-readme", action="store_true", help="put the table in README.md's Benchmarks section")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
    prepare_environment()
    command = "make bench" if not args.names else f"python -m bench {' '.join(names)}"
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    results: list[Result] = []
    for name in names:
        print(f"== {name} …", file=sys.stderr, flush=True)
        for result in run_one(name):
            result.details.setdefault("measured_with", command)
            result.details.setdefault("measured_at", measured_at)
            results.append(result)
    report: dict[str, Any] = {
        "command": command,
        "measured_at": measured_at,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": _cpus()},
        "results": [r.as_dict() for r in results],
    }
    if args.names and args.output.exists():
        previous = json.loads(args.output.read_text())
        results = merged(previous.get("results", []), results, names)
        rerun = {"command": command, "measured_at": measured_at, "benchmarks": [n.replace("_", " ") for n in names]}
        report = {**previous, "rerun": [*previous.get("rerun", []), rerun], "results": [r.as_dict() for r in results]}
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(table(results))
    unmet = [r for r in results if r.value is None or r.met is False]
    if unmet:
        print(
            f"\n{len(unmet)} goal(s) not met or not measured: " + "; ".join(f"{r.benchmark}: {r.figure}" for r in unmet)
        )
    print(f"Figures written to {args.output}")
    if args.update_readme:
        update_readme(report, table(results))
        print("README.md's Benchmarks table updated")
    return 0


def merged(previous: list[dict[str, Any]], fresh: list[Result], names: list[str]) -> list[Result]:
    """The previous run's rows, those of the benchmarks just run replaced where they were."""
    rerun = {r.benchmark for r in fresh} | {name.replace("_", " ") for name in names}
    rows: list[Result] = []
    placed: set[str] = set()
    for row in previous:
        benchmark = str(row.get("benchmark"))
        if benchmark not in rerun:
            rows.append(Result(**row))
        elif benchmark not in placed:
            rows += [r for r in fresh if r.benchmark == benchmark]
            placed.add(benchmark)
    return rows + [r for r in fresh if r.benchmark not in placed]


def update_readme(report: dict[str, Any], rendered: str) -> None:
    """Replace the table between the README's ``bench-table`` markers with this run's."""
    readme = REPO / "README.md"
    text = readme.read_text()
    start, end = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"README.md has no {start} ... {end} markers to put the table between")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    machine = report["machine"]
    note = f"Measured with `{report['command']}` on {report['measured_at']}"
    note += f" ({machine['cpus']} CPUs, Python {machine['python']})"
    for rerun in report.get("rerun", []):
        note += f"; {', '.join(rerun['benchmarks'])} again with `{rerun['command']}` on {rerun['measured_at']}"
    readme.write_text(f"{head}{start}\n{note}:\n\n{rendered}\n{end}{tail}")


def _cpus() -> int | None:
    import os

    return os.cpu_count()


if __name__ == "__main__":
    sys.exit(main())
