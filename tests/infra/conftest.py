"""One synthesis of the CDK app per test session (per xdist worker), offline, with cdk-nag on."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Assembly:
    outdir: Path
    templates: dict[str, dict[str, Any]]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for stack, template in self.templates.items():
            for logical_id, resource in template.get("Resources", {}).items():
                if resource["Type"] == resource_type:
                    found[f"{stack}/{logical_id}"] = resource
        return found


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    # synth raises if cdk-nag reports anything unacknowledged, failing every test that needs it.
    build_app(outdir=str(outdir)).synth()
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    return Assembly(outdir=outdir, templates=templates)
