"""Loads the workspace configuration (YAML files) and validates it into a ``Workspace``.

Layout of a workspace directory::

    workspace.yaml              name, default_team, teams
    ticket_types/<id>.yaml      one ticket type per file; the file name must match its id
    bot.yaml                    optional: the bot's greeting, menu and paths
    actions/<id>.yaml           optional: the custom actions the bot calls
    knowledge/<id>.yaml         optional: the knowledge base's articles (``knowledge_files``)
    macros/<id>.yaml            optional: the workspace's saved replies (``macro_files``)

Errors name the file, the field and the problem, e.g.
``workspace/demo/ticket_types/damaged-item.yaml: attributes.0.type: Input should be 'string', ...``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from helpdesk.adapters.yaml_files import (
    WorkspaceConfigError,
    check_named_after_file,
    describe_problems,
    read_model,
    read_yaml,
)
from helpdesk.domain.bot import BotConfig, reference_problems
from helpdesk.domain.workspace import TicketType, Workspace

__all__ = ["WorkspaceConfigError", "describe_problems", "load_workspace", "read_yaml"]


def load_workspace(directory: str | Path) -> Workspace:
    root = Path(directory)
    manifest_path = root / "workspace.yaml"
    if not manifest_path.is_file():
        raise WorkspaceConfigError(f"{manifest_path}: not found (a workspace needs a workspace.yaml)")
    manifest = read_yaml(manifest_path)
    if "ticket_types" in manifest:
        raise WorkspaceConfigError(
            f"{manifest_path}: ticket_types: define ticket types in ticket_types/<id>.yaml, not here"
        )

    teams_only = read_model(manifest_path, Workspace, manifest)

    ticket_types = []
    for path in sorted((root / "ticket_types").glob("*.yaml")):
        ticket_type = read_model(path, TicketType)
        check_named_after_file(path, "id", ticket_type.id)
        if teams_only.team(ticket_type.default_team) is None:
            raise WorkspaceConfigError(
                f"{path}: default_team: '{ticket_type.default_team}' is not one of the teams in {manifest_path}"
            )
        ticket_types.append(ticket_type)

    from helpdesk.adapters.action_files import load_actions  # it reads YAML with this module's helpers

    actions = load_actions(root / "actions")
    bot = _load_bot(root / "bot.yaml", teams_only, ticket_types, {a.id for a in actions})
    try:
        workspace = Workspace.model_validate({**manifest, "ticket_types": ticket_types, "bot": bot, "actions": actions})
    except ValidationError as error:  # pragma: no cover - every reference was checked above
        raise WorkspaceConfigError(describe_problems(manifest_path, error)) from error
    from helpdesk.adapters.macro_files import load_macros  # a bad macro file fails the workspace's load too

    load_macros(root / "macros", workspace)
    return workspace


def _load_bot(path: Path, workspace: Workspace, ticket_types: list[TicketType], actions: set[str]) -> BotConfig | None:
    if not path.is_file():
        return None
    bot = read_model(path, BotConfig)
    problems = reference_problems(
        bot,
        teams={t.id for t in workspace.teams},
        ticket_types={t.id: {a.id for a in t.attributes} for t in ticket_types},
        actions=actions,
    )
    if problems:
        raise WorkspaceConfigError("\n".join(f"{path}: {problem}" for problem in problems))
    return bot
