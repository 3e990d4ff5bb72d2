"""The customer token rules and the messenger authorizer built on them."""

from __future__ import annotations

import time

import jwt
import pytest
from helpdesk.auth.customer_tokens import (
    TokenRejected,
    bearer_token,
    issue_visitor_token,
    sign_customer_token,
    verify_customer_token,
)
from helpdesk.handlers.messenger_authorizer import authorize

from tests.support.events import sample_event

SECRET = "test-messenger-secret-with-enough-length"


def test_a_well_signed_token_identifies_the_customer() -> None:
    token = sign_customer_token(SECRET, "cust-1", email="c@example.com", name="Cee")

    identity = verify_customer_token(token, SECRET)

    assert (identity.user_id, identity.email, identity.name) == ("cust-1", "c@example.com", "Cee")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: sign_customer_token(SECRET, "c", ttl_seconds=-3600), "expired"),
        (lambda: sign_customer_token("another-secret-entirely-different", "c"), "signature"),
        (lambda: sign_customer_token(SECRET, "c", ttl_seconds=3 * 24 * 3600), "24 hours"),
        (lambda: jwt.encode({"user_id": "c", "exp": int(time.time()) + 60}, "", algorithm="none"), "HS256"),
        (lambda: jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256"), "user_id"),
        (lambda: jwt.encode({"user_id": "c"}, SECRET, algorithm="HS256"), "exp"),
        (lambda: jwt.encode({"user_id": "", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"), "user_id"),
        (lambda: "not.a.jwt", "well-formed"),
    ],
)
def test_untrustworthy_tokens_are_refused_with_a_reason(token, reason: str) -> None:
    with pytest.raises(TokenRejected) as refused:
        verify_customer_token(token(), SECRET)
    assert reason in refused.value.reason


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "token"])
def test_the_header_must_be_a_bearer_token(header: str | None) -> None:
    with pytest.raises(TokenRejected):
        bearer_token(header)


def test_the_authorizer_allows_every_route_of_the_stage_and_passes_the_identity() -> None:
    event = sample_event("messenger_authorizer/request")
    event["headers"]["Authorization"] = f"Bearer {sign_customer_token(SECRET, 'cust-9', name='Nine')}"

    policy = authorize(event, SECRET)

    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"
    context = policy["context"]
    assert {k: context[k] for k in ("user_id", "principal_type", "name")} == {
        "user_id": "cust-9",
        "principal_type": "customer",
        "name": "Nine",
    }
    assert all(isinstance(v, str) for v in context.values())


def test_the_authorizer_denies_with_the_reason_and_never_echoes_the_token() -> None:
    event = sample_event("messenger_authorizer/request")
    expired = sign_customer_token(SECRET, "cust-9", ttl_seconds=-600)
    event["headers"]["Authorization"] = f"Bearer {expired}"

    policy = authorize(event, SECRET)

    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert policy["context"] == {"reason": "token has expired"}
    assert expired not in str(policy)


def test_signed_attributes_and_phone_travel_to_the_function_as_authorizer_context() -> None:
    event = sample_event("messenger_authorizer/request")
    token = sign_customer_token(SECRET, "cust-7", phone="+447700900123", attributes={"plan": "gold", "orders": 12})
    event["headers"]["Authorization"] = f"Bearer {token}"

    context = authorize(event, SECRET)["context"]

    assert context["phone"] == "+447700900123"
    assert context["attributes"] == '{"orders":"12","plan":"gold"}'


def test_visitor_tokens_are_recognised_and_business_tokens_cannot_claim_a_visitor_id() -> None:
    visitor = verify_customer_token(issue_visitor_token(SECRET, "01VISITOR"), SECRET)
    assert visitor.is_visitor
    assert visitor.user_id == "visitor:01VISITOR"

    with pytest.raises(TokenRejected, match="visitor"):
        verify_customer_token(sign_customer_token(SECRET, "visitor:01VISITOR"), SECRET)


@pytest.mark.parametrize("attributes", [["a"], {"k": {"nested": 1}}, {f"k{n}": n for n in range(31)}])
def test_malformed_signed_attributes_are_refused(attributes: object) -> None:
    with pytest.raises(TokenRejected, match="attributes"):
        verify_customer_token(sign_customer_token(SECRET, "c", attributes=attributes), SECRET)
