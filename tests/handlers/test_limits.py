"""Limits: each oversized or disallowed thing is refused with a 4xx naming the field, and nothing is stored.

"Nothing stored" is checked on the table itself: the items before and after the refused request are the same.
Rate limits per customer are not the functions' job (see the hardening note: API Gateway usage plans).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from helpdesk.api.bodies import MAX_PAGE_SIZE
from helpdesk.api.request_guards import MAX_REQUEST_BYTES
from helpdesk.domain.models import MAX_MESSAGE_LENGTH
from helpdesk.domain.workspace import MAX_STRING_LENGTH, MAX_TEXT_LENGTH
from helpdesk.services.attachments import MAX_ATTACHMENTS_PER_MESSAGE, MAX_IMAGE_BYTES

from tests.conftest import TEST_TABLE
from tests.support.events import Reply, agent_authorizer, customer_authorizer, customised

Call = Callable[[dict[str, Any]], Reply]
ALICE = customer_authorizer("alice", "Alice")
FRONTLINE = agent_authorizer("agent-frank", "frontline")


def table_items() -> list[str]:
    """Every item in the test table, straight from moto (a Scan would trip the no-Scan guard)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(TEST_TABLE)
    return sorted(json.dumps(item.to_json(), sort_keys=True) for item in table.all_items())


def refused(reply: Reply, status: int, field: str) -> None:
    assert reply.status == status, reply.body
    fields = [d["field"] for d in reply.body.get("details", [])]
    assert field in fields or field in reply.body["message"], reply.body


def start(messenger: Call) -> str:
    reply = messenger(customised("messenger_api/start_conversation", authorizer=ALICE, body={"body": "Hello"}))
    assert reply.status == 201
    return str(reply.body["id"])


def test_a_message_over_the_limit_is_refused_and_not_stored(messenger: Call) -> None:
    # Given a conversation
    conversation_id = start(messenger)
    before = table_items()
    assert any(conversation_id in item for item in before)
    path = f"/messenger/conversations/{conversation_id}/messages"

    # When the customer sends one character more than a message may hold, and starts a new one as long
    too_long = {"body": "x" * (MAX_MESSAGE_LENGTH + 1)}
    sent = messenger(customised("messenger_api/send_message", path=path, authorizer=ALICE, body=too_long))
    started = messenger(customised("messenger_api/start_conversation", authorizer=ALICE, body=too_long))

    # Then both are refused naming the body, and the table is as it was
    refused(sent, 422, "body")
    refused(started, 422, "body")
    assert table_items() == before
    just_fits = {"body": "x" * MAX_MESSAGE_LENGTH}
    fits = messenger(customised("messenger_api/send_message", path=path, authorizer=ALICE, body=just_fits))
    assert fits.status == 201


@pytest.mark.parametrize(
    ("upload", "field"),
    [
        ({"filename": "big.jpg", "content_type": "image/jpeg", "size": MAX_IMAGE_BYTES + 1}, "size"),
        ({"filename": "run.exe", "content_type": "application/x-msdownload", "size": 10}, "content_type"),
        ({"filename": "x" * 256, "content_type": "image/png", "size": 10}, "filename"),
        ({"filename": "neg.png", "content_type": "image/png", "size": -1}, "size"),
    ],
)
def test_an_attachment_too_large_or_of_a_disallowed_type_is_refused(
    messenger: Call, upload: dict[str, Any], field: str
) -> None:
    before = table_items()

    reply = messenger(customised("messenger_api/create_attachment", authorizer=ALICE, body=upload))

    refused(reply, 422, field)
    assert table_items() == before


def test_too_many_attachments_on_one_message_are_refused(messenger: Call) -> None:
    conversation_id = start(messenger)
    before = table_items()
    ids = [f"att{n}" for n in range(MAX_ATTACHMENTS_PER_MESSAGE + 1)]
    path = f"/messenger/conversations/{conversation_id}/messages"

    reply = messenger(
        customised("messenger_api/send_message", path=path, authorizer=ALICE, body={"body": "", "attachment_ids": ids})
    )

    refused(reply, 422, "attachment_ids")
    assert table_items() == before


def _convert(inbox: Call, conversation_id: str, attributes: dict[str, Any]) -> Reply:
    return inbox(
        customised(
            "inbox_api/convert_conversation",
            path=f"/inbox/conversations/{conversation_id}/ticket",
            authorizer=FRONTLINE,
            body={"ticket_type_id": "damaged-item", "attributes": attributes},
        )
    )


@pytest.mark.parametrize(
    ("attributes", "status", "field"),
    [
        ({"order_id": "x" * (MAX_STRING_LENGTH + 1), "description": "dented"}, 422, "attributes.order_id"),
        ({"order_id": "O-1", "description": "x" * (MAX_TEXT_LENGTH + 1)}, 422, "attributes.description"),
        ({"order_id": "O-1", "description": "d"} | {f"extra{n}": "v" for n in range(101)}, 422, "attributes"),
    ],
    ids=["string-too-long", "text-too-long", "too-many-attributes"],
)
def test_ticket_attributes_too_long_or_too_many_are_refused(
    messenger: Call, inbox: Call, attributes: dict[str, Any], status: int, field: str
) -> None:
    # Given a conversation an agent turns into a ticket
    conversation_id = start(messenger)
    before = table_items()

    # When the attributes break a limit
    reply = _convert(inbox, conversation_id, attributes)

    # Then the refusal names the attribute, and neither a ticket nor a number was taken
    refused(reply, status, field)
    assert table_items() == before


@pytest.mark.parametrize("limit", ["0", str(MAX_PAGE_SIZE + 1), "-5", "lots"])
def test_a_page_size_out_of_range_is_refused(messenger: Call, inbox: Call, limit: str) -> None:
    mine = messenger(customised("messenger_api/list_tickets", authorizer=ALICE, query={"limit": limit}))
    theirs = inbox(customised("inbox_api/list_tickets", authorizer=FRONTLINE, query={"limit": limit}))

    refused(mine, 422, "query.limit")
    refused(theirs, 422, "query.limit")


def test_a_request_body_over_64_kb_is_refused_before_it_is_read(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger)
    before = table_items()
    huge = json.dumps({"body": "x" * MAX_REQUEST_BYTES})
    path = f"/messenger/conversations/{conversation_id}/messages"

    sent = messenger(customised("messenger_api/send_message", path=path, authorizer=ALICE, raw_body=huge))
    created = inbox(customised("inbox_api/create_ticket", authorizer=FRONTLINE, raw_body=huge))

    for reply in (sent, created):
        assert reply.status == 413
        assert reply.body["error"] == "payload_too_large"
        assert "request body" in reply.body["message"]
    assert table_items() == before
