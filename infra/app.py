"""Entry point of the CDK app: `make synth` / `make deploy` (cdk.json runs this file).

Two stacks per stage:

- ``Helpdesk-<stage>-Data`` (``infra.stateful``): what holds data or identities (the table, the
  attachments bucket, the messenger secret, the agents' user pool). It changes rarely, is retained
  and deletion-protected in prod, and a mistake in the service can't replace it.
- ``Helpdesk-<stage>-Service`` (``infra.service``): everything that can be rebuilt at will (the
  layer and functions, the API and its WAF, the queue workers, the hosted pages, monitoring). It
  imports what it needs from the data stack through CloudFormation exports.

The asynchronous side (``infra.messaging``, ``infra.workflows``, ``infra.notifications``) is built
from the declarations in ``helpdesk.surfaces``: the table's stream feeds the event publisher, which
puts domain events on an EventBridge bus whose rules feed workers' queues and topics; Step Functions
workflows run each ticket's clocks; every DLQ is registered with ``Monitoring.watch_dead_letter_queue``.

cdk-nag's AwsSolutions and Serverless packs check every synth; any finding not acknowledged with a
reason (``infra.nag``) fails it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "functions")]

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks, ServerlessChecks  # noqa: E402

from infra.config import DeploymentConfig  # noqa: E402
from infra.service import ServiceStack  # noqa: E402
from infra.stateful import StatefulStack  # noqa: E402


def add_compliance_checks(app: cdk.App) -> None:
    """cdk-nag v3 as CDK validation plugins: any finding not acknowledged (``infra.nag``) fails synth."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))


def build_app(outdir: str | None = None, context: dict[str, object] | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir, context=context)
    config = DeploymentConfig.from_context(app)
    # Environment-agnostic unless the CLI knows the account (it does when credentials are at hand):
    # `make synth` works offline, with no credentials.
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    env = cdk.Environment(account=account, region=region) if account and region else None
    prefix = f"Helpdesk-{config.stage}"
    data = StatefulStack(app, f"{prefix}-Data", config=config, env=env, description="Helpdesk: data and identities")
    ServiceStack(app, f"{prefix}-Service", config=config, data=data, env=env, description="Helpdesk: service")
    cdk.Tags.of(app).add("app", "helpdesk")
    cdk.Tags.of(app).add("stage", config.stage)
    add_compliance_checks(app)
    return app


def cdk_json_context() -> dict[str, object] | None:
    """Run without the CDK CLI (``python infra/app.py``), the app reads ``cdk.json``'s context itself."""
    if "CDK_CONTEXT_JSON" in os.environ:
        return None  # the CLI passes it
    import json

    context: dict[str, object] = json.loads((Path(__file__).resolve().parents[1] / "cdk.json").read_text())["context"]
    return context


if __name__ == "__main__":
    build_app(outdir=os.environ.get("CDK_OUTDIR"), context=cdk_json_context()).synth()
