"""Entry point of the CDK app: `make synth` / `make deploy` (cdk.json runs this file).

Two stacks: stateful (data, identities, secrets) and stateless (functions, API, workers, pages,
monitoring). cdk-nag's AwsSolutions and Serverless packs check every synth; any finding not
acknowledged with a reason fails it.
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


if __name__ == "__main__":
    build_app(outdir=os.environ.get("CDK_OUTDIR")).synth()
