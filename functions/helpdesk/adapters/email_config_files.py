"""Loads a workspace's email channel: ``email/channel.yaml`` and ``email/templates/<locale>.yaml``.

A workspace without ``email/channel.yaml`` has no email channel (no inbound email, status updates
still go out with the built-in English templates). Errors name the file, the field and the problem,
as the rest of the workspace configuration does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpdesk.adapters.yaml_files import WorkspaceConfigError, check_named_after_file, read_model
from helpdesk.domain.email_channel import EmailChannel
from helpdesk.domain.email_templates import EmailTemplates, LocaleTemplates, TemplateProblem
from helpdesk.domain.workspace import Workspace

BUILT_IN_TEMPLATES = Path(__file__).resolve().parents[1] / "email_templates"
"""The English templates a workspace without its own uses (a copy of the demo workspace's)."""


@dataclass(frozen=True)
class EmailSetup:
    channel: EmailChannel | None
    """None: the workspace doesn't take email in."""
    templates: EmailTemplates


def load_email_setup(directory: str | Path, workspace: Workspace, *, check: bool = True) -> EmailSetup:
    """``check``: render every template with sample values (see ``EmailTemplates``)."""
    root = Path(directory) / "email"
    channel = _channel(root / "channel.yaml", workspace)
    template_dir = root / "templates"
    if not any(template_dir.glob("*.yaml")):
        template_dir = BUILT_IN_TEMPLATES
    default_locale = channel.default_locale if channel else "en"
    return EmailSetup(channel=channel, templates=load_templates(template_dir, default_locale, check=check))


def _channel(path: Path, workspace: Workspace) -> EmailChannel | None:
    if not path.is_file():
        return None
    channel = read_model(path, EmailChannel)
    if workspace.team(channel.team) is None:
        known = ", ".join(t.id for t in workspace.teams)
        raise WorkspaceConfigError(f"{path}: team: '{channel.team}' is not one of the workspace's teams ({known})")
    return channel


def load_templates(directory: Path, default_locale: str, *, check: bool = True) -> EmailTemplates:
    locales: dict[str, LocaleTemplates] = {}
    for path in sorted(directory.glob("*.yaml")):
        templates = read_model(path, LocaleTemplates)
        check_named_after_file(path, "locale", templates.locale)
        locales[templates.locale] = templates
    try:
        return EmailTemplates(locales, default_locale, check=check)
    except TemplateProblem as problem:
        where = directory / f"{problem.locale}.yaml" if problem.locale else directory
        raise WorkspaceConfigError(f"{where}: {problem}") from problem
