"""Both API handlers fed with the sample API Gateway events: shapes, statuses, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.events import Reply, agent_authorizer, customer_authorizer, customised, sample_event

Call = Callable[[dict[str, Any]], Reply]
RETURNS = agent_authorizer("agent-returns", "returns")


def start(messenger: Call, user_id: str = "demo-customer-1", body: str = "My parcel arrived damaged") -> Reply:
    sample = json.loads(sample_event("messenger_api/start_conversation")["body"])
    event = customised(
        "messenger_api/start_conversation",
        authorizer=customer_authorizer(user_id, "Alice Demo"),
        body=sample | {"body": body},
    )
    return messenger(event)


def convert(inbox: Call, conversation_id: str, **overrides: Any) -> Reply:
    body = {
        "ticket_type_id": "damaged-item",
        "team_id": "returns",
        "attributes": {"description": "The lid is cracked"},
    } | overrides
    return inbox(
        customised("inbox_api/convert_conversation", path=f"/inbox/conversations/{conversation_id}/ticket", body=body)
    )


def test_starting_a_conversation_returns_it_with_the_first_message(messenger: Call) -> None:
    reply = start(messenger)

    assert reply.status == 201
    assert reply.body["status"] == "open"
    [message] = reply.body["messages"]
    assert message["body"] == "My parcel arrived damaged"
    assert message["author"] == {"type": "customer", "id": "demo-customer-1", "name": "Alice Demo"}
    assert reply.body["next_cursor"] == message["id"]


def test_the_agent_sees_the_context_package_the_customer_sent(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger).body["id"]

    listed = inbox(sample_event("inbox_api/list_conversations"))
    detail = inbox(customised("inbox_api/get_conversation", path=f"/inbox/conversations/{conversation_id}"))

    assert listed.status == 200
    assert [c["id"] for c in listed.body["items"]] == [conversation_id]
    assert detail.body["context"]["object"] == {"type": "order", "id": "ORD-1001"}
    assert detail.body["context"]["device"] == "iPhone 15"
    assert detail.body["customer"]["id"] == "demo-customer-1"


def test_full_path_convert_then_customer_sees_ticket_with_customer_label(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger).body["id"]
    reply = inbox(
        customised(
            "inbox_api/reply_to_conversation",
            path=f"/inbox/conversations/{conversation_id}/replies",
            body={"body": "So sorry! Opening a ticket."},
        )
    )
    assert reply.status == 201

    converted = convert(inbox, conversation_id)

    assert converted.status == 201
    ticket = converted.body
    assert ticket["state"] == {"id": "received", "category": "submitted", "label": "New damage report"}
    assert ticket["attributes"]["order_id"] == "ORD-1001"
    mine = messenger(sample_event("messenger_api/list_tickets"))
    assert mine.status == 200
    [listed] = mine.body["items"]
    assert listed["number"] == ticket["number"]
    assert listed["state"] == {"id": "received", "category": "submitted", "label": "Received"}
    assert "carrier_ref" not in listed["attributes"]
    conversation = messenger(
        customised("messenger_api/get_conversation", path=f"/messenger/conversations/{conversation_id}")
    )
    bodies = [m["body"] for m in conversation.body["messages"]]
    assert "So sorry! Opening a ticket." in bodies
    assert any(f"#{ticket['number']}" in b for b in bodies)


def test_another_customer_gets_404_for_conversations_and_tickets(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger).body["id"]
    ticket_id = convert(inbox, conversation_id).body["id"]
    bob = customer_authorizer("demo-customer-2")

    for event in (
        customised(
            "messenger_api/get_conversation", path=f"/messenger/conversations/{conversation_id}", authorizer=bob
        ),
        customised(
            "messenger_api/send_message", path=f"/messenger/conversations/{conversation_id}/messages", authorizer=bob
        ),
        customised("messenger_api/get_ticket", path=f"/messenger/tickets/{ticket_id}", authorizer=bob),
    ):
        reply = messenger(event)
        assert reply.status == 404, event["path"]
        assert reply.body["error"] == "not_found"
    assert messenger(customised("messenger_api/list_tickets", authorizer=bob)).body["items"] == []


def test_without_authorizer_identity_the_handlers_answer_401(messenger: Call, inbox: Call) -> None:
    assert messenger(customised("messenger_api/list_tickets", authorizer=None)).status == 401
    assert inbox(customised("inbox_api/list_tickets", authorizer=None)).status == 401
    assert inbox(customised("inbox_api/list_tickets", authorizer={"claims": {}})).status == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": "hi", "context": {"page_url": 12}}, "context.page_url"),
        ({"body": "hi", "context": {"object": {"type": "order"}}}, "context.object.id"),
        ({"body": "hi", "colour": "red"}, "colour"),
        ({}, "body"),
    ],
)
def test_bad_conversation_input_is_a_422_naming_the_field(messenger: Call, body: dict, field: str) -> None:
    reply = messenger(customised("messenger_api/start_conversation", body=body))

    assert reply.status == 422
    assert reply.body["error"] == "validation_error"
    assert field in [d["field"] for d in reply.body["details"]]
    assert messenger(sample_event("messenger_api/list_conversations")).body["items"] == []


def test_a_blank_message_is_refused_too(messenger: Call) -> None:
    reply = messenger(customised("messenger_api/start_conversation", body={"body": "   "}))
    assert reply.status == 422
    assert reply.body["details"] == [{"field": "body", "message": "must contain some text"}]


def test_malformed_json_is_a_400(messenger: Call, inbox: Call) -> None:
    reply = messenger(customised("messenger_api/start_conversation", raw_body="{not json"))
    assert reply.status == 400
    assert reply.body["error"] == "malformed_json"
    assert inbox(customised("inbox_api/create_ticket", raw_body="[1,")).status == 400


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"attributes": {}}, "attributes.description"),
        ({"attributes": {"description": ["not", "text"]}}, "attributes.description"),
        ({"ticket_type_id": "unicorn"}, "ticket_type_id"),
        ({"team_id": "marketing"}, "team_id"),
        ({"priority": "whenever"}, "priority"),
    ],
)
def test_bad_ticket_input_is_a_422_and_nothing_is_stored(
    messenger: Call, inbox: Call, overrides: dict, field: str
) -> None:
    conversation_id = start(messenger).body["id"]

    reply = convert(inbox, conversation_id, **overrides)

    assert reply.status == 422, reply.body
    assert field in [d["field"] for d in reply.body["details"]]
    assert messenger(sample_event("messenger_api/list_tickets")).body["items"] == []
    conversation = inbox(customised("inbox_api/get_conversation", path=f"/inbox/conversations/{conversation_id}"))
    assert conversation.body["ticket_id"] is None


def test_patch_changes_state_and_a_stale_version_gets_409(messenger: Call, inbox: Call) -> None:
    ticket = convert(inbox, start(messenger).body["id"]).body
    path = f"/inbox/tickets/{ticket['id']}"

    first = inbox(
        customised(
            "inbox_api/update_ticket",
            path=path,
            body={"version": ticket["version"], "state_id": "assessing"},
            authorizer=RETURNS,
        )
    )
    second = inbox(
        customised(
            "inbox_api/update_ticket",
            path=path,
            body={"version": ticket["version"], "priority": "urgent"},
            authorizer=RETURNS,
        )
    )

    assert first.status == 200
    assert first.body["state"]["category"] == "in_progress"
    assert second.status == 409
    assert second.body["current_version"] == first.body["version"]
    detail = inbox(customised("inbox_api/get_ticket", path=path, authorizer=RETURNS))
    assert detail.body["priority"] == "normal"
    assert detail.body["state"]["id"] == "assessing"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"state_id": "no-such-state"}, 422, "state_id"),
        ({"state_id": "need-info"}, 422, "state_id"),  # a state of refund-request, not damaged-item
        ({"attributes": {"resolution": "a-pony"}}, 422, "attributes.resolution"),
        ({"version": 0}, 422, "version"),
        ({"version": "one"}, 422, "version"),
    ],
)
def test_bad_ticket_changes_are_refused(messenger: Call, inbox: Call, change: dict, status: int, field: str) -> None:
    ticket = convert(inbox, start(messenger).body["id"]).body

    reply = inbox(
        customised(
            "inbox_api/update_ticket",
            path=f"/inbox/tickets/{ticket['id']}",
            body={"version": ticket["version"]} | change,
            authorizer=RETURNS,
        )
    )

    assert reply.status == status
    assert field in [d["field"] for d in reply.body["details"]]
    assert (
        inbox(customised("inbox_api/get_ticket", path=f"/inbox/tickets/{ticket['id']}", authorizer=RETURNS)).body[
            "version"
        ]
        == ticket["version"]
    )


def test_agents_of_another_team_get_403_on_changes(messenger: Call, inbox: Call) -> None:
    ticket = convert(inbox, start(messenger).body["id"]).body
    frontline = sample_event("inbox_api/update_ticket")["requestContext"]["authorizer"]

    reply = inbox(
        customised(
            "inbox_api/update_ticket",
            path=f"/inbox/tickets/{ticket['id']}",
            body={"version": ticket["version"], "priority": "low"},
            authorizer=frontline,
        )
    )
    admin = inbox(
        customised(
            "inbox_api/update_ticket",
            path=f"/inbox/tickets/{ticket['id']}",
            body={"version": ticket["version"], "priority": "low"},
            authorizer=agent_authorizer("agent-admin", "admins"),
        )
    )

    assert reply.status == 403
    assert admin.status == 200


def test_internal_notes_never_reach_the_messenger(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger).body["id"]
    ticket = convert(inbox, conversation_id).body
    inbox(
        customised(
            "inbox_api/reply_to_conversation",
            path=f"/inbox/conversations/{conversation_id}/replies",
            body={"body": "SECRET-NOTE customer seems upset", "internal": True},
        )
    )
    inbox(
        customised(
            "inbox_api/reply_to_ticket",
            path=f"/inbox/tickets/{ticket['id']}/replies",
            body={"body": "SECRET-NOTE check carrier", "internal": True},
            authorizer=RETURNS,
        )
    )

    responses = [
        messenger(customised("messenger_api/get_conversation", path=f"/messenger/conversations/{conversation_id}")),
        messenger(sample_event("messenger_api/list_conversations")),
        messenger(sample_event("messenger_api/list_tickets")),
        messenger(customised("messenger_api/get_ticket", path=f"/messenger/tickets/{ticket['id']}")),
    ]

    for reply in responses:
        assert reply.status == 200
        assert "SECRET-NOTE" not in str(reply.body)
        assert "carrier_ref" not in str(reply.body)
        assert "New damage report" not in str(reply.body)  # the internal state label


def test_inbox_ticket_views_and_pagination(messenger: Call, inbox: Call) -> None:
    ids = [convert(inbox, start(messenger, body=f"issue {n}").body["id"]).body["id"] for n in range(3)]

    first = inbox(customised("inbox_api/list_tickets", query={"team_id": "returns", "limit": "2"}, authorizer=RETURNS))
    second = inbox(
        customised(
            "inbox_api/list_tickets",
            query={"team_id": "returns", "limit": "2", "cursor": first.body["next_cursor"]},
            authorizer=RETURNS,
        )
    )
    by_type = inbox(customised("inbox_api/list_tickets", query={"ticket_type_id": "damaged-item"}, authorizer=RETURNS))
    unassigned = inbox(customised("inbox_api/list_tickets", query={"assignee_id": "unassigned"}, authorizer=RETURNS))
    bad_cursor = inbox(customised("inbox_api/list_tickets", query={"cursor": "garbage"}, authorizer=RETURNS))
    bad_limit = inbox(customised("inbox_api/list_tickets", query={"limit": "5000"}, authorizer=RETURNS))

    assert [t["id"] for t in first.body["items"] + second.body["items"]] == list(reversed(ids))
    assert [t["id"] for t in by_type.body["items"]] == list(reversed(ids))
    assert len(unassigned.body["items"]) == 3
    assert bad_cursor.status == 422
    assert bad_limit.status == 422


def test_ticket_types_list_attributes_and_states(inbox: Call) -> None:
    reply = inbox(sample_event("inbox_api/list_ticket_types"))

    types = {t["id"]: t for t in reply.body["items"]}
    assert set(types) == {"damaged-item", "delivery-problem", "refund-request"}
    damaged = types["damaged-item"]
    assert {a["id"]: a["required"] for a in damaged["attributes"]}["order_id"] is True
    assert {
        "id": "received",
        "category": "submitted",
        "label": "New damage report",
        "customer_label": "Received",
    } in damaged["states"]


def test_each_api_serves_its_openapi_document_and_docs(messenger: Call, inbox: Call) -> None:
    messenger_doc = messenger(sample_event("messenger_api/openapi"))
    inbox_doc = inbox(sample_event("inbox_api/openapi"))
    docs = messenger(customised("messenger_api/openapi", path="/messenger/docs"))

    assert messenger_doc.status == 200
    assert "/messenger/conversations" in messenger_doc.body["paths"]
    assert "/inbox/tickets/{ticket_id}" in inbox_doc.body["paths"]
    assert inbox_doc.body["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert docs.status == 200
    assert "swagger" in str(docs.body).lower()


def test_unknown_routes_are_json_404s(messenger: Call) -> None:
    reply = messenger(customised("messenger_api/list_tickets", path="/messenger/nothing-here"))
    assert reply.status == 404
    assert reply.body["error"] == "not_found"


def test_browsers_on_allowed_origins_get_cors_headers(messenger: Call) -> None:
    event = sample_event("messenger_api/list_tickets")
    event["headers"]["Origin"] = "https://d111111abcdef8.cloudfront.net"
    event["multiValueHeaders"]["Origin"] = ["https://d111111abcdef8.cloudfront.net"]

    reply = messenger(event)

    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] in ("*", "https://d111111abcdef8.cloudfront.net")
    assert "Authorization" in reply.headers["access-control-allow-headers"]
