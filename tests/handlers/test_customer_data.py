"""An admin exports everything held about one customer, or erases it everywhere it lives.

The customer's day is built through the public APIs (a conversation with a file and a phrase nobody
else wrote, an agent's reply, a ticket resolved and rated); their events are in the lake as Firehose
writes them. The privacy worker is driven with the messages its queue receives, the erasure's steps
with the messages the state machine sends (the local runtime runs the real state machine).
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.client
import pytest
import requests
from helpdesk.domain import lake

from tests import conftest
from tests.handlers.test_messenger_features import JPEG, RETURNS, convert, customer, set_state, start, upload
from tests.services.test_domain_events import TableStream, as_lambda_record
from tests.support.events import Reply, agent_authorizer, customised
from tests.support.lake import bus_event

Call = Callable[[dict[str, Any]], Reply]
ADMIN = agent_authorizer("admin-1", "admins")
LEAD = agent_authorizer("lead-returns", "returns,leads")
ZOE_EMAIL, ZOE_PHONE = "zoe.quill@example.com", "+447700900555"
PHRASE = "my parrot Zebedee shredded the warranty card"
ZOE = customer("zoe", name="Zoe Quill", email=ZOE_EMAIL, phone=ZOE_PHONE)
OTHER = customer("other", name="Olly", email="olly@example.com")


@pytest.fixture
def privacy(inbox: Call, privacy_tasks: str) -> str:
    return privacy_tasks


def run_worker(queue: str) -> int:
    """Hand every message on the privacy queue to the worker, as Lambda's event source would."""
    from helpdesk.handlers import privacy_tasks

    sqs = boto3.client("sqs")
    handled = 0
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            event = {
                "Records": [{"messageId": message["MessageId"], "body": message["Body"], "eventSource": "aws:sqs"}]
            }
            outcome = privacy_tasks.lambda_handler(event, conftest_context())
            assert outcome == {"batchItemFailures": []}, outcome
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
    return handled


def conftest_context() -> Any:
    from tests.support.events import FakeLambdaContext

    return FakeLambdaContext()


def step(task: str, erasure_id: str, monkeypatch: pytest.MonkeyPatch, **state: Any) -> dict[str, Any]:
    """One step of the erasure workflow, with the message its state sends; what the worker answers
    through the task token (the state machine keeps it under the step's ``ResultPath``)."""
    from helpdesk.adapters.workflow_engine import StepFunctionsEngine
    from helpdesk.handlers import privacy_tasks

    answered: dict[str, Any] = {}
    monkeypatch.setattr(StepFunctionsEngine, "complete", lambda _self, token, output: answered.update(output) or True)
    body = {"task": task, "erasure_id": erasure_id, "token": f"token-{task}", **state}
    event = {"Records": [{"messageId": task, "body": json.dumps(body), "eventSource": "aws:sqs"}]}
    assert privacy_tasks.lambda_handler(event, conftest_context()) == {"batchItemFailures": []}
    return answered


def zoes_day(messenger: Call, inbox: Call) -> dict[str, Any]:
    """What Zoe did: a conversation with a photo and a phrase, an agent's answer, a ticket resolved and rated."""
    attachment = upload(messenger, ZOE)
    opened = start(messenger, ZOE, {"body": PHRASE, "attachment_ids": [attachment]})
    assert opened.status == 201, opened.body
    conversation_id = opened.body["id"]
    answered = inbox(
        customised(
            "inbox_api/reply_to_conversation",
            path=f"/inbox/conversations/{conversation_id}/replies",
            authorizer=agent_authorizer("agent-frontline", "frontline"),
            body={"body": "Sorry to hear that, Zoe Quill: we'll send a new card."},
        )
    )
    assert answered.status == 201, answered.body
    ticket = convert(inbox, conversation_id)
    set_state(inbox, ticket, "replaced")
    rated = messenger(
        customised(
            "messenger_api/rate_ticket",
            path=f"/messenger/tickets/{ticket['id']}/rating",
            authorizer=ZOE,
            body={"score": 4, "comment": "Quick, thanks"},
        )
    )
    assert rated.status == 201, rated.body
    theirs = bus_event(
        "ConversationStarted",
        datetime.now(UTC),
        conversation_id=conversation_id,
        customer_id="zoe",
        team_id="frontline",
        channel="messenger",
    )
    others = bus_event(
        "ConversationStarted", datetime.now(UTC), conversation_id="01OTHER", customer_id="other", team_id="frontline"
    )
    detail_type, day = lake.partition_of(theirs)
    key = lake.object_key(detail_type, day, "helpdesk-test-lake", datetime.now(UTC), "zoe-and-other")
    boto3.client("s3").put_object(Bucket="helpdesk-test-lake", Key=key, Body=lake.encode([theirs, others]))
    return {"conversation_id": conversation_id, "ticket_id": ticket["id"], "attachment_id": attachment, "event": theirs}


