"""Lambda assets built on this machine, never in Docker: the dependency layer and the function code.

- The layer: the runtime dependencies from ``[project].dependencies`` in ``pyproject.toml`` as
  manylinux aarch64 wheels for CPython 3.13. pip first *resolves* the full set for that platform
  (``--dry-run --report``); we drop what the Lambda Python runtime already ships (boto3, botocore,
  ...) and install the rest, pinned, with ``--no-deps``, so nothing pulls boto3 back in. The result
  is cached under ``layers/build/<hash>`` (the hash covers the dependency list and the platform),
  so repeated synths reuse it; parallel builders (pytest-xdist) never see a half-built directory.
  ``tzdata`` is one of the dependencies: the Lambda runtime has no system time-zone database, and
  business hours are kept in named zones.
- The layer's twin for this machine (``build_layer(HOST)``): the same requirements, resolved and
  installed the same way for x86_64, so a test can import and run every function as Lambda lays it
  out (``tests/infra/test_lambda_layout.py``). It is never deployed.
- The code: ``functions/helpdesk`` (no caches) plus the workspace configuration as ``workspace/``.

Both are CDK assets with *local* bundling: ``try_bundle`` always succeeds, so the dummy Docker
image CDK insists on is never pulled.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO = Path(__file__).resolve().parents[1]
LAYER_BUILD = REPO / "layers" / "build"
LAYER_FORMAT = "3"
"""Bump when the way the layer is built changes, so cached builds are not reused."""
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"})
"""Shipped by the Lambda Python 3.13 runtime; bundling our own copy would only add weight."""
LAMBDA_ARCH = "aarch64"
"""The functions run on arm64 (Graviton); the deployed layer is built for it."""
HOST_ARCH = "x86_64"
"""This machine's architecture: the twin layer the layout test runs is built for it."""


def target_platform(arch: str = LAMBDA_ARCH) -> tuple[str, ...]:
    """pip's options for wheels of Lambda's Python 3.13 on ``arch``: binary wheels only, never a local build."""
    return (
        "--platform",
        f"manylinux2014_{arch}",
        "--only-binary=:all:",
        "--python-version",
        "3.13",
        "--implementation",
        "cp",
    )


UNUSED_IN_LAYER: dict[str | None, tuple[str, ...]] = {
    # The holidays package's translated holiday names (about 4.7 MB).
    None: ("holidays/locale",),
    # Pillow's plugins for what thumbnails never need, and the libraries only they load: AVIF (thumbnails
    # are drawn of PNG, JPEG, WebP and GIF only), fonts (FreeType, HarfBuzz, Brotli, libpng), colour
    # management (Little CMS) and Tk (about 9 MB). Pillow reports a missing plugin as unsupported.
    "thumbnails": (
        "PIL/_avif.*",
        "PIL/_imagingft.*",
        "PIL/_imagingcms.*",
        "PIL/_imagingtk.*",
        "pillow.libs/libavif-*",
        "pillow.libs/libfreetype-*",
        "pillow.libs/libharfbuzz-*",
        "pillow.libs/libbrotli*",
        "pillow.libs/libpng16-*",
        "pillow.libs/liblcms2-*",
    ),
}
"""Never loaded by our code, per layer (``None``: the common one): paths or patterns under ``python/``."""
IGNORED_IN_CODE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache")


