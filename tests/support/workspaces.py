"""Workspace variants for tests: the demo as shipped, and the same without its bot.

Most API and inbox tests are about what agents and customers do with each other; they run on the
demo workspace *without* ``bot.yaml`` (a valid configuration: every conversation goes straight to
the team). The bot's own tests use the demo workspace as shipped.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

DEMO_WORKSPACE = Path(__file__).resolve().parents[2] / "workspace" / "demo"


def agents_only_workspace() -> Path:
    """A fresh copy of the demo workspace without its bot."""
    target = Path(tempfile.mkdtemp(prefix="workspace-agents-only-")) / "demo"
    shutil.copytree(DEMO_WORKSPACE, target, ignore=shutil.ignore_patterns("bot.yaml"))
    return target


def fast_sla_workspace() -> Path:
    """The demo without its bot, with SLAs and silences of seconds, counted around the clock.

    For the workflow's end-to-end tests: a first response owed in 4 s, resolution in 60 s.
    """
    import yaml

    target = agents_only_workspace()
    manifest = target / "workspace.yaml"
    data = yaml.safe_load(manifest.read_text())
    data.pop("business_hours", None)
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    for path in (target / "ticket_types").glob("*.yaml"):
        ticket_type = yaml.safe_load(path.read_text())
        ticket_type["sla"] = {
            "first_response": "PT4S",
            "next_response": "PT30S",
            "resolution": "PT60S",
            "business_hours": False,
        }
        workflow = ticket_type.get("workflow") or {}
        workflow |= {"remind_after": "PT40S", "auto_resolve_after": "PT90S"}
        ticket_type["workflow"] = workflow
        path.write_text(yaml.safe_dump(ticket_type, sort_keys=False))
    return target


def workspace_with(**settings: object) -> Path:
    """The demo without its bot, with ``workspace.yaml`` settings changed (e.g. ``agent_visibility="all"``)."""
    import yaml

    target = agents_only_workspace()
    manifest = target / "workspace.yaml"
    data = yaml.safe_load(manifest.read_text())
    data.update(settings)
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    return target
