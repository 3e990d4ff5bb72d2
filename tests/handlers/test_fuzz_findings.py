"""What fuzzing the APIs found, pinned down so it stays fixed (see tests/e2e/test_fuzzing.py)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from tests.support.events import Reply, customer_authorizer, customised

Call = Callable[[dict[str, Any]], Reply]
ALICE = customer_authorizer("alice", "Alice")


def test_a_body_that_is_not_text_is_a_400_not_a_crash(messenger: Call) -> None:
    # Given bytes that aren't UTF-8, which API Gateway hands over base64-encoded
    event = customised("messenger_api/send_message", authorizer=ALICE, raw_body=base64.b64encode(b"2\xff\xfe").decode())
    event["isBase64Encoded"] = True

    # When the customer's messenger sends them
    reply = messenger(event)

    # Then they hear the body is unreadable, instead of a 500
    assert reply.status == 400
    assert reply.body["error"] == "malformed_json"


def test_the_openapi_documents_say_what_each_route_answers(messenger: Call, inbox: Call) -> None:
    # Given the documents the APIs serve
    from tests.support.events import sample_event

    documents = {"messenger": messenger(sample_event("messenger_api/openapi")).body}
    documents["inbox"] = inbox(sample_event("inbox_api/openapi")).body
    visitors = documents["messenger"]["paths"]["/messenger/visitors"]["post"]

    # Then creating answers 201, the public route needs no token, and id routes document 401 and 404
    assert visitors["security"] == []
    assert "201" in visitors["responses"]
    assert "200" not in visitors["responses"]
    for document in documents.values():
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                codes = set(operation["responses"])
                assert "422" in codes, (method, path)
                assert codes & {"200", "201", "202"}, (method, path)  # 202: accepted, done later
                if "{" in path:
                    assert {"401", "404"} <= codes, (method, path)
                error = operation["responses"]["422"]["content"]["application/json"]["schema"]
                assert error["required"] == ["message"], (method, path)


def test_an_id_with_characters_no_id_has_is_refused_naming_the_field(messenger: Call) -> None:
    # When a path carries an id no conversation could have
    path = "/messenger/conversations/a%3Ab"
    reply = messenger(customised("messenger_api/get_conversation", path=path, authorizer=ALICE))

    # Then the customer hears which part of the request is wrong
    assert reply.status == 422
    assert reply.body["details"][0]["field"] == "path.conversation_id"


def test_a_body_that_is_not_json_is_a_415_naming_the_content_type(messenger: Call) -> None:
    # Given a form upload without a boundary, which powertools' multipart parser crashed on
    event = customised("messenger_api/start_conversation", authorizer=ALICE, body={"body": "Hello"})
    event["headers"] = {**event["headers"], "Content-Type": "multipart/form-data"}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}

    reply = messenger(event)

    assert reply.status == 415
    assert reply.body["details"][0]["field"] == "Content-Type"
    charset = customised("messenger_api/start_conversation", authorizer=ALICE, body={"body": "Hello"})
    charset["headers"] = {**charset["headers"], "Content-Type": "application/json; charset=utf-8"}
    assert messenger(charset).status == 201


def test_preferences_must_be_true_or_false_not_a_number(messenger: Call) -> None:
    reply = messenger(customised("messenger_api/set_preferences", authorizer=ALICE, body={"sms": 0}))

    assert reply.status == 422
    assert reply.body["details"][0]["field"] == "sms"
    only_messenger = {"messenger": True, "email": False, "sms": False}
    saved = messenger(customised("messenger_api/set_preferences", authorizer=ALICE, body=only_messenger))
    assert (saved.status, saved.body) == (200, only_messenger)