def canonical_name(requirement: str) -> str:
    """PEP 503 name of a requirement or distribution: ``PyYAML[x]==6`` -> ``pyyaml``."""
    name = re.split(r"[\[=<>!~;@ ]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_dependencies() -> list[str]:
    """The project's declared runtime requirements, minus what the Lambda Python runtime provides."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [r for r in project["dependencies"] if canonical_name(r) not in RUNTIME_PROVIDED]


def extra_dependencies(group: str) -> list[str]:
    """An optional dependency group (``search``): a layer of its own, for the functions that need it."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [r for r in project["optional-dependencies"][group] if canonical_name(r) not in RUNTIME_PROVIDED]


def layer_digest(arch: str = LAMBDA_ARCH, group: str | None = None) -> str:
    requirements = runtime_dependencies() if group is None else extra_dependencies(group)
    recipe = {
        "requirements": sorted(requirements),
        "platform": target_platform(arch),
        "format": LAYER_FORMAT,
        "unused": UNUSED_IN_LAYER.get(group, ()),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def layer_dir(arch: str = LAMBDA_ARCH, group: str | None = None) -> Path:
    """Where the layer for the current dependency set is (or will be) built; ``python/`` inside."""
    return LAYER_BUILD / layer_digest(arch, group)[:16]


def _pip(arch: str, *arguments: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        *arguments,
        "--quiet",
        "--disable-pip-version-check",
        *target_platform(arch),
    ]
    subprocess.run(command, check=True)  # noqa: S603 - our own fixed pip command


def resolve_for_lambda(requirements: list[str], arch: str = LAMBDA_ARCH) -> list[str]:
    """Every distribution the requirements need on Lambda, pinned, minus what the runtime ships."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        dry_run = ("install", "--dry-run", "--ignore-installed", "--report", str(report), "--target", scratch)
        _pip(arch, *dry_run, *requirements)
        resolved = json.loads(report.read_text())["install"]
    pins = {canonical_name(item["metadata"]["name"]): item["metadata"]["version"] for item in resolved}
    return sorted(f"{name}=={version}" for name, version in pins.items() if name not in RUNTIME_PROVIDED)


def installed_distributions(site: Path) -> set[str]:
    return {canonical_name(p.name.split("-", 1)[0]) for p in site.glob("*.dist-info")}


def build_layer(arch: str = LAMBDA_ARCH, group: str | None = None) -> Path:
    """The layer's content directory (with ``python/`` inside), built once per dependency set and platform.

    ``group``: an optional dependency group's layer (its own dependencies only) instead of the common one."""
    out = layer_dir(arch, group)
    if (out / ".complete").exists():
        return out
    LAYER_BUILD.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{out.name}.partial-", dir=LAYER_BUILD))
    staging.chmod(0o755)  # mkdtemp makes it private; the layer's files must stay world-readable
    try:
        site = staging / "python"
        pins = resolve_for_lambda(runtime_dependencies() if group is None else extra_dependencies(group), arch)
        _pip(arch, "install", "--no-deps", "--no-compile", "--target", str(site), *pins)
        shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts, with this machine's shebang
        for pattern in UNUSED_IN_LAYER.get(group, ()):
            for unused in site.glob(pattern):
                if unused.is_dir():
                    shutil.rmtree(unused)
                else:
                    unused.unlink()
        leaked = installed_distributions(site) & RUNTIME_PROVIDED
        if leaked:
            raise RuntimeError(f"the layer must not ship what the Lambda runtime provides: {sorted(leaked)}")
        (staging / ".complete").write_text(layer_digest(arch, group))
        if out.exists() and not (out / ".complete").exists():
            shutil.rmtree(out, ignore_errors=True)  # an interrupted build left from before
        try:
            staging.rename(out)
        except OSError:
            if not (out / ".complete").exists():  # not another builder winning the race: a real error
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


@jsii.implements(ILocalBundling)
class _BuildHere:
    """Local bundling: ``prepare(output_dir)`` fills CDK's asset output directory on this machine."""

    def __init__(self, prepare: Callable[[Path], None]) -> None:
        self._prepare = prepare

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        self._prepare(Path(output_dir))
        return True


def _no_docker(prepare: Callable[[Path], None]) -> BundlingOptions:
    # The image is never pulled: local bundling always succeeds first.
    return BundlingOptions(image=DockerImage.from_registry("local-bundling-only"), local=_BuildHere(prepare))


def layer_code(group: str | None = None) -> lambda_.Code:
    def prepare(output: Path) -> None:
        shutil.copytree(
            build_layer(group=group), output, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete")
        )

    return lambda_.Code.from_asset(
        str(REPO / "layers"),
        bundling=_no_docker(prepare),
        exclude=["build"],
        asset_hash=layer_digest(group=group),
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
        bundling=_no_docker(prepare),
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
