"""No token, however malformed, makes a token check fail: each is refused with a reason (401), never an error.

Fuzzed with tests/support/fuzzing.py (thousands of tokens with a defect in their encoding, header, claims
or signature, most signed with the right secret); the cases below pin what fuzzing and probing found.
"""

from __future__ import annotations

import json
import time

import jwt
import pytest
from helpdesk.auth.compact_jwt import MAX_TOKEN_LENGTH
from helpdesk.auth.customer_tokens import TokenRejected, sign_customer_token, verify_customer_token
from helpdesk.handlers.messenger_authorizer import authorize
from hypothesis import HealthCheck, given, settings
from localrt.identities import AgentTokenRejected, agent_claims, sign_agent_token

from tests.support.events import sample_event
from tests.support.fuzzing import authorization_headers, b64, malformed_tokens, signed

SECRET = "test-messenger-secret-with-enough-length"
FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def authorizer_event(authorization: str | None, *more: str) -> dict:
    event = sample_event("messenger_authorizer/request")
    event["headers"] = {"Authorization": authorization} if authorization is not None else {}
    event["multiValueHeaders"] = {"Authorization": [authorization, *more]} if authorization is not None else {}
    return event


def denied_with_reason(policy: dict) -> str:
    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    reason = policy["context"]["reason"]
    # The 401's body is the template '{"message": "$context.authorizer.reason"}': it must stay JSON.
    assert json.loads('{"message": "' + reason + '"}')["message"] == reason
    return str(reason)


@FUZZ
@given(header=authorization_headers(malformed_tokens(SECRET)))
def test_the_authorizer_denies_every_malformed_token_and_never_fails(header: str) -> None:
    # (verify_customer_token raising anything but TokenRejected would fail this test: the authorizer catches only that)
    assert denied_with_reason(authorize(authorizer_event(header), SECRET))


@settings(FUZZ, max_examples=500)
@given(header=authorization_headers(malformed_tokens(SECRET)))
def test_the_local_agent_token_check_refuses_every_malformed_token(header: str) -> None:
    with pytest.raises(AgentTokenRejected) as refused:
        agent_claims(header, SECRET)
    assert refused.value.reason


NOW = int(time.time())
GOOD_CLAIMS = {"user_id": "cust-1", "exp": NOW + 20 * 3600}  # valid however long the test session takes


@pytest.mark.parametrize(
    ("header", "payload", "reason"),
    [
        ({"alg": "HS256", "kid": 1}, GOOD_CLAIMS, "kid"),
        ({"alg": "HS256", "kid": ["a"]}, GOOD_CLAIMS, "kid"),
        ({"alg": "HS256", "crit": ["exp"]}, GOOD_CLAIMS, "not 'crit'"),
        ({"alg": "HS256", "jku": "https://attacker.example/keys"}, GOOD_CLAIMS, "not 'jku'"),
        ({"alg": "HS256", "typ": 7}, GOOD_CLAIMS, "typ"),
        ({"alg": ["HS256"]}, GOOD_CLAIMS, "HS256"),
        ([1, 2], GOOD_CLAIMS, "header must be a JSON object"),
        ({"alg": "HS256"}, [GOOD_CLAIMS], "payload must be a JSON object"),
        ({"alg": "HS256"}, b'{"user_id":"c","exp":4102444800,"iat":Infinity}', "iat"),
        ({"alg": "HS256"}, b'{"user_id":"c","exp":1%s}' % (b"0" * 400), "exp"),
        ({"alg": "HS256"}, b'{"user_id":"c","exp":1e400}', "exp"),
        ({"alg": "HS256"}, b'{"user_id":"c","exp":NaN}', "exp"),
        ({"alg": "HS256"}, b"\xff\xfe{}", "not UTF-8"),
        ({"alg": "HS256"}, {**GOOD_CLAIMS, "user_id": "internal:01HXTICKET"}, "internal:"),
        ({"alg": "HS256"}, {**GOOD_CLAIMS, "user_id": "INTERNAL:01HXTICKET"}, "internal:"),
        ({"alg": "HS256"}, {**GOOD_CLAIMS, "user_id": "line\nbreak"}, "printable"),
        ({"alg": "HS256"}, {**GOOD_CLAIMS, "exp": True}, "exp"),
    ],
)
def test_what_broke_token_checks_is_refused_with_a_clear_reason(header: object, payload: object, reason: str) -> None:
    # Given a token signed with the right secret but shaped wrongly
    raw_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    raw_payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    token = signed(raw_header, raw_payload, SECRET)

    # Then the authorizer denies it, saying why, and so does the local agent check
    assert reason in denied_with_reason(authorize(authorizer_event(f"Bearer {token}"), SECRET))
    with pytest.raises(AgentTokenRejected):
        agent_claims(f"Bearer {token}", SECRET)


