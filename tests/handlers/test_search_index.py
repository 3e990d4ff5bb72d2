"""The full-text search of messages and the search indexer fed by the table's stream, over moto."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.handlers.test_inbox_search import ALICE, FRONTLINE, RETURNS, found, search
from tests.services.test_domain_events import TableStream, as_lambda_record
from tests.support.events import FakeLambdaContext, Reply, customised, sample_event

Call = Callable[[dict[str, Any]], Reply]
INDEX_BUCKET = "helpdesk-test-search-index"


@pytest.fixture
def search_index(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    boto3.client("s3").create_bucket(Bucket=INDEX_BUCKET)
    monkeypatch.setenv("SEARCH_INDEX_BUCKET", INDEX_BUCKET)
    monkeypatch.setenv("SEARCH_INDEX_REFRESH_SECONDS", "0")
    return INDEX_BUCKET


@pytest.fixture
def index(table: str, search_index: str) -> Callable[[], None]:
    """Run the search indexer over what the stream has that it hasn't seen, as its event source would."""
    stream = TableStream(table)

    def run() -> None:
        from helpdesk.handlers import search_indexer

        records = [as_lambda_record(r) for r in stream.new_records()]
        if records:
            answer = search_indexer.lambda_handler({"Records": records}, FakeLambdaContext())
            assert answer == {"batchItemFailures": []}

    return run


def _conversation(messenger: Call, body: str) -> str:
    import json

    sample = json.loads(sample_event("messenger_api/start_conversation")["body"])
    reply = messenger(customised("messenger_api/start_conversation", authorizer=ALICE, body=sample | {"body": body}))
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def _say(messenger: Call, conversation_id: str, body: str) -> None:
    path = f"/messenger/conversations/{conversation_id}/messages"
    reply = messenger(customised("messenger_api/send_message", path=path, authorizer=ALICE, body={"body": body}))
    assert reply.status == 201, reply.body


def _by_messages(reply: Reply) -> list[str]:
    assert reply.status == 200, reply.body
    return [c["conversation"]["id"] for c in reply.body["conversations"] if c["matched"] == "messages"]


def test_an_agent_finds_a_conversation_by_a_word_from_its_messages(
    messenger: Call, inbox: Call, index: Callable[[], None]
) -> None:
    # Given two conversations of Alice's, one of which later mentions a teapot
    teapot = _conversation(messenger, "My parcel arrived damaged")
    _conversation(messenger, "Where is my refund?")
    _say(messenger, teapot, "The teapot spout is cracked")
    index()
    # When the frontline agent searches for a word, or the start of one
    # Then the conversation that has it is found, and only that one
    assert _by_messages(search(inbox, FRONTLINE, "teapot")) == [teapot]
    assert _by_messages(search(inbox, FRONTLINE, "spout crack")) == [teapot]
    assert _by_messages(search(inbox, FRONTLINE, "kettle")) == []


def test_an_agent_of_another_team_finds_no_conversation_by_its_words(
    messenger: Call, inbox: Call, index: Callable[[], None]
) -> None:
    _conversation(messenger, "The teapot spout is cracked")
    index()
    assert found(search(inbox, RETURNS, "teapot")) == {"customers": [], "tickets": [], "conversations": []}


def test_an_erased_customer_disappears_from_search(
    messenger: Call, inbox: Call, index: Callable[[], None], table: str
) -> None:
    # Given Alice's conversation is found by its words and by her email
    conversation_id = _conversation(messenger, "The teapot spout is cracked")
    index()
    assert _by_messages(search(inbox, FRONTLINE, "teapot")) == [conversation_id]
    assert found(search(inbox, FRONTLINE, "alice.marsh@"))["customers"] == ["alice-4711"]
    # When she is erased as the erasure workflow does it: her conversation and its messages deleted,
    # her profile stripped of what identifies her
    dynamodb = boto3.client("dynamodb")
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{conversation_id}"}},
    )["Items"]
    for item in items:
        dynamodb.delete_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})
    dynamodb.update_item(
        TableName=table,
        Key={"PK": {"S": "CUSTOMER#alice-4711"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="REMOVE email, #name, phone",
        ExpressionAttributeNames={"#name": "name"},
    )
    index()
    # Then no search finds her or her words, and the keys naming her are gone from the table
    assert found(search(inbox, FRONTLINE, "teapot")) == {"customers": [], "tickets": [], "conversations": []}
    assert found(search(inbox, FRONTLINE, "alice.marsh@"))["customers"] == []
    from helpdesk.wiring import search as search_wiring

    assert search_wiring.search_keys().find("alice.marsh@", limit=10) == []
    assert search_wiring.search_keys().find("marsh", limit=10) == []


def test_the_indexer_deletes_the_key_of_a_changed_order_id(
    messenger: Call, inbox: Call, index: Callable[[], None]
) -> None:
    from helpdesk.wiring import search as search_wiring

    from tests.handlers.test_inbox_search import _convert

    ticket = _convert(inbox, _conversation(messenger, "Damaged again"), "ORD-4711")
    changed = inbox(
        customised(
            "inbox_api/update_ticket",
            authorizer=FRONTLINE,
            path=f"/inbox/tickets/{ticket['id']}",
            body={"version": ticket["version"], "attributes": {"order_id": "ORD-9000"}},
        )
    )
    assert changed.status == 200, changed.body
    index()
    assert [h.id for h in search_wiring.search_keys().find("ord-4711", limit=10)] == []
    assert [h.id for h in search_wiring.search_keys().find("ord-9000", limit=10)] == [ticket["id"]]
