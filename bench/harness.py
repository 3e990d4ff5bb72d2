"""What every benchmark shares: the result record, medians, and the in-memory AWS the handlers run on."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import botocore.client

REPO = Path(__file__).resolve().parents[1]
TABLE = "helpdesk-bench"
MESSENGER_SECRET = "bench-messenger-secret-of-decent-length"
ATTACHMENTS_BUCKET = "helpdesk-bench-attachments"
SOURCE_PATHS = (REPO / "functions", REPO / "local", REPO)
"""This checkout's code first, ahead of any installed copy of the package."""


@dataclass
class Result:
    """One figure of the table: what was measured, against which goal, and whether it was met."""

    benchmark: str
    figure: str
    value: float | None
    unit: str
    goal: str
    met: bool | None
    """None: a figure reported without a goal (throughput, latency), or not measured (``value`` None)."""
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median(values: list[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def use_this_checkout() -> None:
    """Import ``helpdesk``, ``localrt`` and ``tests`` from this repository, not an installed copy."""
    for path in reversed(SOURCE_PATHS):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def subprocess_environment(**extra: str) -> dict[str, str]:
    """The environment for a child Python that must import this checkout's code."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in SOURCE_PATHS), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def prepare_environment() -> Path:
    """Set what the handlers read at import, before any ``helpdesk`` import: table, workspace, region.

    The workspace is the demo *without* its bot (as the handler tests use it): with the bot, a
    message runs a bot turn, which is a different request.
    """
    use_this_checkout()
    from tests.support.workspaces import agents_only_workspace

    workspace = agents_only_workspace()
    os.environ.update(
        {
            "TABLE_NAME": TABLE,
            "WORKSPACE_DIR": str(workspace),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "POWERTOOLS_SERVICE_NAME": "helpdesk-bench",
            "POWERTOOLS_METRICS_NAMESPACE": "HelpdeskBench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    for leaked in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(leaked, None)
    return workspace


@contextmanager
def no_table_snapshots() -> Iterator[None]:
    """Leave out moto's snapshot of the whole table on every TransactWriteItems (taken to roll back a
    failed transaction): a cost of moto's alone that grows with the table and swamps what is measured.
    Only for runs whose transactions all succeed (the callers check): nothing is rolled back then."""
    import copy as real_copy

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    class _NoTableSnapshots:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else real_copy.deepcopy(value, memo)

    models.copy = _NoTableSnapshots()  # type: ignore[assignment]
    try:
        yield
    finally:
        models.copy = real_copy


# --- DynamoDB calls, counted --------------------------------------------------------------------


@dataclass
class DynamoCall:
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None = None


class DynamoRecorder:
    """Records every DynamoDB call made through botocore (as ``tests/conftest.py`` does), with its answer."""

    def __init__(self) -> None:
        self.calls: list[DynamoCall] = []
        self._original: Callable[..., Any] | None = None

    def reset(self) -> None:
        self.calls.clear()

    @property
    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]

    def items_read(self) -> int:
        """Items the reads returned (Query and GetItem), the figure DynamoDB bills reads on."""
        total = 0
        for call in self.calls:
            response = call.response or {}
            if call.operation == "Query":
                total += int(response.get("ScannedCount", response.get("Count", 0)))
            elif call.operation == "GetItem" and response.get("Item"):
                total += 1
        return total

    def __enter__(self) -> DynamoRecorder:
        original = botocore.client.BaseClient._make_api_call
        self._original = original
        recorder = self

        def recording(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name != "dynamodb":
                return original(client, operation_name, api_params)
            call = DynamoCall(operation_name, api_params)
            recorder.calls.append(call)
            response = original(client, operation_name, api_params)
            call.response = response
            return response

        botocore.client.BaseClient._make_api_call = recording
        return self

    def __exit__(self, *exc: object) -> None:
        if self._original is not None:
            botocore.client.BaseClient._make_api_call = self._original


# --- the handlers over in-process moto ------------------------------------------------------------


EMAIL_KEY = "bench-email-key-local-only-0123456789abcdef"
"""The key links in emails are signed with, in the benchmark's moto only."""


@contextmanager
def in_memory_aws() -> Iterator[None]:
    """moto in this process, with the table (from the models), the messenger secret and the attachments bucket."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        from aws_lambda_powertools.utilities import parameters
        from helpdesk import wiring
        from helpdesk.adapters.table import TableItem
        from helpdesk.adapters.table_definition import table_definition

        TableItem._connection = None  # bind PynamoDB to this moto
        # The name the models were defined with (TABLE once prepare_environment has run first).
        boto3.client("dynamodb").create_table(**table_definition().create_table_kwargs(TableItem.Meta.table_name))
        arn = boto3.client("secretsmanager").create_secret(
            Name="helpdesk-bench/messenger", SecretString=MESSENGER_SECRET
        )["ARN"]
        email_key = boto3.client("secretsmanager").create_secret(Name="helpdesk-bench/email", SecretString=EMAIL_KEY)
        boto3.client("s3").create_bucket(Bucket=ATTACHMENTS_BUCKET)
        queue = boto3.client("sqs").create_queue(QueueName="helpdesk-bench-fanout")["QueueUrl"]
        # A customer's export and erasure: the privacy worker's queue, an erasure state machine (no steps).
        privacy = boto3.client("sqs").create_queue(QueueName="helpdesk-bench-privacy")["QueueUrl"]
        erasure = boto3.client("stepfunctions").create_state_machine(
            name="helpdesk-bench-erasure",
            definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
            roleArn="arn:aws:iam::123456789012:role/bench",
        )["stateMachineArn"]
        settings = {
            "MESSENGER_SECRET_ARN": arn,
            "EMAIL_SECRET_ARN": email_key["ARN"],
            "ATTACHMENTS_BUCKET": ATTACHMENTS_BUCKET,
            "FANOUT_QUEUE_URL": queue,
            "PRIVACY_TASKS_QUEUE_URL": privacy,
            "WORKFLOW_ARN_ERASURE": erasure,
        }
        before = {name: os.environ.get(name) for name in settings}
        os.environ.update(settings)
        parameters.clear_caches()
        wiring.reset()
        try:
            yield
        finally:
            for name, value in before.items():  # as it was: this may run inside a test session
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            parameters.clear_caches()
            TableItem._connection = None
            wiring.reset()


# --- DynamoDB item sizes and capacity units, by DynamoDB's published rules -------------------------


def attribute_value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB JSON, as DynamoDB sizes it for capacity."""
    (kind, raw), *_ = value.items()
    match kind:
        case "S":
            return len(str(raw).encode())
        case "B":
            return len(raw) if isinstance(raw, bytes | bytearray) else len(str(raw))
        case "N":
            digits = str(raw).lstrip("-").replace(".", "").lstrip("0") or "0"
            return (len(digits) + 1) // 2 + 1
        case "BOOL" | "NULL":
            return 1
        case "SS" | "NS" | "BS":
            return sum(attribute_value_size({kind[0]: v}) for v in raw)
        case "L":
            return 3 + sum(1 + attribute_value_size(v) for v in raw)
        case "M":
            return 3 + sum(len(k.encode()) + 1 + attribute_value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: dict[str, Any]) -> int:
    """Bytes of an item (names plus values) in DynamoDB JSON: the size capacity units are counted on."""
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool = False) -> int:
    """1 WRU per started KB written; a transactional write costs 2."""
    units = max(1, -(-size // 1024))
    return units * (2 if transactional else 1)


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """1 RRU per started 4 KB read strongly consistently, half that eventually consistent, 2 in a transaction."""
    units = float(max(1, -(-size // 4096)))
    if transactional:
        return units * 2
    return units if consistent else units / 2
