"""The embedded AWS's transactions stay all-or-nothing after ``localrt.moto_transactions`` made them
cheap: a cancelled one changes no item and writes nothing to the stream; a committed one writes it all."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.services.test_domain_events import TableStream

TABLE = "helpdesk-test"


def put(pk: str, sk: str = "A", **condition: str) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"PK": {"S": pk}, "SK": {"S": sk}}, **condition}}


def items(client: Any) -> list[tuple[str, str, str | None]]:
    pages = client.get_paginator("scan").paginate(TableName=TABLE)
    found = [(i["PK"]["S"], i["SK"]["S"], i.get("n", {}).get("N")) for page in pages for i in page["Items"]]
    return sorted(found)


@pytest.fixture
def client(table: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import botocore.client

    from tests import conftest

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", conftest._original_make_api_call)  # Scans
    dynamodb = boto3.client("dynamodb")
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "KEPT"}, "SK": {"S": "A"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "KEPT"}, "SK": {"S": "B"}, "n": {"N": "7"}})
    return dynamodb


def test_a_cancelled_transaction_changes_no_item_and_writes_nothing_to_the_stream(client: Any) -> None:
    stream = TableStream(TABLE)
    stream.new_records()
    before = items(client)
    update = {
        "Update": {
            "TableName": TABLE,
            "Key": {"PK": {"S": "KEPT"}, "SK": {"S": "A"}},
            "UpdateExpression": "SET n = :n",
            "ExpressionAttributeValues": {":n": {"N": "2"}},
        }
    }
    delete = {"Delete": {"TableName": TABLE, "Key": {"PK": {"S": "KEPT"}, "SK": {"S": "B"}}}}

    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[put("NEW"), update, delete, put("KEPT", "C", ConditionExpression="attribute_exists(PK)")]
        )

    assert items(client) == before == [("KEPT", "A", "1"), ("KEPT", "B", "7")]
    assert stream.new_records() == []


def test_a_committed_transaction_writes_every_item_and_a_stream_record_each(client: Any) -> None:
    stream = TableStream(TABLE)
    stream.new_records()

    client.transact_write_items(TransactItems=[put("ONE"), put("TWO", "B"), put("KEPT", "B")])

    assert items(client) == [("KEPT", "A", "1"), ("KEPT", "B", None), ("ONE", "A", None), ("TWO", "B", None)]
    assert [r["eventName"] for r in stream.new_records()] == ["INSERT", "INSERT", "MODIFY"]
