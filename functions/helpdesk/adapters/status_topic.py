"""Publishes status updates to the SNS topic the notifier subscribes to.

Each message is one ``StatusUpdate`` as JSON, with its ``kind`` as a message attribute so
subscriptions can filter. The SNS client is created on first use; tests inject one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

import boto3

from helpdesk.domain.notifications import StatusUpdate


class StatusTopicPublisher:
    def __init__(self, topic_arn: str, *, client: Any = None) -> None:
        if not topic_arn:
            raise ValueError("topic_arn is required: the ARN of the status-update SNS topic")
        self._topic_arn = topic_arn
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("sns")

    def publish(self, updates: Iterable[StatusUpdate]) -> None:
        """Publish each update; an SNS error propagates, so the change is retried (ids are stable)."""
        for update in updates:
            self.client.publish(
                TopicArn=self._topic_arn,
                Message=update.model_dump_json(),
                MessageAttributes={"kind": {"DataType": "String", "StringValue": update.kind.value}},
            )
