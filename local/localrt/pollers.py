"""Pollers that play the part of Lambda's SQS event-source mappings (and of the stream's, a schedule's
and an EventBridge -> SNS target's).

Each takes a batch from its queue, calls the worker's handler with the same event shape Lambda
sends, and deletes the messages that succeeded (honouring ``batchItemFailures``); the rest
become visible again and, after the queue's max receives, move to its DLQ.

Each poller is a ``localrt.workers.Worker``: the supervisor runs it on a thread and restarts it if
it dies. Pollers are given their handler already imported: ``import_handlers`` imports every
handler once, one after the other, before anything runs (imports racing in several threads on a
cold bytecode cache used to kill pollers at start-up).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from localrt.context import FakeLambdaContext
from localrt.workers import Duty

log = logging.getLogger("localrt.pollers")

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(dotted: str) -> Handler:
    """The handler, with its code loaded now (as Lambda's init would), not on its first invocation."""
    module_name, _, function = dotted.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), function)
    prepare = getattr(handler, "prepare", None)
    if callable(prepare):
        prepare()
    return handler


def import_handlers(dotted_paths: Iterable[str]) -> dict[str, Handler]:
    """Every handler, imported in this thread one after the other (as a fresh Lambda container would)."""
    return {dotted: load_handler(dotted) for dotted in dict.fromkeys(dotted_paths)}


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


LONG_POLL_SECONDS = 3
"""How long a queue's poller waits for a message (it returns at once when one comes). Each empty poll
is a request to the embedded AWS: a dozen pollers at one second kept a core busy doing nothing; a
stopped or crashed worker notices after at most this long."""


class QueuePoller:
    """Lambda's SQS event-source mapping for one queue consumer (``helpdesk.surfaces.QUEUE_CONSUMERS``)."""

    def __init__(self, name: str, queue_url: str, handler: Handler, batch_size: int) -> None:
        self.name = name
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size

    def run(self, duty: Duty) -> None:
        sqs = boto3.client("sqs")
        arn = persist(
            duty,
            lambda: sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ],
        )
        handler = self.handler
        duty.ready()
        while duty.on_duty():
            try:
                received = sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=self.batch_size,
                    WaitTimeSeconds=LONG_POLL_SECONDS,
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
                log.exception("worker %s crashed; the batch will be retried", self.name)
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


class ScheduleTicker:
    """Plays the part of an EventBridge schedule rule: a tick into the worker's queue now and then.

    Locally the interval is seconds (``LOCAL_TICK_SECONDS``), so scheduled work shows up quickly.
    """

    def __init__(self, consumer: str, queue_url: str, every_seconds: float) -> None:
        self.name = f"{consumer}-schedule"
        self.queue_url = queue_url
        self.every_seconds = every_seconds

    def run(self, duty: Duty) -> None:
        sqs = boto3.client("sqs")
        duty.ready()
        while duty.rest(self.every_seconds):
            try:
                sqs.send_message(QueueUrl=self.queue_url, MessageBody='{"tick": true}')
            except ClientError:
                log.warning("the tick for %s was lost; the next one comes in %ss", self.name, self.every_seconds)


