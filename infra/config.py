"""What a user chooses at deploy time, read from CDK context (``-c key=value`` or cdk.json).

| context            | meaning                                                         | default          |
| ------------------ | --------------------------------------------------------------- | ---------------- |
| ``stage``          | environment name; ``prod`` keeps data and protects the table    | ``dev``          |
| ``messenger_origin`` | the site embedding the messenger (CORS); required in prod     | ``*``            |
| ``notify_from_email`` | From address of status-update emails; it or its domain verified in SES | see below |
| ``ses_sender``     | the verified SES identity (address or domain) emails are sent from         | none             |
| ``alarm_email``    | subscribed to the alarm topic (confirm the email AWS sends)     | none             |
| ``workspace``      | the workspace configuration directory deployed with the code    | ``workspace/demo`` |

``notify_from_email`` defaults to ``ses_sender`` when that is an address, else ``support@example.com``.

Secrets are never context: the messenger secret is generated in Secrets Manager by the stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from constructs import Construct

from infra.bundling import REPO

STAGE = re.compile(r"[a-z][a-z0-9-]{0,11}")
"""At most 12 characters: the stage is part of bucket names and the Cognito domain prefix (63 max)."""
ORIGIN = re.compile(r"\*|https://[a-z0-9.-]+(:\d+)?|http://localhost(:\d+)?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SES_IDENTITY = re.compile(rf"{EMAIL.pattern}|[a-z0-9.-]+\.[a-z]{{2,}}")


def sender_domain(address: str) -> str:
    """The domain of an email address: SES sends from an address if it or its domain is verified."""
    return address.rsplit("@", 1)[1]


@dataclass(frozen=True)
class DeploymentConfig:
    stage: str
    """``prod`` keeps data on delete and turns on deletion protection."""
    messenger_origin: str
    """The site that embeds the messenger (CORS); ``*`` is allowed outside prod."""
    ses_sender: str
    """The verified SES identity (address or domain) status-update emails come from, if given."""
    notify_from_email: str
    """The From address of status-update emails; SES must have it, or its domain, verified."""
    alarm_email: str
    """Subscribed to the alarm topic when given."""
    workspace_dir: Path
    action_environment: dict[str, str]
    """Settings the workspace's custom actions use (``${ORDERS_API_URL}``): the ``action_environment`` JSON."""

    @property
    def is_production(self) -> bool:
        return self.stage == "prod"

    @classmethod
    def from_context(cls, scope: Construct) -> DeploymentConfig:
        def context(key: str, default: str = "") -> str:
            return str(scope.node.try_get_context(key) or default).strip()

        stage = context("stage", "dev")
        if not STAGE.fullmatch(stage):
            raise ValueError(f"context 'stage': 1-12 lowercase letters, digits and dashes, not {stage!r}")
        origin = context("messenger_origin", "*").rstrip("/").lower()
        if not ORIGIN.fullmatch(origin):
            raise ValueError(f"context 'messenger_origin': an origin like https://shop.example.com, not {origin!r}")
        if stage == "prod" and origin == "*":
            raise ValueError("context 'messenger_origin' must name your site in prod, e.g. https://shop.example.com")
        ses_sender = context("ses_sender")
        if ses_sender and not SES_IDENTITY.fullmatch(ses_sender):
            raise ValueError(f"context 'ses_sender': an email address or domain verified in SES, not {ses_sender!r}")
        default_from = ses_sender if EMAIL.fullmatch(ses_sender) else "support@example.com"
        notify_from_email = context("notify_from_email", default_from).lower()
        if not EMAIL.fullmatch(notify_from_email):
            raise ValueError(f"context 'notify_from_email': an email address, not {notify_from_email!r}")
        if ses_sender and ses_sender.lower() not in (notify_from_email, sender_domain(notify_from_email)):
            raise ValueError(
                f"context 'notify_from_email' ({notify_from_email}) is neither the SES identity 'ses_sender' "
                f"({ses_sender}) nor an address at it"
            )
        alarm_email = context("alarm_email")
        if alarm_email and not EMAIL.fullmatch(alarm_email):
            raise ValueError(f"context 'alarm_email': an email address, not {alarm_email!r}")
        workspace = REPO / context("workspace", "workspace/demo")
        if not (workspace / "workspace.yaml").is_file():
            raise ValueError(f"context 'workspace': {workspace} has no workspace.yaml")
        return cls(
            stage=stage,
            messenger_origin=origin,
            ses_sender=ses_sender,
            notify_from_email=notify_from_email,
            alarm_email=alarm_email,
            workspace_dir=workspace,
            action_environment=action_environment(context("action_environment")),
        )


def action_environment(raw: str) -> dict[str, str]:
    """The ``action_environment`` context value: a JSON object of variable names to strings."""
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"context 'action_environment' must be a JSON object: {error}") from error
    if not isinstance(parsed, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()):
        raise ValueError("context 'action_environment' must map variable names to strings")
    return dict(parsed)
