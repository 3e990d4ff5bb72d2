"""Loads the workspace's custom actions: ``actions/<id>.yaml``, one action per file.

Errors name the file, the field and the problem, like the workspace loader, e.g.
``workspace/demo/actions/get-order.yaml: timeout_seconds: Input should be less than or equal to 30``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from helpdesk.adapters.workspace_files import WorkspaceConfigError, describe_problems, read_yaml
from helpdesk.domain.actions import CustomAction


def load_actions(directory: str | Path) -> tuple[CustomAction, ...]:
    """Every ``*.yaml`` in ``directory`` as a ``CustomAction``, sorted by id; no directory means no actions."""
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise WorkspaceConfigError(f"{root}: must be a directory of <action id>.yaml files")
    misnamed = sorted(root.glob("*.yml"))
    if misnamed:
        raise WorkspaceConfigError(f"{misnamed[0]}: name action files <id>.yaml (not .yml), or they are not loaded")
    actions = []
    for path in sorted(root.glob("*.yaml")):
        data = read_yaml(path)
        try:
            action = CustomAction.model_validate(data)
        except ValidationError as error:
            raise WorkspaceConfigError(describe_problems(path, error)) from error
        if action.id != path.stem:
            raise WorkspaceConfigError(f"{path}: id: '{action.id}' must match the file name '{path.stem}'")
        actions.append(action)
    return tuple(actions)
