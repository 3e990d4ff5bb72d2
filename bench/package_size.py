"""7. Package size: the dependency layer plus the function code, unzipped, as the CDK app builds them.

The layer includes ``tzdata`` (the Lambda runtime has no system time-zone database); the goal of
25 MB is also checked on every synth by ``tests/infra/test_infrastructure.py``. Every function carries
only this layer (the inbox search is SQLite, which comes with the runtime's Python) except the
thumbnailer, whose one layer (Pillow and the little it loads besides) replaces it: its total is the
second figure.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench.harness import REPO, Result

GOAL_MB = 25.0
MB = 1024 * 1024


def _largest(directory: Path, top: int = 6) -> list[dict[str, object]]:
    from infra.bundling import directory_size

    sizes = [(p.name, directory_size(p)) for p in directory.iterdir() if p.is_dir()]
    return [{"name": n, "mb": round(s / MB, 2)} for n, s in sorted(sizes, key=lambda kv: kv[1], reverse=True)[:top]]


def run(workspace: Path = REPO / "workspace" / "demo") -> list[Result]:
    # The same functions the CDK app bundles with (infra/bundling.py): nothing measured here is rebuilt by hand.
    from infra.bundling import IGNORED_IN_CODE, build_layer, directory_size

    layer = build_layer()
    layer_bytes = directory_size(layer) - directory_size_of(layer / ".complete")
    with tempfile.TemporaryDirectory() as scratch:
        code = Path(scratch)
        shutil.copytree(REPO / "functions" / "helpdesk", code / "helpdesk", ignore=IGNORED_IN_CODE)
        shutil.copytree(workspace, code / "workspace")
        code_bytes = directory_size(code)
    total_mb = (layer_bytes + code_bytes) / MB
    pillow_layer = build_layer(group="thumbnails")
    pillow_bytes = directory_size(pillow_layer) - directory_size_of(pillow_layer / ".complete")
    thumbnailer_mb = (pillow_bytes + code_bytes) / MB
    return [
        Result(
            benchmark="package size",
            figure="layer + function code, unzipped",
            value=round(total_mb, 2),
            unit="MB",
            goal=f"<= {GOAL_MB:.0f} MB",
            met=total_mb <= GOAL_MB,
            details={
                "layer_mb": round(layer_bytes / MB, 2),
                "code_mb": round(code_bytes / MB, 2),
                "layer_largest": _largest(layer / "python"),
                "tzdata_in_layer": (layer / "python" / "tzdata").is_dir(),
            },
        ),
        Result(
            benchmark="package size",
            figure="the thumbnailer: its own layer (Pillow, powertools, pydantic) + code, unzipped",
            value=round(thumbnailer_mb, 2),
            unit="MB",
            goal=f"<= {GOAL_MB:.0f} MB",
            met=thumbnailer_mb <= GOAL_MB,
            details={
                "pillow_layer_mb": round(pillow_bytes / MB, 2),
                "pillow_layer_largest": _largest(pillow_layer / "python"),
            },
        ),
    ]


def directory_size_of(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0
