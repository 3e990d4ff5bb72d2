"""The local Firehose: puts every event from the bus into the lake bucket in Firehose's layout.

moto 5.2.5 can't play this part: its EventBridge delivers to SQS, SNS and other buses but not to a
Firehose stream, and its Firehose writes each put as one uncompressed object under
``<prefix>/YYYY/MM/DD/HH/`` without dynamic partitioning, compression or buffering (its
``put_s3_records``). So the bus's to-lake rule targets a queue here, and this writer buffers what
arrives for a few seconds (``LOCAL_LAKE_FLUSH_SECONDS``) and writes gzip'd newline-delimited JSON to
``events/detail_type=<type>/dt=<day>/`` exactly as Firehose does (``helpdesk.domain.lake``), events
it can't place to ``errors/``. Messages are deleted only after their object is written, so a failed
write is retried (at least once, as Firehose; the views de-duplicate).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError
from helpdesk.domain import lake

from localrt.workers import Duty

log = logging.getLogger("localrt.lake")
STREAM_NAME = "helpdesk-local-lake"


class LakeWriter:
    """A supervised worker (``localrt.workers``) playing the lake's Firehose stream."""

    def __init__(self, queue_url: str, bucket: str, flush_seconds: float) -> None:
        self.name = "lake-writer"
        self.queue_url = queue_url
        self.bucket = bucket
        self.flush_seconds = flush_seconds
        self.written = 0

    def run(self, duty: Duty) -> None:
        sqs = boto3.client("sqs")
        s3 = boto3.client("s3")
        pending: list[dict[str, Any]] = []
        since = time.monotonic()
        duty.ready()
        while duty.on_duty():
            try:
                received = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except ClientError:
                log.warning("receiving lake events failed; polling again", exc_info=True)
                duty.rest(0.5)
                continue
            pending += received.get("Messages", [])
            if pending and (time.monotonic() - since >= self.flush_seconds or len(pending) >= 500):
                try:
                    self.flush(s3, sqs, pending)
                except ClientError:
                    log.warning("writing lake objects failed; the events stay queued and come again", exc_info=True)
                pending, since = [], time.monotonic()
            elif not pending:
                since = time.monotonic()

    def flush(self, s3: Any, sqs: Any, messages: list[dict[str, Any]]) -> None:
        partitions: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        failed: list[dict[str, Any]] = []
        for message in messages:
            event = json.loads(message["Body"])
            try:
                partitions[lake.partition_of(event)].append(event)
            except lake.LakeRecordError:
                failed.append(event)
        now = datetime.now(UTC)
        for (detail_type, day), events in sorted(partitions.items()):
            key = lake.object_key(detail_type, day, STREAM_NAME, now, uuid.uuid4().hex)
            s3.put_object(Bucket=self.bucket, Key=key, Body=lake.encode(events))
            self.written += len(events)
        if failed:
            key = f"errors/partitioning-failed/{now:%Y-%m-%d}/{STREAM_NAME}-{uuid.uuid4().hex}{lake.FILE_EXTENSION}"
            s3.put_object(Bucket=self.bucket, Key=key, Body=lake.encode(failed))
        for start in range(0, len(messages), 10):
            batch = messages[start : start + 10]
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )
