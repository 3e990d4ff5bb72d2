"""Reading the workspace's YAML files: one mapping per file, and validation problems named by file and
field. Shared by the loaders of the workspace, its custom actions and its knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


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


def describe_problems(path: Path, error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"{path}: {location}: {problem['msg']}")
    return "\n".join(lines)
