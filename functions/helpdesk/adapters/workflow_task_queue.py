"""The workflow-tasks queue, for the worker to queue the rest of its own work (the next page of heartbeats).

The SQS client is created on first use; tests inject one.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import boto3


class SqsWorkflowTaskQueue:
    def __init__(self, queue_url: str, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("sqs")

    def send(self, task: dict[str, Any]) -> None:
        self.client.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(task))
