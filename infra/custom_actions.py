"""What the bot's custom actions need in AWS: their settings, their secrets, and time.

The workspace's ``actions/*.yaml`` name ``${VARIABLES}`` (e.g. ``ORDERS_API_URL``) and secrets
(Secrets Manager names or SSM parameters). The variables come from the ``action_environment``
context (a JSON object, e.g. ``-c 'action_environment={"ORDERS_API_URL":"https://orders.example.com"}'``);
the messenger function, which runs the bot, may read exactly the secrets the actions name, and the inbox
function those of the actions marked ``profile: true`` (run on demand from a customer's profile).
"""

from __future__ import annotations

import re

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from helpdesk.adapters.action_files import load_actions
from helpdesk.adapters.custom_actions import CustomActionClient
from helpdesk.domain.actions import CustomAction, resolve_environment

from infra.config import DeploymentConfig
from infra.nag import nag

VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-[^}]*)?\}")
API_GATEWAY_LIMIT = Duration.seconds(29)


def needed_variables(actions: tuple[CustomAction, ...]) -> set[str]:
    """The environment variables the actions' URLs and secret names use without a default."""
    names: set[str] = set()
    for action in actions:
        texts = [action.url] + ([action.auth.secret.name] if action.auth is not None else [])
        for text in texts:
            names |= {m.group(1) for m in VARIABLE.finditer(text) if ":-" not in m.group(0)}
    return names


def wire_custom_actions(config: DeploymentConfig, function: lambda_.Function, *, profile_only: bool = False) -> None:
    """Give the function running the bot its actions' settings and read access to their secrets; with
    ``profile_only``, the inbox function the actions marked ``profile: true`` (run from a customer's profile)."""
    environment = config.action_environment
    actions = tuple(a for a in load_actions(config.workspace_dir / "actions") if a.profile or not profile_only)
    if not actions:
        return
    missing = sorted(needed_variables(actions) - set(environment))
    if missing:
        raise ValueError(
            f"the workspace's custom actions need {', '.join(missing)}: pass them with "
            f'-c \'action_environment={{"{missing[0]}": "..."}}\''
        )
    for name, value in environment.items():
        function.add_environment(name, value)
    worst = max(CustomActionClient.worst_case_seconds(a) for a in actions)
    if worst + 5 > API_GATEWAY_LIMIT.to_seconds():
        raise ValueError(f"a custom action may take {worst:.0f} s: keep timeout x (retries+1) well under 29 s")
    secrets, parameters = [], []
    for action in actions:
        if action.auth is None:
            continue
        name = resolve_environment(action.auth.secret.name, environment)
        if action.auth.secret.source == "secretsmanager":
            arn = (
                name
                if name.startswith("arn:")
                else (f"arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:secret:{name}-??????")
            )
            secrets.append((name, arn))
        else:
            parameter = name.lstrip("/")
            parameters.append(f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:parameter/{parameter}")
    if secrets:
        arns = sorted({arn for _, arn in secrets})
        function.add_to_role_policy(iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=arns))
        for name in sorted({name for name, arn in secrets if not name.startswith("arn:")}):
            rendered = f"arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:{name}-??????"
            nag(function.role or function).acknowledge(
                id=f"AwsSolutions-IAM5[Resource::{rendered}]",
                reason="Secrets Manager appends six random characters to a secret's ARN; the grant names the one "
                "secret this custom action uses, with only that suffix open.",
            )
    if parameters:
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["ssm:GetParameter"], resources=sorted(set(parameters)))
        )
