"""Pollers that play the part of Lambda's SQS event-source mappings.

Each takes a batch from its queue, calls the worker's handler with the same event shape Lambda
sends, and deletes the messages that succeeded (honouring ``batchItemFailures``); the rest
become visible again and, after the queue's max receives, move to its DLQ.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from localrt.context import FakeLambdaContext

log = logging.getLogger("localrt.pollers")


def load_handler(dotted: str) -> Callable[[dict[str, Any], Any], Any]:
    """The handler, with its code loaded now (as Lambda's init would), not on its first invocation."""
    module_name, _, function = dotted.rpartition(".")
    handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module_name), function)
    prepare = getattr(handler, "prepare", None)
    if callable(prepare):
        prepare()
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
        arn = persist(
            self.stopping,
            lambda: sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ],
        )
        handler = load_handler(self.handler_path)
        while not self.stopping.is_set():
            try:
                received = sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=self.batch_size,
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                ).get("Messages", [])
            except ClientError:
                # Lambda's event-source mapping keeps polling through SQS's errors; so does this.
                log.warning("receiving from %s failed; polling again", self.name, exc_info=True)
                time.sleep(0.5)
                continue
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
                try:
                    sqs.delete_message_batch(
                        QueueUrl=self.queue_url,
                        Entries=[{"Id": str(uuid.uuid4()), "ReceiptHandle": m["ReceiptHandle"]} for m in done],
                    )
                except ClientError:
                    # As on AWS: undeleted messages are delivered again, and the worker must cope.
                    log.warning("deleting handled messages from %s failed; they will be redelivered", self.name)


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
            try:
                sqs.send_message(QueueUrl=self.queue_url, MessageBody='{"tick": true}')
            except ClientError:
                log.warning("the tick for %s was lost; the next one comes in %ss", self.name, self.every_seconds)


class StreamPoller(threading.Thread):
    """Plays the part of the DynamoDB stream event-source mapping: batches of records, in order.

    A record the handler reports as failed (``batchItemFailures``) is read again, with everything
    after it, as Lambda does for a stream with ``ReportBatchItemFailures``.
    """

    def __init__(
        self,
        name: str,
        table_name: str,
        handler: str,
        batch_size: int,
        stop: threading.Event,
        *,
        idle_seconds: float = 0.2,
    ) -> None:
        super().__init__(name=f"stream-{name}", daemon=True)
        self.table_name = table_name
        self.handler_path = handler
        self.batch_size = batch_size
        self.stopping = stop
        self.idle_seconds = idle_seconds
        """How long to wait before reading again when the stream had nothing new (Lambda polls ~4 times a second)."""

    def run(self) -> None:
        dynamodb, streams = boto3.client("dynamodb"), boto3.client("dynamodbstreams")
        stream_arn = persist(
            self.stopping, lambda: dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        )
        handler = load_handler(self.handler_path)
        shards = persist(
            self.stopping, lambda: streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        )

        def first_iterator(shard_id: str) -> str:
            answer = streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )
            return str(answer["ShardIterator"])

        iterators: dict[str, str] = {}
        for shard in shards:
            shard_id = str(shard["ShardId"])
            iterators[shard_id] = persist(self.stopping, functools.partial(first_iterator, shard_id))
        busy = False
        while not self.stopping.wait(0 if busy else self.idle_seconds):
            busy = False
            for shard_id, iterator in list(iterators.items()):
                try:
                    page = streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
                except ClientError:
                    log.warning("reading the stream failed; reading again", exc_info=True)
                    continue
                records = page.get("Records", [])
                next_iterator = page.get("NextShardIterator") or iterator
                if records:
                    busy = True
                    failed_at = self._deliver(handler, stream_arn, records)
                    if failed_at is not None:
                        try:
                            next_iterator = streams.get_shard_iterator(
                                StreamArn=stream_arn,
                                ShardId=shard_id,
                                ShardIteratorType="AT_SEQUENCE_NUMBER",
                                SequenceNumber=failed_at,
                            )["ShardIterator"]
                        except ClientError:
                            log.warning("re-reading the stream failed; the batch is read again", exc_info=True)
                            continue  # keep the old iterator: the same batch comes again
                iterators[shard_id] = next_iterator

    def _deliver(
        self, handler: Callable[[dict[str, Any], Any], Any], arn: str, records: list[dict[str, Any]]
    ) -> str | None:
        event = {"Records": [{**r, "eventSourceARN": arn} for r in records]}
        try:
            lambda_event = json.loads(json.dumps(event, default=_epoch))  # as Lambda sends it: JSON numbers
            result = handler(lambda_event, FakeLambdaContext(function_name=self.name))
        except Exception:
            log.exception("stream consumer %s crashed; the batch will be retried", self.handler_path)
            time.sleep(1)
            return str(records[0]["dynamodb"]["SequenceNumber"])
        failures = (result or {}).get("batchItemFailures", [])
        if failures:
            time.sleep(1)
            return str(failures[0]["itemIdentifier"])
        return None


def _epoch(value: Any) -> Any:
    return value.timestamp() if hasattr(value, "timestamp") else str(value)


class TopicForwarder(threading.Thread):
    """Publishes what an EventBridge rule delivered to a relay queue to its SNS topic.

    Stands in for a rule -> SNS target, which moto's EventBridge can't deliver.
    """

    def __init__(self, queue_url: str, topic_arn: str, stop: threading.Event) -> None:
        super().__init__(name=f"relay-{topic_arn.rsplit(':', 1)[-1]}", daemon=True)
        self.queue_url = queue_url
        self.topic_arn = topic_arn
        self.stopping = stop

    def run(self) -> None:
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        while not self.stopping.is_set():
            try:
                received = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                    "Messages", []
                )
                for message in received:
                    sns.publish(TopicArn=self.topic_arn, Message=message["Body"])
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            except ClientError:
                # EventBridge retries a target that fails; here the message stays and comes again.
                log.warning("forwarding to %s failed; it will be retried", self.topic_arn, exc_info=True)
                time.sleep(0.5)


def persist[T](stopping: threading.Event, call: Callable[[], T]) -> T:
    """A poller's set-up call, tried again until AWS answers: a throttled start must not kill the poller."""
    while True:
        try:
            return call()
        except (ClientError, BotoCoreError):
            if stopping.wait(0.5):
                raise