def ask(inbox: Call, what: str, who: dict[str, Any], customer_id: str = "zoe") -> Reply:
    sample = "inbox_api/export_customer" if what == "export" else "inbox_api/erase_customer"
    return inbox(customised(sample, path=f"/inbox/customers/{customer_id}/{what}", authorizer=who))


def poll(inbox: Call, what: str, request_id: str) -> Reply:
    return inbox(customised("inbox_api/get_export", path=f"/inbox/customers/zoe/{what}/{request_id}", authorizer=ADMIN))


# --- export ---------------------------------------------------------------------------------------


def test_an_admins_export_holds_everything_the_customer_did_and_nothing_of_anyone_else(
    messenger: Call, inbox: Call, privacy: str, dynamo_calls: conftest.DynamoCalls
) -> None:
    zoe = zoes_day(messenger, inbox)
    start(messenger, OTHER, {"body": "someone else's words"})

    dynamo_calls.reset()
    asked = ask(inbox, "export", ADMIN)
    route_calls = dynamo_calls.count()
    running = poll(inbox, "exports", asked.body["id"])
    run_worker(privacy)
    done = poll(inbox, "exports", asked.body["id"])
    archive = zipfile.ZipFile(io.BytesIO(requests.get(done.body["download_url"], timeout=10).content))
    names = set(archive.namelist())
    conversation = json.loads(archive.read(f"conversations/{zoe['conversation_id']}.json"))
    ticket = json.loads(archive.read(f"tickets/{zoe['ticket_id']}.json"))
    everything = b"".join(archive.read(name) for name in names)

    assert asked.status == 202
    assert route_calls <= 2
    assert running.body["status"] == "running"
    assert done.body["status"] == "done"
    assert json.loads(archive.read("profile.json"))["email"] == ZOE_EMAIL
    assert json.loads(archive.read("profile.json"))["phone"] == ZOE_PHONE
    assert [m["body"] for m in conversation["messages"]][:2] == [
        PHRASE,
        "Sorry to hear that, Zoe Quill: we'll send a new card.",
    ]
    assert ticket["ticket"]["rating"]["score"] == 4
    assert any(part["type"] == "state_change" for part in ticket["parts"])
    assert json.loads(archive.read("ratings.json")) == [
        {"ticket_id": zoe["ticket_id"], "rating": ticket["ticket"]["rating"]}
    ]
    assert archive.read(f"attachments/{zoe['attachment_id']}-lid.jpg") == JPEG
    assert json.loads(archive.read("events.json")) == [zoe["event"]]
    assert b"someone else's words" not in everything
    assert b"olly@example.com" not in everything


def test_only_admins_export_or_erase_a_customer_and_an_unknown_customer_is_a_clear_404(
    messenger: Call, inbox: Call, privacy: str
) -> None:
    zoes_day(messenger, inbox)

    refused = {
        who: ask(inbox, what, auth).status
        for what in ("export", "erasure")
        for who, auth in (
            (f"agent {what}", RETURNS),
            (f"lead {what}", LEAD),
        )
    }
    unknown = ask(inbox, "export", ADMIN, customer_id="nobody")

    assert refused == {"agent export": 403, "lead export": 403, "agent erasure": 403, "lead erasure": 403}
    assert unknown.status == 404
    assert "nobody" in unknown.body["message"]
    assert run_worker(privacy) == 0


# --- erasure --------------------------------------------------------------------------------------


