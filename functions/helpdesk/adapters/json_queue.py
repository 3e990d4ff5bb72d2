"""A queue a worker sends its own follow-up work to, as JSON: the workflow tasks' next page of
heartbeats, the daily rollup's next tick while Athena is still computing.

The SQS client is created on first use; tests inject one.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import boto3


class SqsJsonQueue:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("sqs")

    def send(self, work: dict[str, Any], *, delay_seconds: int = 0) -> None:
        self.client.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(work), DelaySeconds=delay_seconds)
