"""Shared fixtures: an in-process moto AWS with the table built from the models, and a Scan guard.

Every test runs with a guard that fails on any DynamoDB Scan: no request path may use one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest

# In-process moto's transactions as the local runtime runs them (a copy of what they touch, not of the table).
from localrt import moto_transactions

from tests.support.workspaces import agents_only_workspace

moto_transactions.install()

REPO = Path(__file__).resolve().parents[1]
DEMO_WORKSPACE = REPO / "workspace" / "demo"
TEST_TABLE = "helpdesk-test"

# Before any helpdesk import: the models read the table name when they are defined.
os.environ.setdefault("TABLE_NAME", TEST_TABLE)
# The demo workspace without its bot: tests of the bot switch to the demo as shipped (`bot_workspace`).
os.environ.setdefault("WORKSPACE_DIR", str(agents_only_workspace()))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "helpdesk-tests")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "HelpdeskTests")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


class DynamoCalls:
    """The DynamoDB operations made since the last ``reset``, in order."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def reset(self) -> None:
        self.operations.clear()

    def count(self, operation: str | None = None) -> int:
        return len(self.operations) if operation is None else self.operations.count(operation)


_RECORDER = DynamoCalls()
_original_make_api_call = botocore.client.BaseClient._make_api_call


def _guarded_make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    if self.meta.service_model.service_name == "dynamodb":
        if operation_name == "Scan":
            raise AssertionError(f"DynamoDB Scan on a request path: {api_params.get('TableName')}")
        _RECORDER.operations.append(operation_name)
    return _original_make_api_call(self, operation_name, api_params)


@pytest.fixture(autouse=True)
def no_scan(monkeypatch: pytest.MonkeyPatch) -> DynamoCalls:
    """Fails the test on any DynamoDB Scan, and records every DynamoDB call."""
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _guarded_make_api_call)
    _RECORDER.reset()
    return _RECORDER


@pytest.fixture(autouse=True)
def fresh_wiring() -> Iterator[None]:
    """Each test builds its adapters anew from the environment it sets up (and leaves none behind)."""
    from helpdesk import wiring

    wiring.reset()
    yield
    wiring.reset()


@pytest.fixture
def dynamo_calls(no_scan: DynamoCalls) -> DynamoCalls:
    return no_scan


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In-process moto for everything boto3/botocore does during the test."""
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> str:
    """The table, created from the same definition the CDK app and the local runtime use."""
    from helpdesk.adapters.table import TableItem
    from helpdesk.adapters.table_definition import table_definition

    # PynamoDB caches a connection per model class; drop it so it binds to this test's moto.
    TableItem._connection = None
    boto3.client("dynamodb").create_table(**table_definition().create_table_kwargs(TEST_TABLE))
    return TEST_TABLE


@pytest.fixture
def workspace() -> Any:
    from helpdesk.adapters.workspace_files import load_workspace

    return load_workspace(DEMO_WORKSPACE)


MESSENGER_SECRET = "test-messenger-secret-of-decent-length"
ATTACHMENTS_BUCKET = "helpdesk-test-attachments"


@pytest.fixture
def messenger_secret(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The messenger secret in Secrets Manager, where the functions read it."""
    from aws_lambda_powertools.utilities import parameters

    arn = boto3.client("secretsmanager").create_secret(Name="helpdesk-test/messenger", SecretString=MESSENGER_SECRET)[
        "ARN"
    ]
    monkeypatch.setenv("MESSENGER_SECRET_ARN", arn)
    parameters.clear_caches()
    return MESSENGER_SECRET


@pytest.fixture
def attachments_bucket(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    boto3.client("s3").create_bucket(Bucket=ATTACHMENTS_BUCKET)
    monkeypatch.setenv("ATTACHMENTS_BUCKET", ATTACHMENTS_BUCKET)
    return ATTACHMENTS_BUCKET


@pytest.fixture
def serializable_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each write atomically; in-process moto doesn't lock, so concurrency tests add the lock."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("transact_write_items", "update_item", "put_item"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, atomic)