def everything_stored(table: str) -> bytes:
    """Every item of the table and every object of every bucket, as bytes (the test's own look: a Scan)."""
    dynamodb = boto3.client("dynamodb")
    original = botocore.client.BaseClient._make_api_call
    botocore.client.BaseClient._make_api_call = conftest._original_make_api_call
    try:
        items = [page["Items"] for page in dynamodb.get_paginator("scan").paginate(TableName=table)]
    finally:
        botocore.client.BaseClient._make_api_call = original
    stored = json.dumps(items).encode()
    s3 = boto3.client("s3")
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        for entry in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            stored += gzip.decompress(body) if entry["Key"].endswith(".gz") else body
    return stored


def customers_in_lake() -> list[str]:
    """Whose conversations the lake's view lists, as the reports query it (DuckDB over the bucket's mirror)."""
    from helpdesk import wiring
    from helpdesk.domain.metrics import BoundQuery

    lake = wiring.lake_queries()
    run = lake.start(BoundQuery("SELECT DISTINCT customer_id FROM conversation_started ORDER BY 1", ()))
    return [str(row[0]) for row in lake.results(run).rows]


def published_events(records: list[dict[str, Any]]) -> list[Any]:
    """What the event publisher puts on the bus for these stream records."""
    from helpdesk import wiring
    from helpdesk.services.domain_events import map_change

    events = []
    for record in records:
        change = wiring.read_change(as_lambda_record(record))
        events += map_change(change, wiring.workspace(), lambda _id: None).events
    return events


def test_after_erasure_nothing_anywhere_holds_the_customer_and_the_audit_entry_remains(
    messenger: Call, inbox: Call, privacy: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    zoe = zoes_day(messenger, inbox)
    start(messenger, OTHER, {"body": "someone else's words"})
    ask(inbox, "export", ADMIN)
    run_worker(privacy)
    before = everything_stored(table)
    lake_before = customers_in_lake()
    found_before = [search(inbox, q) for q in ("zoe.qu", "zoe quill", "447700900555")]

    asked = ask(inbox, "erasure", ADMIN)
    erasure_id = asked.body["id"]
    stream = TableStream()
    stream.new_records()  # what came before the erasure
    states: dict[str, Any] = {}
    for name, result in (("erase_lake", "lake"), ("erase_files", "files"), ("erase_table", "table")):
        states[result] = step(name, erasure_id, monkeypatch)
    step("finish_erasure", erasure_id, monkeypatch, **states)
    audit = inbox(
        customised("inbox_api/get_erasure", path=f"/inbox/customers/zoe/erasures/{erasure_id}", authorizer=ADMIN)
    )
    after = everything_stored(table)
    lake_after = customers_in_lake()
    announced = published_events(stream.new_records())
    conversations = messenger(customised("messenger_api/list_conversations", authorizer=ZOE))
    as_agent = inbox(
        customised(
            "inbox_api/get_conversation", path=f"/inbox/conversations/{zoe['conversation_id']}", authorizer=ADMIN
        )
    )
    ticket = inbox(customised("inbox_api/get_ticket", path=f"/inbox/tickets/{zoe['ticket_id']}", authorizer=ADMIN))
    found_after = [search(inbox, q) for q in ("zoe.qu", "zoe quill", "447700900555")]

    assert all(secret.encode() in before for secret in (ZOE_EMAIL, ZOE_PHONE, PHRASE))
    assert asked.status == 202
    assert [secret for secret in (ZOE_EMAIL, ZOE_PHONE, PHRASE, "Zoe Quill") if secret.encode() in after] == []
    assert zoe["conversation_id"].encode() not in after
    assert b"someone else's words" in after
    assert all(found["customers"] for found in found_before)
    assert found_after == [{"customers": [], "tickets": [], "conversations": []}] * 3
    assert conversations.body["items"] == []
    assert as_agent.status == 404
    assert ticket.status == 404
    assert audit.body["status"] == "done"
    assert audit.body["counts"]["files_deleted"] >= 2
    assert audit.body["counts"]["lake_events_removed"] == 1
    assert b'"zoe"' not in after
    assert (lake_before, lake_after) == (["other", "zoe"], ["other"])
    assert [e.detail["customer_id"] for e in announced if e.detail_type == "CustomerErased"] == ["zoe"]
    assert [e.detail["erasure_id"] for e in announced if e.detail_type == "CustomerErased"] == [erasure_id]


def search(inbox: Call, q: str) -> dict[str, Any]:
    """What an admin's inbox search finds for ``q`` (customers, tickets, conversations: their ids)."""
    found = inbox(customised("inbox_api/search", query={"q": q}, authorizer=ADMIN))
    assert found.status == 200, found.body
    kinds = ("customers", "tickets", "conversations")
    return {kind: [item.get("id") or item.get("user_id") for item in found.body[kind]] for kind in kinds}


# --- the emails a customer sent ------------------------------------------------------------------

PIA_PHRASE = "the lighthouse keeper's cat ate my invoice"


def email_in(raw: bytes, receipt_id: str) -> None:
    """An email SES stored under ``inbound/`` and announced, handed to the ingest worker."""
    from helpdesk.handlers import email_ingest
    from localrt.ses_receiving import receipt_notification

    from tests.support.events import FakeLambdaContext
    from tests.support.mail import INBOUND_BUCKET, SUPPORT

    key = f"inbound/{receipt_id}"
    boto3.client("s3").put_object(Bucket=INBOUND_BUCKET, Key=key, Body=raw)
    notification = receipt_notification(
        message_id=receipt_id, bucket=INBOUND_BUCKET, key=key, recipients=[SUPPORT], source="pia@example.org"
    )
    event = {"Records": [{"messageId": receipt_id, "body": json.dumps(notification), "eventSource": "aws:sqs"}]}
    assert email_ingest.lambda_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}


