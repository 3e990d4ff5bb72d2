"""The local Firehose: what arrives from the bus lands in the lake bucket in Firehose's layout."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
from helpdesk.domain import lake
from localrt.lake_writer import LakeWriter

from tests.support.lake import bus_event


def test_events_land_per_detail_type_and_day_and_what_cant_be_placed_goes_to_errors(aws: None) -> None:
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    s3.create_bucket(Bucket="lake")
    queue = sqs.create_queue(QueueName="to-lake")["QueueUrl"]
    events = [
        bus_event("TicketCreated", datetime(2026, 3, 1, 23, 59, tzinfo=UTC), ticket_id="t1"),
        bus_event("TicketCreated", datetime(2026, 3, 2, 0, 1, tzinfo=UTC), ticket_id="t2"),
        bus_event("CsatRated", datetime(2026, 3, 2, 9, tzinfo=UTC), ticket_id="t1", score=5),
    ]
    for body in [*map(json.dumps, events), json.dumps({"detail-type": "Broken", "detail": {}})]:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]

    LakeWriter(queue, "lake", 1).flush(s3, sqs, messages)

    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"])
    placed = [k for k in keys if k.startswith("events/")]
    assert [k.rsplit("/", 1)[0] for k in placed] == [
        "events/detail_type=CsatRated/dt=2026-03-02",
        "events/detail_type=TicketCreated/dt=2026-03-01",
        "events/detail_type=TicketCreated/dt=2026-03-02",
    ]
    assert all(k.endswith(lake.FILE_EXTENSION) for k in keys)
    assert [k.split("/")[1] for k in keys if k.startswith("errors/")] == ["partitioning-failed"]
    body = s3.get_object(Bucket="lake", Key=placed[0])["Body"].read()
    assert lake.decode(body) == [events[2]]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)  # delivered: deleted
