"""``POST /messenger/identify`` reads a token from the body: a malformed one is a 422 naming it, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings

from tests.conftest import MESSENGER_SECRET
from tests.support.events import Reply, customer_authorizer, customised
from tests.support.fuzzing import malformed_tokens

Call = Callable[[dict[str, Any]], Reply]
ALICE = customer_authorizer("alice", "Alice")


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(token=malformed_tokens(MESSENGER_SECRET))
def test_a_malformed_visitor_token_is_a_422_naming_it_and_merges_nothing(messenger: Call, token: str) -> None:
    reply = messenger(
        customised("messenger_api/identify", authorizer=ALICE, raw_body=json.dumps({"visitor_token": token}))
    )

    assert reply.status == 422, reply.body
    assert [d["field"] for d in reply.body["details"]] == ["visitor_token"]
    listed = messenger(customised("messenger_api/list_conversations", authorizer=ALICE, query={}))
    assert listed.body["items"] == []
