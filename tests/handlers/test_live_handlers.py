"""The live channel's Lambda functions with their sample events: the authorizer, the socket routes, the fan-out."""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from helpdesk import wiring
from helpdesk.auth.agent_tokens import CognitoPool, RsaKey
from helpdesk.auth.customer_tokens import issue_visitor_token, sign_customer_token
from helpdesk.domain.live import PROTOCOL
from helpdesk.handlers import live_authorizer

from tests.conftest import MESSENGER_SECRET
from tests.services.test_live import Screens
from tests.support.events import FakeLambdaContext, sample_event

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
CLIENT = "inbox-page-client"


@pytest.fixture
def screens(monkeypatch: pytest.MonkeyPatch) -> Screens:
    """Frames the functions post to the management API, recorded instead."""
    recorded = Screens()
    monkeypatch.setattr(wiring, "live_connections", lambda: recorded)
    return recorded


@pytest.fixture
def socket(table: str, screens: Screens) -> Any:
    from helpdesk.handlers import live_socket

    wiring.reset()
    return lambda event: live_socket.lambda_handler(event, FakeLambdaContext())


def routed(name: str, **body: Any) -> dict[str, Any]:
    event = copy.deepcopy(sample_event(f"live_socket/{name}"))
    if body:
        event["body"] = json.dumps(body)
    return event


# --- the socket's routes ------------------------------------------------------------------------------


def test_connecting_records_the_connection_and_answers_the_subprotocol(socket: Any) -> None:
    answer = socket(sample_event("live_socket/connect"))

    assert answer == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": PROTOCOL}}
    listeners = wiring.stores().live.listeners("customer#demo-customer-1")
    assert [s.connection_id for s in listeners] == ["Ja2MZdMMoAMCJhQ="]


def test_a_connect_without_the_authorizer_s_identity_is_refused(socket: Any) -> None:
    event = sample_event("live_socket/connect")
    event["requestContext"]["authorizer"] = {}

    answer = socket(event)

    assert answer["statusCode"] == 401
    assert wiring.stores().live.listeners("customer#demo-customer-1") == []


def test_an_agent_who_chose_away_says_so_when_connecting(socket: Any) -> None:
    event = sample_event("live_socket/connect")
    event["requestContext"]["authorizer"] = {"principal_type": "agent", "sub": "agent-frank", "groups": "frontline"}
    event["queryStringParameters"] = {"presence": "sleepy"}

    assert socket(event)["statusCode"] == 400
    event["queryStringParameters"] = {"presence": "away"}
    assert socket(event)["statusCode"] == 200
    assert [s.id for s in wiring.stores().live.listeners("team#frontline")] == ["agent-frank"]


def test_ping_is_answered_on_the_socket(socket: Any) -> None:
    socket(sample_event("live_socket/connect"))

    answer = socket(routed("ping"))

    frame = json.loads(answer["body"])
    assert frame["type"] == "pong"
    assert frame["data"] == {"connection_id": "Ja2MZdMMoAMCJhQ="}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        (json.dumps({"action": "watch"}), "conversation_id"),
        (json.dumps({"action": "watch", "conversation_id": "../../etc"}), "conversation_id"),
        (json.dumps({"action": "typing", "conversation_id": "X", "surprise": 1}), "surprise"),
        (json.dumps({"action": "dance"}), "action"),
    ],
)
def test_a_bad_message_gets_an_error_frame_naming_the_field(
    socket: Any, screens: Screens, body: str, field: str
) -> None:
    socket(sample_event("live_socket/connect"))
    event = routed("watch")
    event["body"] = body
    if "dance" in body:
        event["requestContext"]["routeKey"] = "$default"

    answer = socket(event)

    assert answer == {"statusCode": 200}
    [frame] = screens.of("Ja2MZdMMoAMCJhQ=", "error")
    assert frame["data"]["error"] == "validation_error"
    assert field in [d["field"] for d in frame["data"]["details"]]


def test_watching_someone_else_s_conversation_is_not_found(socket: Any, screens: Screens) -> None:
    socket(sample_event("live_socket/connect"))

    socket(routed("watch"))

    [frame] = screens.of("Ja2MZdMMoAMCJhQ=", "error")
    assert frame["data"]["error"] == "not_found"


def test_disconnecting_forgets_the_connection(socket: Any) -> None:
    socket(sample_event("live_socket/connect"))

    assert socket(sample_event("live_socket/disconnect")) == {"statusCode": 200}
    assert wiring.stores().live.listeners("customer#demo-customer-1") == []


# --- the fan-out ---------------------------------------------------------------------------------------


def test_the_fan_out_posts_an_agent_s_reply_to_its_customer(socket: Any, screens: Screens) -> None:
    from helpdesk.handlers import live_fanout

    event = sample_event("live_fanout/agent_reply")
    customer = event["Records"][0]["dynamodb"]["NewImage"]["customer_id"]["S"]
    connect = sample_event("live_socket/connect")
    connect["requestContext"]["authorizer"] |= {"user_id": customer, "principalId": customer}
    socket(connect)

    answer = live_fanout.lambda_handler(event, FakeLambdaContext())

    assert answer == {"batchItemFailures": []}
    [frame] = screens.of("Ja2MZdMMoAMCJhQ=", "message.created")
    assert frame["data"]["body"] == "So sorry! A replacement is on its way."


