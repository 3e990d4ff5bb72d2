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
