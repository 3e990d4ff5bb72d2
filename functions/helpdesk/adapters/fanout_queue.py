"""The queue that carries tracker fan-out jobs, one page of linked tickets per message.

The SQS client is created on first use; tests inject an in-memory queue instead.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any, Protocol

import boto3

from helpdesk.domain.models import FanOutJob


class FanOutQueue(Protocol):
    def send(self, job: FanOutJob) -> None: ...


class SqsFanOutQueue:
    def __init__(self, queue_url: str | None = None, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("sqs")

    def send(self, job: FanOutJob) -> None:
        queue_url = self._queue_url or os.environ["FANOUT_QUEUE_URL"]
        self.client.send_message(QueueUrl=queue_url, MessageBody=job.model_dump_json())
