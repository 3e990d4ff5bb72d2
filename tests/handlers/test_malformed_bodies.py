"""No request body, however malformed, gets anything but a 4xx, and none stores anything.

Fuzzed with tests/support/fuzzing.py: valid bodies of the messenger's writes, each broken one way (too
deep, numbers no field may hold, half a surrogate pair, truncated, not UTF-8, not an object, unknown or
mistyped fields, a bad escape, another media type, too large). The cases below pin what they found.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.events import Reply, agent_authorizer, customer_authorizer, customised
from tests.support.fuzzing import MalformedBody, deep, malformed_bodies

Call = Callable[[dict[str, Any]], Reply]
FUZZ = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
_customers = itertools.count()

START = {"body": "My parcel arrived damaged", "attachment_ids": []}
SEND = {"body": "Any news?", "attachment_ids": []}


def event_with(name: str, body: MalformedBody, authorizer: dict[str, Any], path: str | None = None) -> dict[str, Any]:
    if body.raw is not None:
        event = customised(name, path=path, authorizer=authorizer, raw_body=base64.b64encode(body.raw).decode())
        event["isBase64Encoded"] = True
    else:
        event = customised(name, path=path, authorizer=authorizer, raw_body=body.text)
    event["headers"] = {**event["headers"], "Content-Type": body.content_type}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    return event


def assert_refused(reply: Reply, body: MalformedBody) -> None:
    assert 400 <= reply.status < 500, (body.defect, reply.status, reply.body)
    assert reply.body["error"] in {
        "malformed_json",
        "validation_error",
        "payload_too_large",
        "unsupported_media_type",
    }, reply.body
    if reply.status == 422:
        assert all(detail["field"] for detail in reply.body["details"]), reply.body


SENDER = customer_authorizer("fuzz-sender")


@pytest.fixture
def conversation(messenger: Call) -> str:
    """A conversation of SENDER's, holding its first message only."""
    started = messenger(customised("messenger_api/start_conversation", authorizer=SENDER, body=START))
    return str(started.body["id"])


@FUZZ
@given(route=st.sampled_from(["start", "send"]), start=malformed_bodies(START), send=malformed_bodies(SEND))
def test_a_malformed_body_is_refused_with_a_4xx_and_stores_nothing(
    messenger: Call, conversation: str, route: str, start: MalformedBody, send: MalformedBody
) -> None:
    if route == "start":
        # Given a customer of their own, starting a conversation with a malformed body
        customer = customer_authorizer(f"fuzz-body-{next(_customers)}")
        reply = messenger(event_with("messenger_api/start_conversation", start, customer))

        # Then the body is refused, and the customer has no conversation
        assert_refused(reply, start)
        listed = messenger(customised("messenger_api/list_conversations", authorizer=customer, query={}))
        assert listed.body["items"] == []
        return
    # Given a conversation, and a message to it with a malformed body
    path = f"/messenger/conversations/{conversation}"
    reply = messenger(event_with("messenger_api/send_message", send, SENDER, path=f"{path}/messages"))

    # Then the body is refused, and the conversation still holds only its first message
    assert_refused(reply, send)
    page = messenger(customised("messenger_api/get_conversation", path=path, authorizer=SENDER))
    assert [m["body"] for m in page.body["messages"]] == [START["body"]]


ALICE = customer_authorizer("alice")


@pytest.mark.parametrize(
    ("raw", "field", "problem"),
    [
        ('{"body":"x","context":{"attributes":' + deep(5000) + "}}", "context.attributes.0.0", "nested more than 32"),
        ('{"body":"x","context":' + '{"a":' * 3000 + "1" + "}" * 3001, "context.a.a", "nested more than 32"),
        ('{"body":"x","attachment_ids":[1' + "0" * 5000 + "]}", "attachment_ids.0", "out of range"),
        ('{"body":"x","context":{"attributes":{"a":NaN}}}', "context.attributes.a", "NaN"),
        ('{"body":"x","context":{"attributes":{"a":-Infinity}}}', "context.attributes.a", "NaN and Infinity"),
        ('{"body":1e400}', "body", "decimals must be finite"),
        ('{"body":"x\\ud800y"}', "body", "not valid Unicode"),
        ('{"body":"x","context":{"attributes":{"\\udfff":"a"}}}', "context.attributes.\\udfff", "not valid Unicode"),
    ],
    ids=["deep-arrays", "deep-objects", "5001-digits", "nan", "infinity", "1e400", "surrogate", "surrogate-name"],
)
def test_what_crashed_or_slipped_through_is_a_422_naming_the_field(
    messenger: Call, raw: str, field: str, problem: str
) -> None:
    reply = messenger(customised("messenger_api/start_conversation", authorizer=ALICE, raw_body=raw))

    assert reply.status == 422, reply.body
    [detail] = reply.body["details"]
    assert detail["field"].startswith(field)
    assert problem in detail["message"]
    assert messenger(customised("messenger_api/list_conversations", authorizer=ALICE, query={})).body["items"] == []


def test_an_oversize_number_on_a_route_that_counts_bytes_is_a_422_not_a_crash(messenger: Call) -> None:
    # Python refuses to read integers of more than 4,300 digits: this one used to escape as a 502
    raw = '{"filename":"a.png","content_type":"image/png","size":1' + "0" * 5000 + "}"
    reply = messenger(customised("messenger_api/create_attachment", authorizer=ALICE, raw_body=raw))

    assert reply.status == 422
    assert reply.body["details"][0]["field"] == "size"


@pytest.mark.parametrize("amount", ["1e300", "1e-300", "123456789012345678901234567890"])
def test_a_number_dynamodb_cant_store_is_refused_before_anything_is_written(inbox: Call, amount: str) -> None:
    # (DynamoDB keeps 38 digits between 1e-130 and 1e126: these used to fail the write, a 5xx)
    raw = (
        '{"ticket_type_id":"refund-request","customer_id":"c1",'
        f'"attributes":{{"order_id":"o","amount":{amount},"reason":"charged-twice"}}}}'
    )
    agent = agent_authorizer("agent-bea", "billing")
    reply = inbox(customised("inbox_api/create_ticket", authorizer=agent, raw_body=raw))

    assert reply.status == 422
    assert reply.body["details"][0]["field"] == "attributes.amount"


def test_half_a_surrogate_pair_in_a_ticket_attribute_is_refused_not_a_failed_write(inbox: Call) -> None:
    attributes = '{"order_id":"\\ud800","amount":1,"reason":"charged-twice"}'
    raw = f'{{"ticket_type_id":"refund-request","customer_id":"c1","attributes":{attributes}}}'
    reply = inbox(
        customised("inbox_api/create_ticket", authorizer=agent_authorizer("agent-bea", "billing"), raw_body=raw)
    )

    assert reply.status == 422
    assert reply.body["details"][0] == {"field": "attributes.order_id", "message": "is not valid Unicode text"}


def test_a_body_that_is_not_json_is_a_400_even_where_the_route_takes_no_body(messenger: Call) -> None:
    conversation = messenger(customised("messenger_api/start_conversation", authorizer=ALICE, body=START)).body
    path = f"/messenger/conversations/{conversation['id']}/close"
    reply = messenger(
        customised("messenger_api/close_conversation", path=path, authorizer=ALICE, raw_body="[1" + "0" * 5000)
    )

    assert (reply.status, reply.body["error"]) == (400, "malformed_json")
    assert json.dumps(reply.body)