def test_a_token_has_one_spelling_padding_or_stray_bits_make_it_another_token() -> None:
    token = sign_customer_token(SECRET, "cust-1")
    head, payload, signature = token.split(".")
    padded = f"{head}.{payload}.{signature}="
    assert len(signature) % 4 == 3  # HS256's 32 bytes: the last character carries 2 bits the decoder drops
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    stray = f"{head}.{payload}.{signature[:-1]}{alphabet[alphabet.index(signature[-1]) ^ 1]}"
    assert jwt.decode(padded, SECRET, algorithms=["HS256"])["user_id"] == "cust-1", "PyJWT alone would accept it"

    for respelt in (padded, stray):
        with pytest.raises(TokenRejected, match=r"canonical|well-formed"):
            verify_customer_token(respelt, SECRET)
    assert verify_customer_token(token, SECRET).user_id == "cust-1"


def test_a_token_longer_than_any_real_one_is_refused_before_it_is_decoded() -> None:
    token = sign_customer_token(SECRET, "cust-1", name="x" * MAX_TOKEN_LENGTH)
    with pytest.raises(TokenRejected, match="longer than"):
        verify_customer_token(token, SECRET)


def test_a_key_id_and_the_jwt_type_are_accepted_as_business_libraries_send_them() -> None:
    claims = json.dumps(GOOD_CLAIMS).encode()
    token = signed(json.dumps({"alg": "HS256", "typ": "jwt", "kid": "2024-rotation"}).encode(), claims, SECRET)
    assert verify_customer_token(token, SECRET).user_id == "cust-1"


SPELLINGS = ["Bearer {}", "bearer {}", "BEARER {}", "Bearer   {}", "Bearer\t{}", " Bearer {} "]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_bearer_scheme_is_read_in_any_case_and_spacing(spelling: str) -> None:
    token = sign_customer_token(SECRET, "cust-2")
    policy = authorize(authorizer_event(spelling.format(token)), SECRET)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["context"]["user_id"] == "cust-2"


def test_two_authorization_headers_are_refused() -> None:
    # Given a request carrying someone's token and a second one (WAF and the authorizer might read different ones)
    mine, other = sign_customer_token(SECRET, "cust-3"), sign_customer_token(SECRET, "cust-4")

    reason = denied_with_reason(authorize(authorizer_event(f"Bearer {mine}", f"Bearer {other}"), SECRET))

    assert "one Authorization header" in reason


def test_a_valid_agent_token_still_gives_the_claims_the_cognito_authorizer_would() -> None:
    claims = agent_claims(f"bearer  {sign_agent_token(SECRET, 'agent-1', ['returns', 'admins'])}", SECRET)
    assert (claims["sub"], claims["cognito:groups"]) == ("agent-1", "returns,admins")


def test_agent_groups_that_are_not_names_are_refused() -> None:
    claims = {"sub": "agent-1", "exp": int(time.time()) + 600, "cognito:groups": [1, {"a": 2}]}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(AgentTokenRejected, match="group names"):
        agent_claims(f"Bearer {token}", SECRET)


def test_the_shape_check_reads_no_more_than_it_must() -> None:
    # A header of 8 KB of nested arrays is refused by its length, not by a recursive parse
    token = f"{b64(b'[' * 6000)}.{b64(b'{}')}.{b64(b'sig')}"
    with pytest.raises(TokenRejected, match=r"longer than|nested|well-formed"):
        verify_customer_token(token, SECRET)