def test_the_fan_out_refuses_a_record_that_isn_t_one(socket: Any) -> None:
    from helpdesk.adapters.stream_records import StreamRecordInvalid
    from helpdesk.handlers import live_fanout

    with pytest.raises(StreamRecordInvalid):
        live_fanout.lambda_handler({"Records": [{"eventName": "INSERT"}]}, FakeLambdaContext())


# --- the authorizer ----------------------------------------------------------------------------------


def authorizer_event(token: str | None, *, where: str = "protocol") -> dict[str, Any]:
    event = copy.deepcopy(sample_event("live_authorizer/connect"))
    if where == "protocol":
        event["headers"]["Sec-WebSocket-Protocol"] = f"{PROTOCOL}, {token}" if token else PROTOCOL
    else:
        event["headers"].pop("Sec-WebSocket-Protocol")
        event["queryStringParameters"] = {"token": token}
    return event


def decide(event: dict[str, Any], *, keys: Mapping[str, RsaKey] | None = None) -> dict[str, Any]:
    return live_authorizer.authorize(
        event,
        messenger_secret=lambda: MESSENGER_SECRET,
        agent_keys=lambda kid: keys or {},
        pool=CognitoPool(issuer=ISSUER, client_ids=frozenset({CLIENT})),
    )


@pytest.mark.parametrize("where", ["protocol", "query"])
def test_a_customer_token_lets_its_customer_in_wherever_it_rides(where: str) -> None:
    token = sign_customer_token(MESSENGER_SECRET, "alice", name="Alice")

    policy = decide(authorizer_event(token, where=where))

    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["context"] == {"principal_type": "customer", "user_id": "alice", "name": "Alice"}


def test_a_visitor_is_let_in_as_a_visitor() -> None:
    policy = decide(authorizer_event(issue_visitor_token(MESSENGER_SECRET, "v1")))

    assert policy["context"]["principal_type"] == "visitor"


@pytest.mark.parametrize(
    "token",
    [
        None,
        "not-a-jwt",
        sign_customer_token("another-secret-of-some-length-too-long", "alice"),
        sign_customer_token(MESSENGER_SECRET, "alice", ttl_seconds=-120),
    ],
)
def test_no_token_or_a_bad_one_is_denied(token: str | None) -> None:
    policy = decide(authorizer_event(token))

    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert policy["context"]["reason"]


# --- agents' Cognito ID tokens -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: Any, kid: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()

    def b64(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode().rstrip("=")

    return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64(numbers.n), "e": b64(numbers.e)}


def id_token(key: Any, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "agent-frank",
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "cognito:groups": ["frontline", "leads"],
        "name": "Frank",
        "email": "frank@example.com",
        "exp": now + 3600,
        "iat": now,
    } | overrides
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_an_agent_s_cognito_id_token_lets_the_agent_in_with_their_groups(pool_key: Any) -> None:
    keys = {"k1": RsaKey.from_jwk(jwk(pool_key, "k1"))}

    policy = decide(authorizer_event(id_token(pool_key)), keys=keys)

    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["context"] == {
        "principal_type": "agent",
        "sub": "agent-frank",
        "groups": "frontline,leads",
        "name": "Frank",
        "email": "frank@example.com",
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 300},
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool"},
        {"aud": "some-other-app"},
        {"token_use": "access"},
    ],
)
def test_an_agent_token_for_something_else_is_denied(pool_key: Any, overrides: dict[str, Any]) -> None:
    keys = {"k1": RsaKey.from_jwk(jwk(pool_key, "k1"))}

    policy = decide(authorizer_event(id_token(pool_key, **overrides)), keys=keys)

    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_an_agent_token_signed_with_another_key_or_tampered_with_is_denied(pool_key: Any) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = {"k1": RsaKey.from_jwk(jwk(pool_key, "k1"))}
    forged = id_token(other)
    header, payload, signature = id_token(pool_key).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "==")) | {"cognito:groups": ["admins"]}
    tampered = ".".join((header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), signature))

    for token in (forged, tampered):
        assert decide(authorizer_event(token), keys=keys)["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_the_authorizer_function_fetches_the_pool_s_keys_once(
    pool_key: Any, monkeypatch: pytest.MonkeyPatch, messenger_secret: str
) -> None:
    from helpdesk.adapters import cognito_keys

    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return json.dumps({"keys": [jwk(pool_key, "k1")]}).encode()

    monkeypatch.setattr(cognito_keys.CognitoKeys, "_get", staticmethod(fetch))
    monkeypatch.setenv("COGNITO_USER_POOL_ID", "us-east-1_TestPool")
    monkeypatch.setenv("COGNITO_CLIENT_IDS", CLIENT)
    wiring.reset()
    handler = live_authorizer.lambda_handler

    first = handler(authorizer_event(id_token(pool_key)), FakeLambdaContext())
    second = handler(authorizer_event(id_token(pool_key, sub="agent-rita")), FakeLambdaContext())

    assert [first["principalId"], second["principalId"]] == ["agent-frank", "agent-rita"]
    assert fetched == [f"{ISSUER}/.well-known/jwks.json"]


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    wiring.reset()
    yield
    wiring.reset()
