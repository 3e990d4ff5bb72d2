"""Reading the workspace's YAML files: one mapping per file, and validation problems named by file and
field. Shared by the loaders of the workspace, its custom actions and its knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


class WorkspaceConfigError(Exception):
    """The workspace configuration can't be used; the message says where and why."""


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WorkspaceConfigError(f"{path}: can't be read: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise WorkspaceConfigError(f"{path}: is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise WorkspaceConfigError(f"{path}: must contain a mapping at the top level")
    return data


def read_model[M: BaseModel](path: Path, model: type[M], data: dict[str, Any] | None = None) -> M:
    """The file (or ``data`` read from it) as ``model``; a problem names the file, the field and what is wrong."""
    try:
        return model.model_validate(read_yaml(path) if data is None else data)
    except ValidationError as error:
        raise WorkspaceConfigError(describe_problems(path, error)) from error


def check_named_after_file(path: Path, field: str, value: str) -> None:
    """Files whose name is their id (or locale) must say the same inside."""
    if value != path.stem:
        raise WorkspaceConfigError(f"{path}: {field}: '{value}' must match the file name '{path.stem}'")


def config_files(directory: str | Path, kind: str) -> list[Path]:
    """The ``<id>.yaml`` files of a directory of ``kind`` files, sorted (none when there is no directory)."""
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise WorkspaceConfigError(f"{root}: must be a directory of <{kind} id>.yaml files")
    misnamed = sorted(root.glob("*.yml"))
    if misnamed:
        raise WorkspaceConfigError(f"{misnamed[0]}: name {kind} files <id>.yaml (not .yml), or they are not loaded")
    return sorted(root.glob("*.yaml"))


def describe_problems(path: Path, error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"{path}: {location}: {problem['msg']}")
    return "\n".join(lines)
