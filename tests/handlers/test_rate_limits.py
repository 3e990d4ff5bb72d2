"""Each customer is limited (CUSTOMER_RATE_LIMIT): the same rule as the WAF's, played by the local gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpdesk.auth.customer_tokens import sign_customer_token
from helpdesk.surfaces import CUSTOMER_RATE_LIMIT, RateLimit
from localrt.gateway import LocalGateway
from localrt.rate_limits import RateLimiter, limit_from_environment
from localrt.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_over_the_limit_waits_for_the_window_others_are_not_affected() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(surface="messenger", requests=3, window_seconds=60), clock=clock)
    assert [limiter.allow("Bearer alice") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("Bearer bob")
    clock.now += 61
    assert limiter.allow("Bearer alice")


def test_the_local_limit_can_be_set_and_is_checked() -> None:
    assert limit_from_environment(CUSTOMER_RATE_LIMIT, "5/10") == RateLimit("messenger", 5, 10)
    assert limit_from_environment(CUSTOMER_RATE_LIMIT, None) == CUSTOMER_RATE_LIMIT
    with pytest.raises(ValueError, match="300/60"):
        limit_from_environment(CUSTOMER_RATE_LIMIT, "lots")


def test_the_gateway_answers_429_naming_the_header_and_stores_nothing(
    table: str, messenger_secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LOCAL_CUSTOMER_RATE_LIMIT", "2/60")
    settings = Settings(
        port=0,
        moto_port=0,
        table_name=table,
        workspace_dir=Path("workspace/demo"),
        messenger_secret=messenger_secret,
        agent_secret="agent-secret-for-tests-only-00000",
    )
    gateway = LocalGateway(settings, {})
    token = sign_customer_token(messenger_secret, "rate-alice")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def start(n: int) -> tuple[int, dict[str, str], Any]:
        status, answer_headers, raw = gateway.respond(
            "POST", "/messenger/conversations", headers, json.dumps({"body": f"hello {n}"}).encode()
        )
        return status, answer_headers, json.loads(raw)

    assert [start(n)[0] for n in range(2)] == [201, 201]
    status, answer_headers, body = start(3)
    assert status == 429
    assert answer_headers["Retry-After"] == "60"
    assert body["details"][0]["field"] == "Authorization"
    listed = gateway.respond("GET", "/messenger/conversations", headers, b"")
    assert listed[0] == 429, "the limit counts every request of the customer"
    from helpdesk.adapters.store import TableStores

    stored = TableStores().conversations.list_customer_conversations("rate-alice", cursor=None, limit=10)
    assert len(stored.items) == 2, "the refused request stored nothing"
