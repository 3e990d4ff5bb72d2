"""Pollers that play the part of Lambda's SQS event-source mappings.

Each takes a batch from its queue, calls the worker's handler with the same event shape Lambda
sends, and deletes the messages that succeeded (honouring ``batchItemFailures``); the rest
become visible again and, after the queue's max receives, move to its DLQ.
"""

from __future__ import annotations

import importlib
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import boto3

from localrt.context import FakeLambdaContext

log = logging.getLogger("localrt.pollers")


def load_handler(dotted: str) -> Callable[[dict[str, Any], Any], Any]:
    module_name, _, function = dotted.rpartition(".")
    handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module_name), function)
    return handler


def sqs_event(queue_arn: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


class QueuePoller(threading.Thread):
    def __init__(self, name: str, queue_url: str, handler: str, batch_size: int, stop: threading.Event) -> None:
        super().__init__(name=f"poller-{name}", daemon=True)
        self.queue_url = queue_url
        self.handler_path = handler
        self.batch_size = batch_size
        self.stopping = stop

    def run(self) -> None:
        sqs = boto3.client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        handler = load_handler(self.handler_path)
        while not self.stopping.is_set():
            received = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                continue
            failed: set[str] = set()
            try:
                result = handler(sqs_event(arn, received), FakeLambdaContext(function_name=self.name))
                failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            except Exception:
                log.exception("worker %s crashed; the batch will be retried", self.handler_path)
                continue
            done = [m for m in received if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(uuid.uuid4()), "ReceiptHandle": m["ReceiptHandle"]} for m in done],
                )


class ScheduleTicker(threading.Thread):
    """Plays the part of an EventBridge schedule rule: a tick into the worker's queue now and then.

    Locally the interval is seconds (``LOCAL_TICK_SECONDS``), so scheduled work shows up quickly.
    """

    def __init__(self, name: str, queue_url: str, every_seconds: float, stop: threading.Event) -> None:
        super().__init__(name=f"ticker-{name}", daemon=True)
        self.queue_url = queue_url
        self.every_seconds = every_seconds
        self.stopping = stop

    def run(self) -> None:
        sqs = boto3.client("sqs")
        while not self.stopping.wait(self.every_seconds):
            sqs.send_message(QueueUrl=self.queue_url, MessageBody='{"tick": true}')
