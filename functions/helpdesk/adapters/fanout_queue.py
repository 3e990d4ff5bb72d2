"""The queue that carries tracker fan-out jobs, one page of linked tickets per message.

The SQS client is created on first use; tests inject an in-memory queue instead.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3

from helpdesk.domain.models import FanOutJob
from helpdesk.settings import SettingMissing


class SqsFanOutQueue:
    def __init__(self, queue_url: str | None, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("sqs")

    def send(self, job: FanOutJob) -> None:
        if not self._queue_url:
            raise SettingMissing("FANOUT_QUEUE_URL is not set: tracker changes can't reach their linked tickets")
        self.client.send_message(QueueUrl=self._queue_url, MessageBody=job.model_dump_json())
