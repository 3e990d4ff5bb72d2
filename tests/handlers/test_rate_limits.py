"""The rate limits (helpdesk.surfaces.RATE_LIMITS): the WAF's rules, played by the local gateway.

Each customer is limited by who they are, not by how their header is spelt; visitor tokens are limited
per client address, so one client can't use up everyone's.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpdesk.auth.customer_tokens import sign_customer_token
from helpdesk.surfaces import CUSTOMER_RATE_LIMIT, RATE_LIMITS, SOURCE_RATE_LIMIT, VISITOR_CREATION_LIMIT
from localrt.gateway import LocalGateway
from localrt.rate_limits import RateLimiter, RateLimits, limits_from_environment
from localrt.settings import Settings

Answer = tuple[int, dict[str, str], Any]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_over_the_limit_waits_for_the_window_others_are_not_affected() -> None:
    clock = Clock()
    limiter = RateLimiter(dataclasses.replace(CUSTOMER_RATE_LIMIT, requests=3, window_seconds=60), clock=clock)
    assert [limiter.allow("customer:alice") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("customer:bob")
    clock.now += 61
    assert limiter.allow("customer:alice")


def test_callers_whose_window_has_passed_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(dataclasses.replace(VISITOR_CREATION_LIMIT, requests=5, window_seconds=60), clock=clock)
    for n in range(1500):
        limiter.allow(f"source:10.0.{n // 256}.{n % 256}")
    clock.now += 61
    for _ in range(1000):
        limiter.allow("source:10.9.9.9")
    assert limiter.callers() == 1


def test_the_local_limits_can_be_set_by_name_and_are_checked() -> None:
    limits = limits_from_environment(RATE_LIMITS, {"LOCAL_CUSTOMER_RATE_LIMIT": "5/10"})
    assert dataclasses.replace(CUSTOMER_RATE_LIMIT, requests=5, window_seconds=10) in limits
    assert VISITOR_CREATION_LIMIT in limits
    assert limits_from_environment(RATE_LIMITS, {}) == list(RATE_LIMITS)
    with pytest.raises(ValueError, match="300/60"):
        limits_from_environment(RATE_LIMITS, {"LOCAL_CUSTOMER_RATE_LIMIT": "lots"})
    assert VISITOR_CREATION_LIMIT.local_override == "LOCAL_VISITOR_CREATION_RATE_LIMIT"


def test_the_per_address_flood_backstop_is_left_to_waf() -> None:
    # Locally every client is 127.0.0.1: a per-address limit on everything would be one budget for all
    assert SOURCE_RATE_LIMIT not in [limiter.limit for limiter in RateLimits(RATE_LIMITS).limiters]


@pytest.fixture
def gateway(table: str, messenger_secret: str, monkeypatch: pytest.MonkeyPatch) -> LocalGateway:
    monkeypatch.setenv("LOCAL_CUSTOMER_RATE_LIMIT", "2/60")
    monkeypatch.setenv("LOCAL_VISITOR_CREATION_RATE_LIMIT", "2/300")
    settings = Settings(
        port=0,
        moto_port=0,
        table_name=table,
        workspace_dir=Path("workspace/demo"),
        messenger_secret=messenger_secret,
        agent_secret="agent-secret-for-tests-only-00000",
    )
    return LocalGateway(settings, {})


def caller(gateway: LocalGateway, authorization: str | None, client: str = "127.0.0.1") -> Callable[..., Answer]:
    def send(method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        headers = {"Content-Type": "application/json"} | ({"Authorization": authorization} if authorization else {})
        raw = json.dumps(body).encode() if body is not None else b""
        status, answer_headers, payload = gateway.respond(method, path, headers, raw, client)
        return status, answer_headers, json.loads(payload)

    return send


def test_the_gateway_answers_429_naming_the_header_and_stores_nothing(
    gateway: LocalGateway, messenger_secret: str
) -> None:
    alice = caller(gateway, f"Bearer {sign_customer_token(messenger_secret, 'rate-alice')}")

    assert [alice("POST", "/messenger/conversations", {"body": f"hello {n}"})[0] for n in range(2)] == [201, 201]
    status, answer_headers, body = alice("POST", "/messenger/conversations", {"body": "hello 3"})
    assert status == 429
    assert answer_headers["Retry-After"] == "60"
    assert body["details"][0]["field"] == "Authorization"
    assert alice("GET", "/messenger/conversations")[0] == 429, "the limit counts every request of the customer"
    from helpdesk.adapters.store import TableStores

    stored = TableStores().conversations.list_customer_conversations("rate-alice", cursor=None, limit=10)
    assert len(stored.items) == 2, "the refused request stored nothing"


@pytest.mark.parametrize("spelling", ["bearer {}", "BEARER {}", "Bearer   {}", "Bearer\t{}", "  bEaReR {}  "])
def test_re_spelling_the_header_gets_no_fresh_budget(
    gateway: LocalGateway, messenger_secret: str, spelling: str
) -> None:
    # Given a customer who used up their budget
    token = sign_customer_token(messenger_secret, "rate-bob")
    usual = caller(gateway, f"Bearer {token}")
    assert [usual("GET", "/messenger/conversations")[0] for _ in range(2)] == [200, 200]

    # When they spell the header another way
    status, _, _ = caller(gateway, spelling.format(token))("GET", "/messenger/conversations")

    # Then it is the same customer, still over the limit
    assert status == 429


def test_a_second_token_of_the_same_customer_gets_no_fresh_budget_locally(
    gateway: LocalGateway, messenger_secret: str
) -> None:
    first = caller(gateway, f"Bearer {sign_customer_token(messenger_secret, 'rate-carol', ttl_seconds=600)}")
    assert [first("GET", "/messenger/conversations")[0] for _ in range(2)] == [200, 200]
    second = caller(gateway, f"Bearer {sign_customer_token(messenger_secret, 'rate-carol', ttl_seconds=900)}")
    assert second("GET", "/messenger/conversations")[0] == 429
    other = caller(gateway, f"Bearer {sign_customer_token(messenger_secret, 'rate-dan')}")
    assert other("GET", "/messenger/conversations")[0] == 200


def test_visitor_tokens_are_limited_per_address_and_one_address_cant_lock_others_out(gateway: LocalGateway) -> None:
    # Given one client asking for visitor tokens as fast as it can
    greedy = caller(gateway, None, client="203.0.113.7")
    answers = [greedy("POST", "/messenger/visitors") for _ in range(4)]

    # Then it gets its share, then 429 naming what it is counted by
    assert [status for status, _, _ in answers] == [201, 201, 429, 429]
    _, headers, body = answers[-1]
    assert headers["Retry-After"] == "300"
    assert body["details"][0]["field"] == "source address"

    # And a visitor arriving from elsewhere still gets a token
    assert caller(gateway, None, client="198.51.100.2")("POST", "/messenger/visitors")[0] == 201


def test_requests_without_a_valid_token_share_no_budget_with_anyone(gateway: LocalGateway) -> None:
    # 401s aren't counted per customer: there is no customer to count them against
    anonymous = caller(gateway, "Bearer not-a-token")
    assert {anonymous("GET", "/messenger/conversations")[0] for _ in range(5)} == {401}
    assert caller(gateway, None)("GET", "/messenger/openapi.json")[0] == 200
