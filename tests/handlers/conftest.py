"""Handlers called with the sample events, over moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.events import Reply, invoke

LAKE_BUCKET = "helpdesk-test-lake"


def _fresh_clients() -> None:
    from helpdesk import wiring

    wiring.reset()


@pytest.fixture
def lake(aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The lake bucket in moto, queried with DuckDB over a mirror of it (as the local runtime does)."""
    import boto3

    boto3.client("s3").create_bucket(Bucket=LAKE_BUCKET)
    monkeypatch.setenv("LAKE_ENGINE", "duckdb")
    monkeypatch.setenv("LAKE_BUCKET", LAKE_BUCKET)
    monkeypatch.setenv("LAKE_MIRROR_DIR", str(tmp_path_factory.mktemp("lake-mirror")))
    return LAKE_BUCKET


@pytest.fixture
def messenger(table: str, messenger_secret: str, attachments_bucket: str) -> Callable[[dict[str, Any]], Reply]:
    from helpdesk.handlers import messenger_api

    _fresh_clients()
    return lambda event: invoke(messenger_api.lambda_handler, event)


@pytest.fixture
def inbox(table: str, attachments_bucket: str, lake: str) -> Callable[[dict[str, Any]], Reply]:
    from helpdesk.handlers import inbox_api

    _fresh_clients()
    return lambda event: invoke(inbox_api.lambda_handler, event)


@pytest.fixture
def email_channel(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the CDK app gives the functions for the email channel: the support address, the email key
    (in Secrets Manager), the inbound bucket, the messenger page links point at, a verified sender."""
    import boto3
    from aws_lambda_powertools.utilities import parameters
    from helpdesk import wiring

    from tests.support.mail import EMAIL_KEYS, INBOUND_BUCKET, MESSENGER_URL, SUPPORT

    arn = boto3.client("secretsmanager").create_secret(Name="helpdesk-test/email", SecretString=EMAIL_KEYS.current)[
        "ARN"
    ]
    boto3.client("s3").create_bucket(Bucket=INBOUND_BUCKET)
    boto3.client("ses").verify_domain_identity(Domain=SUPPORT.rpartition("@")[2])
    for name, value in {
        "SUPPORT_ADDRESS": SUPPORT,
        "EMAIL_SECRET_ARN": arn,
        "INBOUND_EMAIL_BUCKET": INBOUND_BUCKET,
        "MESSENGER_URL": MESSENGER_URL,
        "NOTIFY_FROM_EMAIL": SUPPORT,
        "SES_REWRITES_MESSAGE_ID": "false",
    }.items():
        monkeypatch.setenv(name, value)
    parameters.clear_caches()
    wiring.reset()


@pytest.fixture
def privacy_tasks(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The privacy worker's queue, an erasure state machine (that runs no step: tests drive the steps)
    and the event bus, as the stack wires them; the queue's URL."""
    import boto3

    queue = boto3.client("sqs").create_queue(QueueName="privacy-tasks")["QueueUrl"]
    machine = boto3.client("stepfunctions").create_state_machine(
        name="helpdesk-test-erasure",
        definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
        roleArn="arn:aws:iam::123456789012:role/test",
    )["stateMachineArn"]
    boto3.client("events").create_event_bus(Name="helpdesk-test-bus")
    monkeypatch.setenv("PRIVACY_TASKS_QUEUE_URL", queue)
    monkeypatch.setenv("WORKFLOW_ARN_ERASURE", machine)
    monkeypatch.setenv("EVENT_BUS_NAME", "helpdesk-test-bus")
    _fresh_clients()
    return str(queue)
