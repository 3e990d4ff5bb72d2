"""Every answer of the API functions carries the security headers, whatever its status.

JSON can't run or be framed (``default-src 'none'; frame-ancestors 'none'``); the one HTML answer,
Swagger UI, runs exactly its own inline blocks, allowed by their hashes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from helpdesk.security_headers import API_POLICY

from tests.handlers.test_messenger_features import ALICE
from tests.support.events import Reply, customised

Call = Callable[[dict[str, Any]], Reply]


def assert_secured(reply: Reply) -> None:
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["strict-transport-security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (customised("messenger_api/start_conversation", authorizer=ALICE, body={"body": "Hello"}), 201),
        (customised("messenger_api/start_conversation", authorizer=ALICE, body={"body": 7}), 422),
        (customised("messenger_api/start_conversation", authorizer=ALICE, raw_body="{not json"), 400),
        (customised("messenger_api/start_conversation", authorizer=ALICE, raw_body="x" * 70_000), 413),
        (customised("messenger_api/get_conversation", path="/messenger/conversations/nope", authorizer=ALICE), 404),
        (customised("messenger_api/openapi"), 200),
    ],
    ids=["created", "invalid", "malformed", "too-large", "not-found", "openapi"],
)
def test_every_messenger_answer_carries_the_security_headers(
    messenger: Call, event: dict[str, Any], status: int
) -> None:
    reply = messenger(event)

    assert reply.status == status
    assert_secured(reply)
    assert reply.headers["content-security-policy"] == API_POLICY.render()


def test_inbox_answers_carry_them_too(inbox: Call) -> None:
    found = inbox(customised("inbox_api/list_conversations"))
    missing = inbox(customised("inbox_api/get_conversation", path="/inbox/conversations/nope"))

    for reply in (found, missing):
        assert_secured(reply)


def test_swagger_ui_runs_only_its_own_inline_script_and_style(messenger: Call) -> None:
    event = customised("messenger_api/openapi", path="/messenger/docs")
    event["resource"] = "/messenger/docs"

    reply = messenger(event)

    assert reply.status == 200
    assert_secured(reply)
    policy = reply.headers["content-security-policy"]
    scripts = re.findall(r"<script>(.*?)</script>", reply.body, re.DOTALL)
    assert scripts, "Swagger UI is served inline"
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy
