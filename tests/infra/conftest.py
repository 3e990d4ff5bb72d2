"""One synthesis of the CDK app per test run, offline, with cdk-nag on, shared by the xdist workers.

The app is synthesized with the context in ``cdk.json``, as ``make synth`` does. The first worker
to take the lock synthesizes into the run's shared temporary directory; the others read the same
cloud assembly, so ``pytest -n 2`` pays for one synthesis, not two.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Assembly:
    outdir: Path
    templates: dict[str, dict[str, Any]]
    synth_seconds: float

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """``{"<stack>/<logical id>": resource}`` of one type, across stacks."""
        found: dict[str, dict[str, Any]] = {}
        for stack, template in self.templates.items():
            for logical_id, resource in template.get("Resources", {}).items():
                if resource["Type"] == resource_type:
                    found[f"{stack}/{logical_id}"] = resource
        return found

    def asset_dir(self, code: dict[str, Any]) -> Path:
        """The staged directory of a function's or layer's ``Code``/``Content`` in this assembly."""
        return self.outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())["context"]
    return context


def synthesize(outdir: Path, context: dict[str, Any] | None = None) -> None:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.app import build_app

    build_app(outdir=str(outdir), context=context or cdk_json_context()).synth()


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Assembly:
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    outdir, done, failed = shared / "cdk.out", shared / "cdk.synth-seconds", shared / "cdk.synth-failed"
    with exclusive(shared / "cdk.synth.lock"):
        if not done.exists() and not failed.exists():
            started = time.monotonic()
            try:
                synthesize(outdir)
            except RuntimeError as error:  # jsii surfaces a failed validation (cdk-nag) as RuntimeError
                failed.write_text(str(error))
            else:
                done.write_text(f"{time.monotonic() - started:.1f}")
    if failed.exists():
        pytest.fail(f"cdk synth failed (see {outdir}/validation-report.json): {failed.read_text()}")
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    return Assembly(outdir=outdir, templates=templates, synth_seconds=float(done.read_text()))
