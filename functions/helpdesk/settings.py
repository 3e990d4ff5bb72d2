"""What the functions are configured with: one model, read from the environment once, on first use.

Every Lambda function gets its configuration as environment variables (set by the CDK app, or by
the local runtime); this module is the only place that reads them. Nothing reads them at import:
``settings()`` builds the model the first time a function needs it, and ``reset()`` forgets it
(tests that change the environment call it).

A setting a function needs but wasn't given fails when it is first needed, naming the variable:
``settings().require("event_bus_name")``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

WORKFLOW_ARN_PREFIX = "WORKFLOW_ARN_"


class SettingMissing(RuntimeError):
    """A function needs a setting its environment doesn't carry: a deployment mistake, named exactly."""


class Settings(BaseModel):
    """The functions' configuration. Field aliases are the environment variables' names."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    table_name: str = Field("helpdesk", alias="TABLE_NAME", description="The single DynamoDB table.")
    region: str = Field("us-east-1", alias="AWS_REGION")
    endpoint_url: str | None = Field(
        None, alias="AWS_ENDPOINT_URL", description="Set only for an embedded AWS (the local runtime, tests)."
    )
    workspace_dir: Path | None = Field(None, alias="WORKSPACE_DIR", description="The workspace configuration.")
    attachments_bucket: str | None = Field(None, alias="ATTACHMENTS_BUCKET")
    search_index_bucket: str | None = Field(
        None, alias="SEARCH_INDEX_BUCKET", description="The full-text index of messages (none: search by keys only)."
    )
    search_index_refresh_seconds: float = Field(
        5.0, alias="SEARCH_INDEX_REFRESH_SECONDS", ge=0, description="How often a search checks for a newer index."
    )
    messenger_secret_arn: str | None = Field(None, alias="MESSENGER_SECRET_ARN")
    allowed_origins: str = Field("*", alias="ALLOWED_ORIGINS", description="Comma-separated browser origins.")
    fanout_queue_url: str | None = Field(None, alias="FANOUT_QUEUE_URL")
    workflow_tasks_queue_url: str | None = Field(
        None, alias="WORKFLOW_TASKS_QUEUE_URL", description="Where the workflow-tasks worker queues its next task."
    )
    event_bus_name: str | None = Field(None, alias="EVENT_BUS_NAME")
    status_topic_arn: str | None = Field(None, alias="STATUS_TOPIC_ARN")
    messenger_url: str | None = Field(None, alias="MESSENGER_URL", description="The page emails and SMS link to.")
    notify_from_email: str | None = Field(None, alias="NOTIFY_FROM_EMAIL")
    notify_configuration_set: str | None = Field(None, alias="NOTIFY_CONFIGURATION_SET")
    status_template_name: str | None = Field(None, alias="STATUS_TEMPLATE_NAME")
    delivery_lease_seconds: int | None = Field(None, alias="DELIVERY_LEASE_SECONDS", gt=0)
    support_address: str | None = Field(
        None, alias="SUPPORT_ADDRESS", description="Where customers write (support@<domain>): the email channel."
    )
    email_secret_arn: str | None = Field(
        None, alias="EMAIL_SECRET_ARN", description="The key of reply addresses and of the links in emails."
    )
    inbound_email_bucket: str | None = Field(None, alias="INBOUND_EMAIL_BUCKET", description="What SES received.")
    ses_rewrites_message_id: bool = Field(
        True, alias="SES_REWRITES_MESSAGE_ID", description="False only for an embedded SES (the local runtime)."
    )
    workflow_arns: dict[str, str] = Field(
        default_factory=dict, description=f"State machine ARN per workflow name, from ``{WORKFLOW_ARN_PREFIX}<NAME>``."
    )
    lake_engine: Literal["athena", "duckdb"] = Field(
        "athena",
        alias="LAKE_ENGINE",
        description="What runs the reports' SQL: Athena in AWS; DuckDB over a mirror of the lake bucket locally.",
    )
    lake_bucket: str | None = Field(None, alias="LAKE_BUCKET", description="The event lake's bucket (DuckDB syncs it).")
    lake_mirror_dir: Path | None = Field(
        None, alias="LAKE_MIRROR_DIR", description="Where DuckDB keeps its copy of the lake (default: a temp dir)."
    )
    lake_database: str | None = Field(None, alias="LAKE_DATABASE", description="The lake's Glue database (Athena).")
    lake_workgroup: str | None = Field(None, alias="LAKE_WORKGROUP", description="The reports' Athena workgroup.")
    reports_fresh_seconds: float = Field(
        300,
        alias="REPORTS_FRESH_SECONDS",
        gt=0,
        description="How long an answer for a range that includes today is kept (about Firehose's buffer).",
    )
    report_rollup_queue_url: str | None = Field(
        None, alias="REPORT_ROLLUP_QUEUE_URL", description="Where the daily rollup queues its follow-up ticks."
    )
    privacy_tasks_queue_url: str | None = Field(
        None, alias="PRIVACY_TASKS_QUEUE_URL", description="The privacy worker's queue (exports to build)."
    )
    live_endpoint: str | None = Field(
        None,
        alias="LIVE_ENDPOINT",
        description="The live channel's management API (the WebSocket stage's callback URL) that frames are posted to.",
    )
    cognito_user_pool_id: str | None = Field(
        None,
        alias="COGNITO_USER_POOL_ID",
        description="The agents' user pool (the live channel verifies their tokens).",
    )
    cognito_client_ids: str = Field(
        "", alias="COGNITO_CLIENT_IDS", description="Comma-separated app clients agents' ID tokens may be issued for."
    )
    trace_disabled: bool = Field(False, alias="POWERTOOLS_TRACE_DISABLED")
    lambda_function_name: str | None = Field(None, alias="AWS_LAMBDA_FUNCTION_NAME")
    sam_local: bool = Field(False, alias="AWS_SAM_LOCAL")
    action_variables: dict[str, str] = Field(
        default_factory=dict,
        repr=False,
        description="The environment as the custom actions' ``${VARS}`` see it (deploy-time values, no secrets).",
    )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {name: value for name, value in environ.items() if value != ""}
        if "AWS_REGION" not in values and environ.get("AWS_DEFAULT_REGION"):
            values["AWS_REGION"] = environ["AWS_DEFAULT_REGION"]
        values["workflow_arns"] = {
            name.removeprefix(WORKFLOW_ARN_PREFIX).lower(): value
            for name, value in environ.items()
            if name.startswith(WORKFLOW_ARN_PREFIX) and value
        }
        values["action_variables"] = dict(environ)
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise SettingMissing(f"the function's environment is invalid: {problems}") from None

    def require(self, name: str) -> Any:
        """The setting ``name``, or ``SettingMissing`` naming its environment variable."""
        value = getattr(self, name)
        if value is None or value == "":
            variable = type(self).model_fields[name].alias or name.upper()
            raise SettingMissing(f"{variable} is not set: this function needs it ({name})")
        return value

    def workflow_arn(self, workflow: str) -> str:
        arn = self.workflow_arns.get(workflow)
        if not arn:
            raise SettingMissing(
                f"{WORKFLOW_ARN_PREFIX}{workflow.upper()} is not set: workflow '{workflow}' has no ARN"
            )
        return arn

    @property
    def tracing(self) -> bool:
        """As powertools decides: on inside Lambda unless disabled by setting or run by SAM locally."""
        return bool(self.lambda_function_name) and not self.trace_disabled and not self.sam_local

    @property
    def email_channel(self) -> bool:
        """Whether this function runs with the email channel (a support address and the email key)."""
        return bool(self.support_address and self.email_secret_arn)

    @property
    def sender_address(self) -> str:
        """The From of our emails: the SES-verified sender, else the support address."""
        return str(self.notify_from_email or self.require("support_address")).strip().lower()

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()] or ["*"]


@cache
def settings() -> Settings:
    """The functions' settings, read from the environment the first time they're needed."""
    return Settings.from_environ(os.environ)


def reset() -> None:
    """Forget the settings read so far (tests change the environment between cases)."""
    settings.cache_clear()
