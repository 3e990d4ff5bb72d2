"""The email channel's functions with their sample events, and its routes through the local API Gateway
(the real messenger authorizer in front): who can use a link, and who can't."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from helpdesk.auth.customer_tokens import sign_customer_token
from helpdesk.auth.link_tokens import LinkPurpose, issue_link
from localrt.gateway import LocalGateway
from localrt.identities import sign_agent_token
from localrt.settings import Settings

from tests.conftest import MESSENGER_SECRET
from tests.support.events import FakeLambdaContext, Reply, sample_event
from tests.support.mail import EMAIL_KEYS, INBOUND_BUCKET, SUPPORT, customer_email

AGENT_SECRET = "email-routes-agent-secret-for-tests"
MESSENGER_URL = "https://shop.example/messenger/"


@pytest.fixture
def email_env(messenger: Any, inbox: Any, email_channel: None) -> None:
    """The messenger and inbox functions, with the email channel set up (``conftest.email_channel``)."""


class Gateway:
    def __init__(self, tmp_path: Path) -> None:
        settings = Settings(
            port=0,
            moto_port=0,
            table_name="unused",
            workspace_dir=tmp_path,
            messenger_secret=MESSENGER_SECRET,
            agent_secret=AGENT_SECRET,
        )
        self._gateway = LocalGateway(settings, {})

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> Reply:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else b""
        status, response_headers, raw = self._gateway.respond(method, path, headers, payload)
        text = raw.decode()
        is_json = "json" in response_headers.get("Content-Type", "")
        return Reply(status=status, body=json.loads(text) if is_json and text else text, headers=response_headers)


@pytest.fixture
def gateway(email_env: None, tmp_path: Path) -> Gateway:
    return Gateway(tmp_path)


ALICE = sign_customer_token(MESSENGER_SECRET, "alice", email="alice@example.com", name="Alice")
AGENT = sign_agent_token(AGENT_SECRET, "agent-frank", ["frontline", "returns", "email"])
STRANGER_AGENT = sign_agent_token(AGENT_SECRET, "agent-bea", ["billing"])


def alice_ticket(gateway: Gateway, *, resolved: bool = False) -> dict[str, Any]:
    conversation = gateway.call("POST", "/messenger/conversations", ALICE, {"body": "My parcel arrived damaged"}).body
    ticket = gateway.call(
        "POST",
        f"/inbox/conversations/{conversation['id']}/ticket",
        AGENT,
        {"ticket_type_id": "damaged-item", "attributes": {"order_id": "ORD-1001", "description": "crushed box"}},
    ).body
    if resolved:
        ticket = gateway.call(
            "PATCH", f"/inbox/tickets/{ticket['id']}", AGENT, {"version": ticket["version"], "state_id": "replaced"}
        ).body
    return dict(ticket)


def link(ticket_id: str, purpose: LinkPurpose = LinkPurpose.TICKET, **extra: Any) -> str:
    return issue_link(EMAIL_KEYS, customer_id="alice", purpose=purpose, subject_id=ticket_id, ttl_seconds=600, **extra)


# --- the workers --------------------------------------------------------------------------------


def test_the_ingest_worker_turns_a_received_email_into_a_conversation(email_env: None) -> None:
    from helpdesk.handlers import email_ingest

    event = copy.deepcopy(sample_event("email_ingest/received"))
    notification = json.loads(event["Records"][0]["body"])
    key = notification["receipt"]["action"]["objectKey"]
    notification["receipt"]["action"]["bucketName"] = INBOUND_BUCKET
    notification["receipt"]["recipients"] = [SUPPORT]
    event["Records"][0]["body"] = json.dumps(notification)
    boto3.client("s3").put_object(Bucket=INBOUND_BUCKET, Key=key, Body=customer_email())

    result = email_ingest.lambda_handler(event, FakeLambdaContext())
    again = email_ingest.lambda_handler(event, FakeLambdaContext())

    assert result == again == {"batchItemFailures": []}
    conversations = Gateway(Path("/tmp")).call("GET", "/inbox/conversations?team_id=email", AGENT).body["items"]
    assert len(conversations) == 1
    assert conversations[0]["preview"].startswith("Hello,")


def test_a_record_that_isn_t_a_received_email_fails_alone(email_env: None) -> None:
    from helpdesk.handlers import email_ingest

    event = copy.deepcopy(sample_event("email_ingest/received"))
    good = event["Records"][0]
    notification = json.loads(good["body"])
    notification["receipt"]["action"]["bucketName"] = INBOUND_BUCKET
    good["body"] = json.dumps(notification)
    boto3.client("s3").put_object(
        Bucket=INBOUND_BUCKET, Key=notification["receipt"]["action"]["objectKey"], Body=customer_email()
    )
    bad = {**good, "messageId": "not-an-email", "body": json.dumps({"notificationType": "Received", "mail": {}})}
    event["Records"] = [bad, good]

    result = email_ingest.lambda_handler(event, FakeLambdaContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": "not-an-email"}]}


def test_the_feedback_worker_suppresses_bounced_and_complaining_addresses(email_env: None, gateway: Gateway) -> None:
    from helpdesk.handlers import email_feedback
    from helpdesk.services.email_feedback import EmailFeedback

    for name in ("bounce", "complaint"):
        assert email_feedback.lambda_handler(sample_event(f"email_feedback/{name}"), FakeLambdaContext()) == {
            "batchItemFailures": []
        }

    from helpdesk.wiring import email as email_wiring

    feedback = EmailFeedback(email_wiring.email_records())
    assert feedback.suppression("nobody@example.com") is not None
    assert feedback.suppression("annoyed@example.com") is not None


# --- links from emails ----------------------------------------------------------------------------


def test_a_link_opens_a_session_that_sees_that_customer_s_ticket_and_nothing_of_anyone_else(gateway: Gateway) -> None:
    ticket = alice_ticket(gateway)
    bob = sign_customer_token(MESSENGER_SECRET, "bob", email="bob@example.com")
    bobs = gateway.call("POST", "/messenger/conversations", bob, {"body": "Hi, Bob here"}).body

    opened = gateway.call("POST", "/messenger/links", None, {"ticket_id": ticket["id"], "link": link(ticket["id"])})
    session = opened.body["session_token"]

    assert opened.status == 201
    assert opened.body["customer_id"] == "alice"
    assert gateway.call("GET", f"/messenger/tickets/{ticket['id']}", session).status == 200
    assert gateway.call("GET", f"/messenger/conversations/{bobs['id']}", session).status == 404


def test_a_used_link_is_gone_and_says_a_new_one_can_be_sent(gateway: Gateway) -> None:
    ticket = alice_ticket(gateway)
    token = link(ticket["id"])
    gateway.call("POST", "/messenger/links", None, {"ticket_id": ticket["id"], "link": token})

    reused = gateway.call("POST", "/messenger/links", None, {"ticket_id": ticket["id"], "link": token})

    assert reused.status == 410
    assert (reused.body["error"], reused.body["renewable"]) == ("link_used", True)
    assert reused.body["details"][0]["field"] == "link"


def test_an_expired_link_is_gone_and_a_fresh_one_can_be_asked_for(gateway: Gateway) -> None:
    ticket = alice_ticket(gateway)
    old = issue_link(
        EMAIL_KEYS,
        customer_id="alice",
        purpose=LinkPurpose.TICKET,
        subject_id=ticket["id"],
        ttl_seconds=60,
        now=time.time() - 3600,
    )

    expired = gateway.call("POST", "/messenger/links", None, {"ticket_id": ticket["id"], "link": old})
    renewed = gateway.call("POST", "/messenger/links/renewals", None, {"ticket_id": ticket["id"], "link": old})

    assert (expired.status, expired.body["error"]) == (410, "link_expired")
    assert renewed.status == 202
    asked = boto3.client("dynamodb").get_item(
        TableName="helpdesk-test", Key={"PK": {"S": f"LINKRENEW#t#{ticket['id']}#alice"}, "SK": {"S": "ASKED"}}
    )
    assert "Item" in asked, "the request is recorded; the stream has the notifier email the fresh link"


@pytest.mark.parametrize("problem", ["forged", "another ticket", "another customer", "a conversation"])
def test_links_that_aren_t_for_this_ticket_and_customer_open_nothing(gateway: Gateway, problem: str) -> None:
    ticket, other = alice_ticket(gateway), alice_ticket(gateway)
    body: dict[str, Any] = {"ticket_id": ticket["id"], "link": link(ticket["id"])}
    if problem == "forged":
        body["link"] = body["link"][:-4] + ("AAAA" if not body["link"].endswith("AAAA") else "BBBB")
    elif problem == "another ticket":
        body["link"] = link(other["id"])
    elif problem == "another customer":
        body["link"] = issue_link(
            EMAIL_KEYS, customer_id="bob", purpose=LinkPurpose.TICKET, subject_id=ticket["id"], ttl_seconds=600
        )
    else:
        body = {"conversation_id": ticket["id"], "link": link(ticket["id"])}

    opened = gateway.call("POST", "/messenger/links", None, body)
    renewal = gateway.call("POST", "/messenger/links/renewals", None, body)

    assert opened.status == 404, opened.body
    assert "session_token" not in json.dumps(opened.body)
    # A link we signed answers a renewal like any other (the notifier sends nothing for a ticket that
    # isn't the link's customer's: test_email_notifications); anything else is not ours at all.
    assert renewal.status == (202 if problem == "another customer" else 404)


def test_a_link_request_must_say_what_it_is_for(gateway: Gateway) -> None:
    refused = gateway.call("POST", "/messenger/links", None, {"link": "x" * 20})

    assert refused.status == 422
    assert refused.body["details"][0]["field"] == "ticket_id"


def test_an_email_session_can_t_vouch_for_the_customer_like_their_app(gateway: Gateway) -> None:
    ticket = alice_ticket(gateway)
    session = gateway.call(
        "POST", "/messenger/links", None, {"ticket_id": ticket["id"], "link": link(ticket["id"])}
    ).body["session_token"]
    conversation = gateway.call("GET", "/messenger/conversations", session).body["items"][0]

    verified = gateway.call("POST", f"/messenger/conversations/{conversation['id']}/verify", session)

    assert verified.status == 422
    assert "email link" in verified.body["message"]


def test_a_score_link_records_the_rating_once(gateway: Gateway) -> None:
    ticket = alice_ticket(gateway, resolved=True)

    four = gateway.call(
        "POST",
        "/messenger/links",
        None,
        {"ticket_id": ticket["id"], "link": link(ticket["id"], LinkPurpose.CSAT, score=4)},
    )
    one = gateway.call(
        "POST",
        "/messenger/links",
        None,
        {"ticket_id": ticket["id"], "link": link(ticket["id"], LinkPurpose.CSAT, score=1)},
    )

    assert (four.body["rating"]["score"], four.body["rated_now"]) == (4, True)
    assert (one.body["rating"]["score"], one.body["rated_now"]) == (4, False)
    detail = gateway.call("GET", f"/messenger/tickets/{ticket['id']}", four.body["session_token"]).body
    assert detail["rating"]["score"] == 4


# --- the inbox's view of an email conversation ------------------------------------------------------


def test_agents_see_where_an_email_conversation_s_replies_go_and_that_it_is_suppressed(
    gateway: Gateway, email_env: None
) -> None:
    from helpdesk.handlers import email_feedback, email_ingest

    event = copy.deepcopy(sample_event("email_ingest/received"))
    notification = json.loads(event["Records"][0]["body"])
    notification["receipt"]["action"]["bucketName"] = INBOUND_BUCKET
    event["Records"][0]["body"] = json.dumps(notification)
    boto3.client("s3").put_object(
        Bucket=INBOUND_BUCKET, Key=notification["receipt"]["action"]["objectKey"], Body=customer_email()
    )
    email_ingest.lambda_handler(event, FakeLambdaContext())
    complaint = copy.deepcopy(sample_event("email_feedback/complaint"))
    body = json.loads(complaint["Records"][0]["body"])
    body["complaint"]["complainedRecipients"] = [{"emailAddress": "frank@example.net"}]
    complaint["Records"][0]["body"] = json.dumps(body)
    email_feedback.lambda_handler(complaint, FakeLambdaContext())
    [conversation] = gateway.call("GET", "/inbox/conversations?team_id=email", AGENT).body["items"]

    view = gateway.call("GET", f"/inbox/conversations/{conversation['id']}/email", AGENT)
    as_customer = gateway.call("GET", f"/inbox/conversations/{conversation['id']}/email", ALICE)
    other_team = gateway.call("GET", f"/inbox/conversations/{conversation['id']}/email", STRANGER_AGENT)

    assert view.status == 200
    assert view.body["channel"] == "email"
    assert view.body["address"] == "frank@example.net"
    assert view.body["suppressed"]["reason"] == "complaint"
    assert as_customer.status == 401
    assert other_team.status == 403, "agents of another team don't read the email team's conversations"
