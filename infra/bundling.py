"""Lambda assets built on this machine, never in Docker: the dependency layer and the function code.

- The layer: the runtime dependencies from ``pyproject.toml``, as manylinux aarch64 wheels for
  Python 3.13, installed with pip into ``python/``; what the Lambda runtime already ships is left
  out. Cached under ``layers/build/<hash>`` so repeated synths don't reinstall.
- The code: ``functions/helpdesk`` (no caches) plus the workspace configuration as ``workspace/``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO = Path(__file__).resolve().parents[1]
LAYER_BUILD = REPO / "layers" / "build"
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
IGNORED_IN_CODE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache")


def runtime_dependencies() -> list[str]:
    """The project's runtime requirements, minus what the Lambda Python runtime provides."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = []
    for requirement in project["dependencies"]:
        name = re.split(r"[\[=<>!~ ]", requirement, maxsplit=1)[0].lower()
        if name not in RUNTIME_PROVIDED:
            requirements.append(requirement)
    return requirements


def _pip_install(requirements: list[str], target: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--platform",
        "manylinux2014_aarch64",
        "--only-binary=:all:",
        "--python-version",
        "3.13",
        "--implementation",
        "cp",
        "--target",
        str(target),
        *requirements,
    ]
    subprocess.run(command, check=True)  # noqa: S603 - our own fixed pip command


def layer_dir() -> Path:
    """Where the layer for the current dependency set is (or will be) built."""
    digest = hashlib.sha256("\n".join(sorted(runtime_dependencies())).encode()).hexdigest()[:16]
    return LAYER_BUILD / digest


def build_layer() -> Path:
    """The layer's content directory (with ``python/`` inside), built once per dependency set."""
    requirements = runtime_dependencies()
    out = layer_dir()
    digest = out.name
    if (out / ".complete").exists():
        return out
    staging = LAYER_BUILD / f"{digest}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    site = staging / "python"
    _pip_install(requirements, site)
    # pip resolves boto3 back in through other packages' requirements: the runtime has it already.
    for provided in list(site.iterdir()):
        normalized = provided.name.lower().replace("_", "-")
        if any(
            normalized == p or normalized.startswith(f"{p}-") for p in RUNTIME_PROVIDED | {"python-dateutil"}
        ) or normalized in {"dateutil", "six.py", "bin"}:
            shutil.rmtree(provided) if provided.is_dir() else provided.unlink()
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    (out / ".complete").write_text(digest)
    return out


@jsii.implements(ILocalBundling)
class _CopyInto:
    """Local bundling that copies a prepared directory into CDK's output directory."""

    def __init__(self, prepare: object) -> None:
        self._prepare = prepare

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        self._prepare(Path(output_dir))  # type: ignore[operator]
        return True


def _no_docker(local: _CopyInto) -> BundlingOptions:
    # The image is never pulled: local bundling always succeeds first.
    return BundlingOptions(image=DockerImage.from_registry("local-bundling-only"), local=local)


def layer_code() -> lambda_.Code:
    def prepare(output: Path) -> None:
        shutil.copytree(build_layer(), output, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))

    return lambda_.Code.from_asset(
        str(REPO / "layers"),
        bundling=_no_docker(_CopyInto(prepare)),
        exclude=["build"],
        asset_hash=hashlib.sha256("\n".join(sorted(runtime_dependencies())).encode()).hexdigest(),
        asset_hash_type=AssetHashType.CUSTOM,
    )


def function_code(workspace_dir: Path) -> lambda_.Code:
    """Only our code: the helpdesk package and the workspace configuration."""

    def prepare(output: Path) -> None:
        shutil.copytree(
            REPO / "functions" / "helpdesk", output / "helpdesk", ignore=IGNORED_IN_CODE, dirs_exist_ok=True
        )
        shutil.copytree(workspace_dir, output / "workspace", dirs_exist_ok=True)

    return lambda_.Code.from_asset(
        str(REPO / "functions"),
        bundling=_no_docker(_CopyInto(prepare)),
        exclude=["**/__pycache__", "*.egg-info"],
        asset_hash=_tree_hash(REPO / "functions" / "helpdesk", workspace_dir),
        asset_hash_type=AssetHashType.CUSTOM,
    )


def _tree_hash(*roots: Path) -> str:
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