class StreamPoller:
    """Plays the part of the DynamoDB stream event-source mapping: batches of records, in order.

    A record the handler reports as failed (``batchItemFailures``) is read again, with everything
    after it, as Lambda does for a stream with ``ReportBatchItemFailures``. Like the mapping, it keeps
    its place in each shard: restarted, it goes on from there rather than from the stream's start.

    While a shard is quiet its iterator is renewed from that place every ``RENEW_IDLE_SECONDS``: moto
    rolls a cancelled ``TransactWriteItems`` back by restoring a copy of its tables, stream shard
    included, and an iterator taken before then would read the abandoned shard for ever.
    """

    RENEW_IDLE_SECONDS = 1.0

    def __init__(
        self, name: str, table_name: str, handler: Handler, batch_size: int, *, idle_seconds: float = 0.2
    ) -> None:
        self.name = name
        self.table_name = table_name
        self.handler = handler
        self.batch_size = batch_size
        self.resume_at: dict[str, tuple[str, str]] = {}
        """Per shard, where to read from next: (``AT_SEQUENCE_NUMBER`` or ``AFTER_SEQUENCE_NUMBER``, number)."""
        self.idle_seconds = idle_seconds
        """How long to wait before reading again when the stream had nothing new (Lambda polls ~4 times a second)."""

    def run(self, duty: Duty) -> None:
        dynamodb, streams = boto3.client("dynamodb"), boto3.client("dynamodbstreams")
        stream_arn = persist(
            duty, lambda: dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        )
        handler = self.handler
        shards = persist(duty, lambda: streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"])

        def first_iterator(shard_id: str) -> str:
            where = self.resume_at.get(shard_id)
            if where is None:
                answer = streams.get_shard_iterator(
                    StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )
            else:
                answer = streams.get_shard_iterator(
                    StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType=where[0], SequenceNumber=where[1]
                )
            return str(answer["ShardIterator"])

        iterators: dict[str, str] = {}
        for shard in shards:
            shard_id = str(shard["ShardId"])
            iterators[shard_id] = persist(duty, functools.partial(first_iterator, shard_id))
        renewed = {shard_id: time.monotonic() for shard_id in iterators}
        duty.ready()
        busy = False
        while duty.rest(0 if busy else self.idle_seconds):
            busy = False
            for shard_id, iterator in list(iterators.items()):
                try:
                    page = streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
                except ClientError:
                    log.warning("reading the stream failed; reading again", exc_info=True)
                    continue
                records = page.get("Records", [])
                next_iterator = page.get("NextShardIterator") or iterator
                quiet_for = time.monotonic() - renewed[shard_id]
                if not records and shard_id in self.resume_at and quiet_for > self.RENEW_IDLE_SECONDS:
                    try:
                        next_iterator = first_iterator(shard_id)
                    except ClientError:
                        log.warning("renewing the stream's iterator failed; reading on", exc_info=True)
                    renewed[shard_id] = time.monotonic()
                if records:
                    busy = True
                    failed_at = self._deliver(handler, stream_arn, records)
                    if failed_at is None:
                        last = str(records[-1]["dynamodb"]["SequenceNumber"])
                        self.resume_at[shard_id] = ("AFTER_SEQUENCE_NUMBER", last)
                    else:
                        self.resume_at[shard_id] = ("AT_SEQUENCE_NUMBER", failed_at)
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

    def _deliver(self, handler: Handler, arn: str, records: list[dict[str, Any]]) -> str | None:
        event = {"Records": [{**r, "eventSourceARN": arn} for r in records]}
        try:
            lambda_event = json.loads(json.dumps(event, default=_epoch))  # as Lambda sends it: JSON numbers
            result = handler(lambda_event, FakeLambdaContext(function_name=self.name))
        except Exception:
            log.exception("stream consumer %s crashed; the batch will be retried", self.name)
            time.sleep(1)
            return str(records[0]["dynamodb"]["SequenceNumber"])
        failures = (result or {}).get("batchItemFailures", [])
        if failures:
            time.sleep(1)
            return str(failures[0]["itemIdentifier"])
        return None


def _epoch(value: Any) -> Any:
    return value.timestamp() if hasattr(value, "timestamp") else str(value)


class TopicForwarder:
    """Publishes what an EventBridge rule delivered to a relay queue to its SNS topic.

    Stands in for a rule -> SNS target, which moto's EventBridge can't deliver.
    """

    def __init__(self, queue_url: str, topic_arn: str) -> None:
        self.name = f"{topic_arn.rsplit(':', 1)[-1]}-relay"
        self.queue_url = queue_url
        self.topic_arn = topic_arn

    def run(self, duty: Duty) -> None:
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        duty.ready()
        while duty.on_duty():
            try:
                received = sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=LONG_POLL_SECONDS
                ).get("Messages", [])
                for message in received:
                    sns.publish(TopicArn=self.topic_arn, Message=message["Body"])
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            except ClientError:
                # EventBridge retries a target that fails; here the message stays and comes again.
                log.warning("forwarding to %s failed; it will be retried", self.topic_arn, exc_info=True)
                time.sleep(0.5)


def persist[T](duty: Duty, call: Callable[[], T]) -> T:
    """A poller's set-up call, tried again until AWS answers: a throttled start must not kill the poller."""
    while True:
        try:
            return call()
        except (ClientError, BotoCoreError):
            if not duty.rest(0.5):
                raise