def test_the_emails_a_customer_sent_are_in_their_export_and_gone_after_their_erasure(
    messenger: Call, inbox: Call, privacy: str, email_channel: None, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.mail import INBOUND_BUCKET, customer_email

    # Given Pia wrote in by email (twice), and Frank once
    pia_raw = customer_email(sender="Pia Mail <pia@example.org>", subject="Invoice", body=PIA_PHRASE)
    email_in(pia_raw, "ses-pia-1")
    email_in(customer_email(sender="Pia Mail <pia@example.org>", body="and the receipt too"), "ses-pia-2")
    email_in(customer_email(), "ses-frank-1")
    listed = inbox(customised("inbox_api/list_conversations", query={"team_id": "email"}, authorizer=ADMIN))
    [pia] = {c["customer"]["id"] for c in listed.body["items"] if c["customer"]["email"] == "pia@example.org"}
    inbound = boto3.client("s3").list_objects_v2(Bucket=INBOUND_BUCKET)["Contents"]

    # When an admin exports Pia's data, then erases her
    asked = inbox(customised("inbox_api/export_customer", path=f"/inbox/customers/{pia}/export", authorizer=ADMIN))
    run_worker(privacy)
    done = inbox(
        customised("inbox_api/get_export", path=f"/inbox/customers/{pia}/exports/{asked.body['id']}", authorizer=ADMIN)
    )
    archive = zipfile.ZipFile(io.BytesIO(requests.get(done.body["download_url"], timeout=10).content))
    erasure = inbox(customised("inbox_api/erase_customer", path=f"/inbox/customers/{pia}/erasure", authorizer=ADMIN))
    files = step("erase_files", erasure.body["id"], monkeypatch)
    step("erase_table", erasure.body["id"], monkeypatch)
    after = everything_stored(table)
    left = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=INBOUND_BUCKET)["Contents"]]

    # Then each email was filed under its customer as it came in, her export holds hers as received,
    # and after the erasure only Frank's is left
    assert len(inbound) == 3
    assert all(o["Key"].startswith("inbound/customers/") for o in inbound)
    assert sorted(n for n in archive.namelist() if n.startswith("emails/")) == [
        "emails/ses-pia-1.eml",
        "emails/ses-pia-2.eml",
    ]
    assert archive.read("emails/ses-pia-1.eml") == pia_raw
    assert json.loads(archive.read("manifest.json"))["emails"] == 2
    assert files["files_deleted"] >= 2
    assert [k.rpartition("/")[2] for k in left] == ["ses-frank-1"]
    assert [s for s in (b"pia@example.org", PIA_PHRASE.encode(), b"and the receipt too") if s in after] == []
    assert b"frank@example.net" in after
