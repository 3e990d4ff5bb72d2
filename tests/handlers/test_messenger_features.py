"""The messenger's rules over the handlers: visitors, verification, attachments, the tickets space."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
from helpdesk.auth.customer_tokens import sign_customer_token
from helpdesk.handlers.messenger_authorizer import authorize

from tests.conftest import ATTACHMENTS_BUCKET, MESSENGER_SECRET
from tests.support.events import Reply, agent_authorizer, customised, sample_event

Call = Callable[[dict[str, Any]], Reply]
RETURNS = agent_authorizer("agent-returns", "returns")
JPEG = b"\xff\xd8\xff\xe0" + b"photo-bytes" * 100


def identity(token: str) -> dict[str, Any]:
    """What API Gateway passes the function after the real authorizer accepted ``token``."""
    event = sample_event("messenger_authorizer/request")
    event["headers"]["Authorization"] = f"Bearer {token}"
    policy = authorize(event, MESSENGER_SECRET)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow", policy
    return {"principalId": policy["principalId"], **policy["context"]}


def customer(user_id: str, **claims: Any) -> dict[str, Any]:
    return identity(sign_customer_token(MESSENGER_SECRET, user_id, **claims))


ALICE = customer("alice", name="Alice", email="alice@example.com")
BOB = customer("bob", name="Bob")


def start(messenger: Call, who: dict[str, Any], body: dict[str, Any] | None = None) -> Reply:
    return messenger(
        customised("messenger_api/start_conversation", authorizer=who, body=body or {"body": "Hello there"})
    )


def upload(messenger: Call, who: dict[str, Any], *, content: bytes = JPEG, content_type: str = "image/jpeg") -> str:
    reply = messenger(
        customised(
            "messenger_api/create_attachment",
            authorizer=who,
            body={"filename": "lid.jpg", "content_type": content_type, "size": len(content)},
        )
    )
    assert reply.status == 201, reply.body
    post = reply.body["upload"]
    stored = requests.post(post["url"], data=post["fields"], files={"file": ("lid.jpg", content)}, timeout=10)
    assert stored.status_code in (200, 204), stored.text
    return str(reply.body["attachment_id"])


def objects_in_bucket() -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=ATTACHMENTS_BUCKET)
    return [o["Key"] for o in listing.get("Contents", [])]


def convert(inbox: Call, conversation_id: str) -> dict[str, Any]:
    reply = inbox(
        customised(
            "inbox_api/convert_conversation",
            path=f"/inbox/conversations/{conversation_id}/ticket",
            body={"ticket_type_id": "damaged-item", "attributes": {"order_id": "ORD-1", "description": "Cracked"}},
        )
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


def set_state(inbox: Call, ticket: dict[str, Any], state_id: str) -> dict[str, Any]:
    current = inbox(customised("inbox_api/get_ticket", path=f"/inbox/tickets/{ticket['id']}", authorizer=RETURNS)).body
    reply = inbox(
        customised(
            "inbox_api/update_ticket",
            path=f"/inbox/tickets/{ticket['id']}",
            body={"version": current["version"], "state_id": state_id},
            authorizer=RETURNS,
        )
    )
    assert reply.status == 200, reply.body
    return dict(reply.body)


# --- identity -------------------------------------------------------------------------------------


def test_a_visitor_chats_sees_only_their_conversation_and_it_merges_when_they_sign_in(
    messenger: Call, inbox: Call
) -> None:
    # Given an anonymous visitor with a token from the messenger
    issued = messenger(sample_event("messenger_api/create_visitor"))
    assert issued.status == 201
    visitor = identity(issued.body["visitor_token"])
    conversation_id = start(messenger, visitor, {"body": "Do you ship to Norway?"}).body["id"]
    path = f"/messenger/conversations/{conversation_id}"

    # Then the visitor reads it, nobody else does, and the agent sees a visitor
    assert messenger(customised("messenger_api/get_conversation", path=path, authorizer=visitor)).status == 200
    assert messenger(customised("messenger_api/get_conversation", path=path, authorizer=ALICE)).status == 404
    agent_view = inbox(customised("inbox_api/get_conversation", path=f"/inbox/conversations/{conversation_id}"))
    assert agent_view.body["customer"]["is_visitor"] is True

    # When the visitor signs in as Alice and the messenger sends the visitor token along
    merged = messenger(
        customised("messenger_api/identify", authorizer=ALICE, body={"visitor_token": issued.body["visitor_token"]})
    )

    # Then the conversation is Alice's history, and the visitor token no longer opens it
    assert merged.status == 200
    assert merged.body == {"merged": 1}
    mine = messenger(customised("messenger_api/list_conversations", authorizer=ALICE))
    assert [c["id"] for c in mine.body["items"]] == [conversation_id]
    assert messenger(customised("messenger_api/get_conversation", path=path, authorizer=ALICE)).status == 200
    assert messenger(customised("messenger_api/get_conversation", path=path, authorizer=visitor)).status == 404


def test_identify_refuses_a_token_that_is_not_a_visitors(messenger: Call) -> None:
    not_a_visitor = sign_customer_token(MESSENGER_SECRET, "bob")
    forged = sign_customer_token("some-other-secret-entirely-and-long-enough", "visitor:x", visitor=True)

    for token in (not_a_visitor, forged):
        reply = messenger(customised("messenger_api/identify", authorizer=ALICE, body={"visitor_token": token}))
        assert reply.status == 422
        assert reply.body["details"][0]["field"] == "visitor_token"


def test_signed_attributes_are_verified_and_page_attributes_unverified_for_the_agent(
    messenger: Call, inbox: Call
) -> None:
    signed = customer("carol", attributes={"plan": "gold"})
    body = {"body": "Hi", "context": {"page_url": "https://shop.example.com", "attributes": {"plan": "platinum"}}}
    conversation_id = start(messenger, signed, body).body["id"]

    detail = inbox(customised("inbox_api/get_conversation", path=f"/inbox/conversations/{conversation_id}")).body
    ticket = convert(inbox, conversation_id)

    assert detail["customer"]["verified_attributes"] == {"plan": "gold"}
    assert detail["context"]["attributes"] == {"plan": "platinum"}
    assert ticket["verified_attributes"] == {"plan": "gold"}
    assert ticket["context"]["attributes"] == {"plan": "platinum"}


def test_agents_never_see_a_token_that_was_in_the_customers_page_address(messenger: Call, inbox: Call) -> None:
    # Given a shop page whose address carries a sign-in token in its fragment and an API key in its query
    context = {
        "page_url": "https://shop.example.com/orders/ORD-1001?api_key=k-123&tab=items#token=eyJhbGciOi.secret",
        "referrer": "https://id.example.com/callback?code=one-time-code&lang=en",
    }

    # When the customer starts a conversation from it
    conversation_id = start(messenger, ALICE, {"body": "Hi", "context": context}).body["id"]

    # Then the agent sees where they were, and none of the secrets
    detail = inbox(customised("inbox_api/get_conversation", path=f"/inbox/conversations/{conversation_id}")).body
    assert detail["context"]["page_url"] == "https://shop.example.com/orders/ORD-1001?tab=items"
    assert detail["context"]["referrer"] == "https://id.example.com/callback?lang=en"


def test_in_app_verification_is_requested_by_the_agent_and_recorded_for_them(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger, ALICE).body["id"]
    asked = inbox(
        customised(
            "inbox_api/request_verification", path=f"/inbox/conversations/{conversation_id}/verification-request"
        )
    )
    assert asked.status == 201
    seen = messenger(
        customised(
            "messenger_api/get_conversation", path=f"/messenger/conversations/{conversation_id}", authorizer=ALICE
        )
    )
    assert seen.body["messages"][-1]["kind"] == "verification_request"

    stale = customer("alice", now=time.time() - 3600, ttl_seconds=7200)
    refused = messenger(
        customised(
            "messenger_api/verify_identity", path=f"/messenger/conversations/{conversation_id}/verify", authorizer=stale
        )
    )
    verified = messenger(
        customised(
            "messenger_api/verify_identity",
            path=f"/messenger/conversations/{conversation_id}/verify",
            authorizer=customer("alice"),
        )
    )
    bob_tries = messenger(
        customised(
            "messenger_api/verify_identity",
            path=f"/messenger/conversations/{conversation_id}/verify",
            authorizer=customer("bob"),
        )
    )

    assert refused.status == 422
    assert verified.status == 201
    assert bob_tries.status == 404
    detail = inbox(customised("inbox_api/get_conversation", path=f"/inbox/conversations/{conversation_id}")).body
    assert detail["customer"]["identity_verified_at"] is not None
    assert detail["messages"][-1]["kind"] == "identity_verified"


# --- conversations --------------------------------------------------------------------------------


def test_a_closed_conversation_takes_no_more_messages(messenger: Call) -> None:
    conversation_id = start(messenger, ALICE).body["id"]
    path = f"/messenger/conversations/{conversation_id}"

    closed = messenger(customised("messenger_api/close_conversation", path=f"{path}/close", authorizer=ALICE))
    by_bob = messenger(customised("messenger_api/close_conversation", path=f"{path}/close", authorizer=BOB))
    late = messenger(
        customised("messenger_api/send_message", path=f"{path}/messages", authorizer=ALICE, body={"body": "hello?"})
    )

    assert closed.status == 200
    assert closed.body["status"] == "closed"
    assert by_bob.status == 404
    assert late.status == 409


def test_messages_are_kept_as_plain_text(messenger: Call) -> None:
    script = "<script>alert('x')</script><b>bold</b>"
    reply = start(messenger, ALICE, {"body": script})
    assert reply.body["messages"][0]["body"] == script


def test_a_message_over_the_limit_is_422_and_a_huge_body_is_413(messenger: Call) -> None:
    too_long = start(messenger, ALICE, {"body": "x" * 5001})
    huge = messenger(
        customised("messenger_api/start_conversation", authorizer=ALICE, raw_body=json.dumps({"body": "x" * 70_000}))
    )

    assert too_long.status == 422
    assert huge.status == 413
    assert huge.body["error"] == "payload_too_large"
    assert messenger(customised("messenger_api/list_conversations", authorizer=ALICE)).body["items"] == []


# --- attachments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"filename": "run.exe", "content_type": "application/x-msdownload", "size": 100}, "content_type"),
        ({"filename": "huge.jpg", "content_type": "image/jpeg", "size": 11 * 1024 * 1024}, "size"),
        ({"filename": "film.mp4", "content_type": "video/mp4", "size": 51 * 1024 * 1024}, "size"),
        ({"filename": "", "content_type": "image/png", "size": 10}, "filename"),
        ({"filename": "x.png", "content_type": "image/png", "size": 0}, "size"),
    ],
)
def test_disallowed_or_oversized_uploads_are_refused_before_anything_is_stored(
    messenger: Call, request_body: dict[str, Any], field: str
) -> None:
    reply = messenger(customised("messenger_api/create_attachment", authorizer=ALICE, body=request_body))

    assert reply.status == 422
    assert field in [d["field"] for d in reply.body["details"]]
    assert objects_in_bucket() == []


def test_a_photo_shared_in_a_ticketed_conversation_lands_on_the_ticket_and_only_its_owner_downloads_it(
    messenger: Call, inbox: Call
) -> None:
    conversation_id = start(messenger, ALICE, {"body": "It arrived broken"}).body["id"]
    ticket = convert(inbox, conversation_id)
    attachment_id = upload(messenger, ALICE)

    sent = messenger(
        customised(
            "messenger_api/send_message",
            path=f"/messenger/conversations/{conversation_id}/messages",
            authorizer=ALICE,
            body={"body": "", "attachment_ids": [attachment_id]},
        )
    )

    assert sent.status == 201
    assert sent.body["attachments"][0]["id"] == attachment_id
    timeline = messenger(
        customised("messenger_api/get_ticket", path=f"/messenger/tickets/{ticket['id']}", authorizer=ALICE)
    ).body["timeline"]
    assert [p["attachments"][0]["id"] for p in timeline if p["type"] == "attachment"] == [attachment_id]
    mine = messenger(
        customised(
            "messenger_api/download_attachment", path=f"/messenger/attachments/{attachment_id}", authorizer=ALICE
        )
    )
    assert mine.status == 200
    assert requests.get(mine.body["url"], timeout=10).content == JPEG
    bobs = messenger(
        customised("messenger_api/download_attachment", path=f"/messenger/attachments/{attachment_id}", authorizer=BOB)
    )
    assert bobs.status == 404
    agents = inbox(
        customised("inbox_api/download_attachment", path=f"/inbox/attachments/{attachment_id}", authorizer=RETURNS)
    )
    assert agents.status == 200
    other_team = inbox(customised("inbox_api/download_attachment", path=f"/inbox/attachments/{attachment_id}"))
    assert other_team.status == 403  # the frontline agent of the sample event: the ticket is returns'


def test_attachments_that_are_not_yours_not_uploaded_or_already_sent_are_refused(messenger: Call) -> None:
    conversation_id = start(messenger, ALICE).body["id"]
    path = f"/messenger/conversations/{conversation_id}/messages"
    bobs = upload(messenger, BOB)
    never_uploaded = messenger(
        customised(
            "messenger_api/create_attachment",
            authorizer=ALICE,
            body={"filename": "a.png", "content_type": "image/png", "size": 10},
        )
    ).body["attachment_id"]
    used = upload(messenger, ALICE)
    first = messenger(
        customised("messenger_api/send_message", path=path, authorizer=ALICE, body={"attachment_ids": [used]})
    )
    assert first.status == 201

    for ids in ([bobs], [never_uploaded], [used]):
        reply = messenger(
            customised("messenger_api/send_message", path=path, authorizer=ALICE, body={"attachment_ids": ids})
        )
        assert reply.status == 422, ids
    page = messenger(
        customised(
            "messenger_api/get_conversation", path=f"/messenger/conversations/{conversation_id}", authorizer=ALICE
        )
    )
    assert len(page.body["messages"]) == 2


# --- the tickets space ----------------------------------------------------------------------------


def test_a_customer_reply_while_waiting_on_them_moves_the_ticket_back_to_in_progress(
    messenger: Call, inbox: Call
) -> None:
    ticket = convert(inbox, start(messenger, ALICE).body["id"])
    set_state(inbox, ticket, "awaiting-photos")

    reply = messenger(
        customised(
            "messenger_api/reply_to_ticket",
            path=f"/messenger/tickets/{ticket['id']}/replies",
            authorizer=ALICE,
            body={"body": "Here you go"},
        )
    )

    assert reply.status == 201
    detail = messenger(
        customised("messenger_api/get_ticket", path=f"/messenger/tickets/{ticket['id']}", authorizer=ALICE)
    )
    assert detail.body["state"] == {"id": "assessing", "category": "in_progress", "label": "We're looking into it"}
    assert (
        messenger(
            customised(
                "messenger_api/reply_to_ticket",
                path=f"/messenger/tickets/{ticket['id']}/replies",
                authorizer=BOB,
                body={"body": "me too"},
            )
        ).status
        == 404
    )


def test_csat_is_taken_once_and_only_after_resolution(messenger: Call, inbox: Call) -> None:
    ticket = convert(inbox, start(messenger, ALICE).body["id"])
    path = f"/messenger/tickets/{ticket['id']}/rating"

    early = messenger(customised("messenger_api/rate_ticket", path=path, authorizer=ALICE, body={"score": 5}))
    set_state(inbox, ticket, "replaced")
    out_of_range = messenger(customised("messenger_api/rate_ticket", path=path, authorizer=ALICE, body={"score": 6}))
    rated = messenger(
        customised("messenger_api/rate_ticket", path=path, authorizer=ALICE, body={"score": 4, "comment": "Good"})
    )
    again = messenger(customised("messenger_api/rate_ticket", path=path, authorizer=ALICE, body={"score": 1}))
    bobs = messenger(customised("messenger_api/rate_ticket", path=path, authorizer=BOB, body={"score": 1}))

    assert early.status == 409
    assert out_of_range.status == 422
    assert rated.status == 201
    assert again.status == 409
    assert bobs.status == 404
    detail = messenger(
        customised("messenger_api/get_ticket", path=f"/messenger/tickets/{ticket['id']}", authorizer=ALICE)
    )
    assert detail.body["rating"]["score"] == 4
    assert detail.body["timeline"][-1]["type"] == "rating"


def test_notification_preferences_need_a_way_to_reach_the_customer(messenger: Call) -> None:
    with_phone = customer("dana", email="dana@example.com", phone="+447700900123")
    no_phone = customer("erin", email="erin@example.com")

    defaults = messenger(customised("messenger_api/get_preferences", authorizer=no_phone))
    refused = messenger(
        customised(
            "messenger_api/set_preferences", authorizer=no_phone, body={"messenger": True, "email": True, "sms": True}
        )
    )
    saved = messenger(
        customised(
            "messenger_api/set_preferences",
            authorizer=with_phone,
            body={"messenger": True, "email": False, "sms": True},
        )
    )
    read_back = messenger(customised("messenger_api/get_preferences", authorizer=with_phone))

    assert defaults.body == {"messenger": True, "email": True, "sms": False}
    assert refused.status == 422
    assert refused.body["details"][0]["field"] == "sms"
    assert saved.status == 200
    assert read_back.body == {"messenger": True, "email": False, "sms": True}
