"""The workspace's retention: closing and resolving set the table's TTL, reopening clears it, and the
local runtime expires what AWS would (moto keeps items past their TTL and objects past their rules)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.client
import pytest
from helpdesk.domain.retention import Retention
from localrt.retention import expire_items, expire_objects

from tests import conftest
from tests.handlers.test_event_publisher import capture, invoke, lambda_event  # noqa: F401 (capture: a fixture)
from tests.handlers.test_messenger_features import convert, customer, set_state, start, upload
from tests.services.test_domain_events import TableStream
from tests.support.events import Reply, agent_authorizer, customised

Call = Callable[[dict[str, Any]], Reply]
FRONTLINE = agent_authorizer("agent-frontline", "frontline")
DAY = 86400
KEEPER = customer("keeper", name="Kim Keeper")
WORDS = "the heron stole the tracking number"


def expires_at(table: str, pk: str) -> int | None:
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": "~META"}})["Item"]
    return int(item["expires_at"]["N"]) if "expires_at" in item else None


def set_status(inbox: Call, conversation_id: str, status: str) -> None:
    reply = inbox(
        customised(
            "inbox_api/reply_to_conversation",
            path=f"/inbox/conversations/{conversation_id}/status",
            authorizer=FRONTLINE,
            body={"status": status},
        )
    )
    assert reply.status == 200, reply.body


@pytest.fixture
def unguarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweeper plays DynamoDB's own TTL process, which reads the whole table: no request path's Scan."""
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", conftest._original_make_api_call)


def test_closing_keeps_a_conversation_for_the_retention_and_reopening_keeps_it_for_good(
    messenger: Call, inbox: Call, table: str
) -> None:
    conversation_id = start(messenger, KEEPER).body["id"]
    open_ttl = expires_at(table, f"CONV#{conversation_id}")
    set_status(inbox, conversation_id, "closed")
    closed_ttl = expires_at(table, f"CONV#{conversation_id}")
    set_status(inbox, conversation_id, "open")
    reopened_ttl = expires_at(table, f"CONV#{conversation_id}")

    assert open_ttl is None
    assert closed_ttl is not None
    assert abs(closed_ttl - (time.time() + Retention().closed_conversations_days * DAY)) < 60
    assert reopened_ttl is None


def test_resolving_a_ticket_keeps_it_for_the_retention(messenger: Call, inbox: Call, table: str) -> None:
    ticket = convert(inbox, start(messenger, KEEPER).body["id"])
    before = expires_at(table, f"TICKET#{ticket['id']}")
    set_state(inbox, ticket, "replaced")
    resolved = expires_at(table, f"TICKET#{ticket['id']}")

    assert before is None
    assert resolved is not None
    assert abs(resolved - (time.time() + Retention().resolved_tickets_days * DAY)) < 60


def test_the_local_sweeper_expires_what_aws_would_and_nothing_else(
    messenger: Call, inbox: Call, table: str, attachments_bucket: str, unguarded: None
) -> None:
    closed = start(messenger, KEEPER).body["id"]
    still_open = start(messenger, KEEPER).body["id"]
    upload(messenger, KEEPER)
    set_status(inbox, closed, "closed")
    after_retention = time.time() + (Retention().closed_conversations_days + 1) * DAY

    early = expire_items(table)
    swept = expire_items(table, now=after_retention)
    files_early = expire_objects({"files": [attachments_bucket]}, Retention())
    files_late = expire_objects(
        {"files": [attachments_bucket]}, Retention(), now=datetime.now(UTC) + timedelta(days=731)
    )
    listed = messenger(customised("messenger_api/list_conversations", authorizer=KEEPER))

    assert early == 0
    assert swept == 1
    assert [c["id"] for c in listed.body["items"]] == [still_open]
    assert (files_early, files_late) == (0, 1)


def items_of(table: str) -> bytes:
    """Every item of the table, as bytes (the test's own look: a Scan)."""
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return json.dumps([page["Items"] for page in pages]).encode()


@pytest.mark.usefixtures("capture")  # the bus and the topic the event publisher publishes to
def test_an_expired_conversation_and_ticket_leave_nothing_of_theirs_behind(
    messenger: Call, inbox: Call, table: str, unguarded: None
) -> None:
    # Given Kim's conversation (a phrase nobody else wrote, a photo) that became a resolved ticket,
    # then was closed; and Kim's other, open conversation
    photo = upload(messenger, KEEPER)
    gone = start(messenger, KEEPER, {"body": WORDS, "attachment_ids": [photo]}).body["id"]
    ticket = convert(inbox, gone)
    set_state(inbox, ticket, "replaced")
    set_status(inbox, gone, "closed")
    kept = start(messenger, KEEPER, {"body": "still waiting for my parcel"}).body["id"]
    stream = TableStream(table)
    stream.new_records()
    before = items_of(table)

    # When their retention runs out (the table's TTL deletes the two items) and the event publisher
    # reads those removals from the stream
    swept = expire_items(table, now=time.time() + (Retention().resolved_tickets_days + 1) * DAY)
    answered = invoke(lambda_event(stream.new_records()))
    after = items_of(table)

    # Then their messages, timeline, file records, search keys and links are gone; the rest stays
    assert swept == 2
    assert answered == {"batchItemFailures": []}
    assert WORDS.encode() in before
    assert [part for part in (WORDS, gone, ticket["id"], photo) if part.encode() in after] == []
    assert kept.encode() in after
    assert b"still waiting for my parcel" in after
