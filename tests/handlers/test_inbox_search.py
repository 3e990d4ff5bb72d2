"""The inbox search over the handlers: what agents find, what they may not find, and what it costs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import DynamoCalls
from tests.support.events import Reply, agent_authorizer, customer_authorizer, customised, sample_event

Call = Callable[[dict[str, Any]], Reply]
FRONTLINE = agent_authorizer("agent-frank", "frontline")
RETURNS = agent_authorizer("agent-rita", "returns")
ADMIN = agent_authorizer("agent-ada", "admins")
ALICE = customer_authorizer("alice-4711", "Alice Marsh") | {
    "email": "alice.marsh@example.com",
    "phone": "+44 20 7946 0018",
}


def _start(messenger: Call, body: str = "My parcel arrived damaged") -> str:
    sample = json.loads(sample_event("messenger_api/start_conversation")["body"])
    reply = messenger(customised("messenger_api/start_conversation", authorizer=ALICE, body=sample | {"body": body}))
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def _convert(inbox: Call, conversation_id: str, order_id: str) -> dict[str, Any]:
    reply = inbox(
        customised(
            "inbox_api/convert_conversation",
            authorizer=FRONTLINE,
            path=f"/inbox/conversations/{conversation_id}/ticket",
            body={
                "ticket_type_id": "damaged-item",
                "team_id": "frontline",
                "attributes": {"order_id": order_id, "description": "The lid is cracked"},
            },
        )
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


def search(inbox: Call, who: dict[str, Any], q: str | None) -> Reply:
    return inbox(customised("inbox_api/search", authorizer=who, query=None if q is None else {"q": q}))


def found(reply: Reply) -> dict[str, list[str]]:
    assert reply.status == 200, reply.body
    return {
        "customers": [c["id"] for c in reply.body["customers"]],
        "tickets": [t["id"] for t in reply.body["tickets"]],
        "conversations": [c["conversation"]["id"] for c in reply.body["conversations"]],
    }


@pytest.fixture
def alices_ticket(messenger: Call, inbox: Call) -> tuple[str, dict[str, Any]]:
    """Alice's conversation with the frontline team, converted into a ticket about order ORD-4711."""
    conversation_id = _start(messenger)
    return conversation_id, _convert(inbox, conversation_id, "ORD-4711")


def test_an_agent_finds_the_ticket_by_order_id_prefix(inbox: Call, alices_ticket: tuple[str, dict[str, Any]]) -> None:
    _, ticket = alices_ticket
    # When the frontline agent types the start of the order id, in any case
    result = found(search(inbox, FRONTLINE, "ord-47"))
    # Then the ticket is found
    assert result["tickets"] == [ticket["id"]]


def test_an_agent_finds_the_ticket_by_its_number(inbox: Call, alices_ticket: tuple[str, dict[str, Any]]) -> None:
    _, ticket = alices_ticket
    assert found(search(inbox, FRONTLINE, f"#{ticket['number']}"))["tickets"] == [ticket["id"]]


@pytest.mark.parametrize("q", ["alice.ma", "Alice M", "marsh", "alice-47", "+44 20 7946", "442079460018"])
def test_an_agent_finds_the_customer_and_her_conversation_by_email_name_id_or_phone(
    inbox: Call, alices_ticket: tuple[str, dict[str, Any]], q: str
) -> None:
    conversation_id, _ = alices_ticket
    # When the frontline agent types the start of her email, name, id or phone number
    result = found(search(inbox, FRONTLINE, q))
    # Then Alice is found, and her conversation
    assert result["customers"] == ["alice-4711"]
    assert result["conversations"] == [conversation_id]


def test_an_agent_of_another_team_finds_none_of_it(inbox: Call, alices_ticket: tuple[str, dict[str, Any]]) -> None:
    _, ticket = alices_ticket
    # Given agent_visibility: team (the default) and an agent of the returns team
    for q in ("ord-4711", "alice", f"#{ticket['number']}", "alice.marsh@example.com"):
        # When they search for anything of Alice's
        result = found(search(inbox, RETURNS, q))
        # Then nothing is listed: not the ticket, not the conversation, not even that Alice exists
        assert result == {"customers": [], "tickets": [], "conversations": []}, q


def test_an_admin_finds_everything(inbox: Call, alices_ticket: tuple[str, dict[str, Any]]) -> None:
    conversation_id, ticket = alices_ticket
    result = found(search(inbox, ADMIN, "alice"))
    assert result["customers"] == ["alice-4711"]
    assert result["conversations"] == [conversation_id]
    assert found(search(inbox, ADMIN, "ord-4711"))["tickets"] == [ticket["id"]]


def test_a_changed_order_id_finds_the_ticket_by_the_new_one_only(
    inbox: Call, alices_ticket: tuple[str, dict[str, Any]]
) -> None:
    _, ticket = alices_ticket
    # Given the order id on the ticket was corrected
    changed = inbox(
        customised(
            "inbox_api/update_ticket",
            authorizer=FRONTLINE,
            path=f"/inbox/tickets/{ticket['id']}",
            body={"version": ticket["version"], "attributes": {"order_id": "ORD-9000"}},
        )
    )
    assert changed.status == 200, changed.body
    # Then the new id finds it and the old one no longer does (its key is stale until the indexer deletes it)
    assert found(search(inbox, FRONTLINE, "ord-9000"))["tickets"] == [ticket["id"]]
    assert found(search(inbox, FRONTLINE, "ord-4711"))["tickets"] == []


def test_a_search_is_two_dynamodb_requests_and_never_a_scan(
    inbox: Call, alices_ticket: tuple[str, dict[str, Any]], dynamo_calls: DynamoCalls
) -> None:
    dynamo_calls.reset()
    assert found(search(inbox, FRONTLINE, "alice"))["customers"] == ["alice-4711"]
    assert dynamo_calls.operations == ["Query", "BatchGetItem"]


def test_nothing_found_is_one_request(
    inbox: Call, alices_ticket: tuple[str, dict[str, Any]], dynamo_calls: DynamoCalls
) -> None:
    dynamo_calls.reset()
    assert found(search(inbox, FRONTLINE, "zebra")) == {"customers": [], "tickets": [], "conversations": []}
    assert dynamo_calls.operations == ["Query"]


@pytest.mark.parametrize(
    ("q", "problem"),
    [
        (None, "at least 2"),
        ("", "at least 2"),
        ("a", "at least 2"),
        ("   b  ", "at least 2"),
        ("x" * 101, "at most 100"),
    ],
)
def test_a_missing_too_short_or_too_long_query_is_a_400_naming_q(inbox: Call, q: str | None, problem: str) -> None:
    reply = search(inbox, FRONTLINE, q)
    assert reply.status == 400
    assert reply.body["error"] == "bad_query"
    assert reply.body["details"][0]["field"] == "q"
    assert problem in reply.body["details"][0]["message"]
