"""Loads the workspace's custom actions: ``actions/<id>.yaml``, one action per file.

Errors name the file, the field and the problem, like the workspace loader, e.g.
``workspace/demo/actions/get-order.yaml: timeout_seconds: Input should be less than or equal to 30``.
An action on a customer's records without an ownership rule is such an error (see
``helpdesk.domain.action_ownership``), and so is a ``verify_with`` naming an action that can't check.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from helpdesk.adapters.yaml_files import WorkspaceConfigError, describe_problems, read_yaml
from helpdesk.domain.actions import CustomAction, ownership_references


def load_actions(directory: str | Path) -> tuple[CustomAction, ...]:
    """Every ``*.yaml`` in ``directory`` as a ``CustomAction``, sorted by id; no directory means no actions."""
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise WorkspaceConfigError(f"{root}: must be a directory of <action id>.yaml files")
    misnamed = sorted(root.glob("*.yml"))
    if misnamed:
        raise WorkspaceConfigError(f"{misnamed[0]}: name action files <id>.yaml (not .yml), or they are not loaded")
    actions: list[CustomAction] = []
    paths: dict[str, Path] = {}
    for path in sorted(root.glob("*.yaml")):
        data = read_yaml(path)
        try:
            action = CustomAction.model_validate(data)
        except ValidationError as error:
            raise WorkspaceConfigError(describe_problems(path, error)) from error
        if action.id != path.stem:
            raise WorkspaceConfigError(f"{path}: id: '{action.id}' must match the file name '{path.stem}'")
        actions.append(action)
        paths[action.id] = path
    problems = ownership_references({action.id: action for action in actions})
    if problems:
        raise WorkspaceConfigError(
            "\n".join(f"{paths[action_id]}: {problem}" for action_id, problem in problems.items())
        )
    return tuple(actions)
