"""Idempotency-Key: a retried write is answered from the first one and changes nothing more."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.events import Reply, customer_authorizer, customised


def with_key(event: dict[str, Any], key: str) -> dict[str, Any]:
    event["headers"] = {**(event.get("headers") or {}), "Idempotency-Key": key}
    return event


def start(user: str, body: str, key: str | None) -> dict[str, Any]:
    event = customised("messenger_api/start_conversation", body={"body": body}, authorizer=customer_authorizer(user))
    return with_key(event, key) if key else event


def conversations_of(messenger: Callable[[dict[str, Any]], Reply], user: str) -> list[Any]:
    listed = messenger(customised("messenger_api/list_conversations", authorizer=customer_authorizer(user), query={}))
    return list(listed.body["items"])


def test_the_same_request_twice_gives_the_same_answer_and_one_conversation(
    messenger: Callable[[dict[str, Any]], Reply],
) -> None:
    first = messenger(start("idem-alice", "Hello", "key-1"))
    again = messenger(start("idem-alice", "Hello", "key-1"))

    assert first.status == again.status == 201
    assert again.body == first.body
    assert len(conversations_of(messenger, "idem-alice")) == 1


def test_the_same_key_with_another_body_is_refused(messenger: Callable[[dict[str, Any]], Reply]) -> None:
    messenger(start("idem-bob", "Hello", "key-2"))
    other = messenger(start("idem-bob", "Something else entirely", "key-2"))
    assert other.status == 422
    assert other.body["details"][0]["field"] == "Idempotency-Key"
    assert len(conversations_of(messenger, "idem-bob")) == 1


def test_keys_are_per_caller_so_nobody_replays_someone_elses_answer(
    messenger: Callable[[dict[str, Any]], Reply],
) -> None:
    mine = messenger(start("idem-carol", "Hello", "shared-key"))
    theirs = messenger(start("idem-dave", "Hello", "shared-key"))
    assert theirs.status == 201
    assert theirs.body["id"] != mine.body["id"]


def test_without_a_key_every_request_counts(messenger: Callable[[dict[str, Any]], Reply]) -> None:
    messenger(start("idem-erin", "Hello", None))
    messenger(start("idem-erin", "Hello", None))
    assert len(conversations_of(messenger, "idem-erin")) == 2


def test_a_malformed_key_is_refused(messenger: Callable[[dict[str, Any]], Reply]) -> None:
    refused = messenger(start("idem-fay", "Hello", "has spaces in it"))
    assert refused.status == 400
    assert conversations_of(messenger, "idem-fay") == []


def test_two_concurrent_retries_have_one_effect(
    messenger: Callable[[dict[str, Any]], Reply], serializable_moto: None
) -> None:
    answers: list[Reply] = []

    def send() -> None:
        answers.append(messenger(start("idem-gus", "Hello", "key-race")))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.status for a in answers) in ([201, 201], [201, 409])
    created = {a.body["id"] for a in answers if a.status == 201}
    assert len(created) == 1
    assert len(conversations_of(messenger, "idem-gus")) == 1


def test_a_write_whose_answer_could_not_be_stored_is_still_answered_and_not_repeated(
    messenger: Callable[[dict[str, Any]], Reply], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from botocore.exceptions import ClientError

    def throttled(*args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "UpdateItem")

    # The table refuses to store the answer after the conversation was created
    monkeypatch.setattr(DynamoDBPersistenceLayer, "save_success", throttled)
    first = messenger(start("idem-frank", "Hello", "key-3"))

    assert first.status == 201
    assert len(conversations_of(messenger, "idem-frank")) == 1


def test_two_anonymous_callers_with_the_same_key_never_get_each_others_visitor_token(
    messenger: Callable[[dict[str, Any]], Reply],
) -> None:
    # Given two strangers whose messengers happen to send the same Idempotency-Key
    first = messenger(with_key(customised("messenger_api/create_visitor", authorizer=None), "same-key"))
    second = messenger(with_key(customised("messenger_api/create_visitor", authorizer=None), "same-key"))

    # Then each gets a visitor of their own: a public route has no caller to scope a key to
    assert first.status == second.status == 201
    assert first.body["visitor_id"] != second.body["visitor_id"]
    assert first.body["visitor_token"] != second.body["visitor_token"]


def test_keys_are_scoped_to_the_identity_the_authorizer_verified() -> None:
    from helpdesk.api.idempotency import _caller

    from tests.support.events import agent_authorizer

    customer = customised("messenger_api/start_conversation", authorizer=customer_authorizer("x"))
    agent = customised("inbox_api/reply_to_conversation", authorizer=agent_authorizer("x", "frontline"))
    public = customised("messenger_api/create_visitor", authorizer=None)
    forged = customised("messenger_api/create_visitor", authorizer={"principalId": "anonymous"})

    assert (_caller(customer), _caller(agent)) == ("customer:x", "agent:x")
    assert _caller(public) is None
    assert _caller(forged) is None, "a principal id alone is no verified identity"
