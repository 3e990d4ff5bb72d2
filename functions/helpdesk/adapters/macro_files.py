"""Loads the workspace's macros: ``macros/<id>.yaml``, one saved reply per file.

Errors name the file, the field and the problem, like the workspace loader, e.g.
``workspace/demo/macros/refund-approved.yaml: team_id: 'finance' is not one of the workspace's teams``.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpdesk.adapters.yaml_files import WorkspaceConfigError, config_files, read_model
from helpdesk.domain.macros import Macro, MacroDefinition, reference_problems
from helpdesk.domain.workspace import SLUG, Workspace


def load_macros(directory: str | Path, workspace: Workspace) -> tuple[Macro, ...]:
    """Every ``*.yaml`` in ``directory`` as a workspace macro (its id is the file name), sorted by name."""
    macros: list[Macro] = []
    teams = {t.id for t in workspace.teams}
    for path in config_files(directory, "macro"):
        if not re.fullmatch(SLUG, path.stem):
            raise WorkspaceConfigError(f"{path}: the file name is the macro's id: use lowercase letters, digits, '-'")
        definition = read_model(path, MacroDefinition)
        problems = reference_problems(definition, teams=teams, tags=workspace.tags)
        if problems:
            raise WorkspaceConfigError("\n".join(f"{path}: {field}: {message}" for field, message in problems))
        macros.append(Macro(id=path.stem, **definition.model_dump()))
    return tuple(sorted(macros, key=lambda m: m.name.lower()))
