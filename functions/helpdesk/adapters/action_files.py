"""Loads the workspace's custom actions: ``actions/<id>.yaml``, one action per file.

Errors name the file, the field and the problem, like the workspace loader, e.g.
``workspace/demo/actions/get-order.yaml: timeout_seconds: Input should be less than or equal to 30``.
An action on a customer's records without an ownership rule is such an error (see
``helpdesk.domain.action_ownership``), and so is a ``verify_with`` naming an action that can't check.
"""

from __future__ import annotations

from pathlib import Path

from helpdesk.adapters.yaml_files import WorkspaceConfigError, check_named_after_file, config_files, read_model
from helpdesk.domain.actions import CustomAction, ownership_references


def load_actions(directory: str | Path) -> tuple[CustomAction, ...]:
    """Every ``*.yaml`` in ``directory`` as a ``CustomAction``, sorted by id; no directory means no actions."""
    actions: list[CustomAction] = []
    paths: dict[str, Path] = {}
    for path in config_files(directory, "action"):
        action = read_model(path, CustomAction)
        check_named_after_file(path, "id", action.id)
        actions.append(action)
        paths[action.id] = path
    problems = ownership_references({action.id: action for action in actions})
    if problems:
        raise WorkspaceConfigError(
            "\n".join(f"{paths[action_id]}: {problem}" for action_id, problem in problems.items())
        )
    return tuple(actions)
