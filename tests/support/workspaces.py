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
