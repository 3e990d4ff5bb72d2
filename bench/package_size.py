"""7. Package size: the dependency layer plus the function code, unzipped, as the CDK app builds them.

The layer includes ``tzdata`` (the Lambda runtime has no system time-zone database); the goal of
25 MB is also checked on every synth by ``tests/infra/test_infrastructure.py``. The two functions
that run the inbox search (the inbox API and the search indexer) also carry the search layer
(tantivy): their total is the second figure.
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
    search_layer = build_layer(group="search")
    search_bytes = directory_size(search_layer) - directory_size_of(search_layer / ".complete")
    with_search_mb = total_mb + search_bytes / MB
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
            figure="the inbox and search-indexer functions: both layers (common + search) + code, unzipped",
            value=round(with_search_mb, 2),
            unit="MB",
            goal=f"<= {GOAL_MB:.0f} MB",
            met=with_search_mb <= GOAL_MB,
            details={
                "search_layer_mb": round(search_bytes / MB, 2),
                "search_layer_largest": _largest(search_layer / "python"),
            },
        ),
    ]


def directory_size_of(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0
