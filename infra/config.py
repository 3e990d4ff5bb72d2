"""What a user chooses at deploy time, read from CDK context (``-c key=value`` or cdk.json)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from constructs import Construct

from infra.bundling import REPO


@dataclass(frozen=True)
class DeploymentConfig:
    stage: str
    """``prod`` keeps data on delete and turns on deletion protection."""
    messenger_origin: str
    """The site that embeds the messenger (CORS); ``*`` is allowed outside prod."""
    ses_sender: str
    """The verified SES identity status-update emails come from (used by notifications)."""
    workspace_dir: Path

    @property
    def is_production(self) -> bool:
        return self.stage == "prod"

    @classmethod
    def from_context(cls, scope: Construct) -> DeploymentConfig:
        node = scope.node
        stage = str(node.try_get_context("stage") or "dev")
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,15}", stage):
            raise ValueError(f"context 'stage' must be lowercase letters, digits and dashes, not {stage!r}")
        origin = str(node.try_get_context("messenger_origin") or "*")
        if stage == "prod" and origin == "*":
            raise ValueError("context 'messenger_origin' must name your site in prod, e.g. https://shop.example.com")
        workspace = REPO / str(node.try_get_context("workspace") or "workspace/demo")
        if not (workspace / "workspace.yaml").is_file():
            raise ValueError(f"context 'workspace': {workspace} has no workspace.yaml")
        return cls(
            stage=stage,
            messenger_origin=origin,
            ses_sender=str(node.try_get_context("ses_sender") or ""),
            workspace_dir=workspace,
        )
