"""The customer profile in the inbox: who the customer is, what they had with us, and their profile actions.

Through the inbox handler on moto, with the demo workspace (its ``recent-orders`` action is marked
``profile: true``) and, for the actions, the demo order system on a free port.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from orders import OrderSystem, start_order_system

from tests.conftest import DynamoCalls
from tests.support.events import Reply, agent_authorizer, customer_authorizer, customised, sample_event

Call = Callable[[dict[str, Any]], Reply]
API_KEY = "orders-key-for-profile-tests-only"
CUSTOMER = "demo-customer-1"
"""Alice in the demo order system: ORD-1001..1003 are hers, ORD-1004..1005 Bob's (demo-customer-2)."""
ALICE = customer_authorizer(CUSTOMER, "Alice") | {"email": "alice@example.com", "attributes": '{"tier": "gold"}'}
FRONTLINE = agent_authorizer("agent-frank", "frontline")
RETURNS = agent_authorizer("agent-rita", "returns")
LOGISTICS = agent_authorizer("agent-lou", "logistics")
ADMIN = agent_authorizer("agent-ada", "admins")


@pytest.fixture
def order_system(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[OrderSystem]:
    """The demo order system, its key where the demo actions read it, and its URL in the environment."""
    from aws_lambda_powertools.utilities import parameters

    system = start_order_system(api_key=API_KEY)
    boto3.client("secretsmanager").create_secret(Name="helpdesk/orders-api", SecretString=API_KEY)
    parameters.clear_caches()
    monkeypatch.setenv("ORDERS_API_URL", system.url)
    yield system
    system.stop()


def start(messenger: Call, who: dict[str, Any], body: str) -> str:
    sample = json.loads(sample_event("messenger_api/start_conversation")["body"])
    reply = messenger(customised("messenger_api/start_conversation", authorizer=who, body=sample | {"body": body}))
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def call(inbox: Call, who: dict[str, Any], path: str, body: Any = None, method: str | None = None) -> Reply:
    name = "get_customer_profile" if body is None else "run_profile_action"
    event = customised(f"inbox_api/{name}", path=path, authorizer=who, **({"body": body} if body is not None else {}))
    if method is not None:
        event["httpMethod"] = method
    return inbox(event)


def profile(inbox: Call, who: dict[str, Any], customer_id: str = CUSTOMER) -> Reply:
    return call(inbox, who, f"/inbox/customers/{customer_id}")


def run(inbox: Call, who: dict[str, Any], inputs: dict[str, Any], customer_id: str = CUSTOMER) -> Reply:
    return call(inbox, who, f"/inbox/customers/{customer_id}/actions/recent-orders", {"inputs": inputs})


def convert(inbox: Call, who: dict[str, Any], conversation_id: str, team: str) -> dict[str, Any]:
    reply = inbox(
        customised(
            "inbox_api/convert_conversation",
            path=f"/inbox/conversations/{conversation_id}/ticket",
            authorizer=who,
            body={
                "ticket_type_id": "damaged-item",
                "team_id": team,
                "attributes": {"order_id": "ORD-1001", "description": "cracked"},
            },
        )
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


def resolve_and_rate(inbox: Call, messenger: Call, ticket: dict[str, Any], score: int, comment: str) -> None:
    resolved = inbox(
        customised(
            "inbox_api/update_ticket",
            path=f"/inbox/tickets/{ticket['id']}",
            authorizer=FRONTLINE,
            body={"version": ticket["version"], "state_id": "replaced"},
        )
    )
    assert resolved.status == 200, resolved.body
    path = f"/messenger/tickets/{ticket['id']}/rating"
    rated = messenger(
        customised("messenger_api/rate_ticket", path=path, authorizer=ALICE, body={"score": score, "comment": comment})
    )
    assert rated.status == 201, rated.body


@pytest.fixture
def history(messenger: Call, inbox: Call) -> dict[str, str]:
    """Alice's rated ticket with the front line, a later question there, and a ticket the returns team holds."""
    damaged = start(messenger, ALICE, "My teapot arrived cracked")
    ticket = convert(inbox, FRONTLINE, damaged, "frontline")
    resolve_and_rate(inbox, messenger, ticket, 4, "Quick and kind")
    question = start(messenger, ALICE, "Can I change my delivery slot?")
    returned = start(messenger, ALICE, "I want to return the lamp")
    returns_ticket = convert(inbox, FRONTLINE, returned, "returns")
    return {
        "damaged": damaged,
        "ticket": ticket["id"],
        "question": question,
        "returned": returned,
        "returns_ticket": returns_ticket["id"],
    }


def test_the_profile_shows_who_the_customer_is_their_history_and_the_csat_they_gave(
    inbox: Call, history: dict[str, str], dynamo_calls: DynamoCalls
) -> None:
    # Given Alice's conversations and tickets with the front line, and one ticket now with returns
    dynamo_calls.reset()

    # When a front-line agent opens her profile
    reply = profile(inbox, FRONTLINE)

    # Then it says who she is, how sure we are of it, what she had with the front line and what she thought
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["id"], body["name"], body["email"]) == (CUSTOMER, "Alice", "alice@example.com")
    assert body["identity"]["status"] == "signed_in"
    assert body["identity"]["verified_attributes"] == {"tier": "gold"}
    assert [c["id"] for c in body["conversations"]] == [history["returned"], history["question"], history["damaged"]]
    assert [t["id"] for t in body["tickets"]] == [history["ticket"]]
    assert body["tickets"][0]["title"]
    assert [(r["ticket_id"], r["score"], r["comment"]) for r in body["ratings"]] == [
        (history["ticket"], 4, "Quick and kind")
    ]
    assert body["average_rating"] == 4
    assert [a["id"] for a in body["actions"]] == ["recent-orders"]
    # And it took two reads of the table, none a Scan
    assert dynamo_calls.operations == ["Query", "Query"]


def test_another_team_sees_only_its_own_part_of_the_customer_s_history(inbox: Call, history: dict[str, str]) -> None:
    # When the returns team's agent opens Alice's profile (their ticket, moved there from a conversation)
    reply = profile(inbox, RETURNS)

    # Then they see the returns ticket, not the front line's conversations, tickets and ratings
    assert reply.status == 200, reply.body
    assert [t["id"] for t in reply.body["tickets"]] == [history["returns_ticket"]]
    assert reply.body["conversations"] == []
    assert reply.body["ratings"] == []


def test_an_agent_of_a_team_she_has_no_work_in_can_t_open_her_profile_or_run_her_actions(
    inbox: Call, history: dict[str, str]
) -> None:
    read = profile(inbox, LOGISTICS)
    ran = run(inbox, LOGISTICS, {})

    assert read.status == 403
    assert ran.status == 403
    assert "Alice" not in json.dumps([read.body, ran.body])


def test_an_unknown_customer_is_not_found(inbox: Call, history: dict[str, str]) -> None:
    assert profile(inbox, ADMIN, "nobody-at-all").status == 404


def test_a_profile_action_runs_as_the_customer_and_shows_only_her_orders(
    order_system: OrderSystem, inbox: Call, history: dict[str, str]
) -> None:
    # When a front-line agent asks for Alice's recent orders on her profile
    reply = run(inbox, FRONTLINE, {})

    # Then the order system was asked as Alice, and the answer lists her orders, newest first, nobody else's
    assert reply.status == 200, reply.body
    assert (reply.body["outcome"], reply.body["ok"]) == ("success", True), reply.body["error"]
    orders = reply.body["outputs"]["orders"]
    assert sorted(o["order_id"] for o in orders) == ["ORD-1001", "ORD-1002", "ORD-1003"]
    placed = [o["placed_on"] for o in orders]
    assert placed == sorted(placed, reverse=True)
    assert all(o["status"] for o in orders)


def test_a_profile_action_takes_only_its_own_inputs(inbox: Call, history: dict[str, str]) -> None:
    # An agent can't hand the action someone else's identity (or anything it doesn't declare)
    reply = run(inbox, FRONTLINE, {"customer_id": "demo-customer-2"})

    assert reply.status == 422, reply.body
    assert reply.body["details"] == [{"field": "inputs.customer_id", "message": "is not an input of this action"}]


def test_an_action_that_is_not_a_profile_action_is_not_run_from_the_profile(
    inbox: Call, history: dict[str, str]
) -> None:
    path = f"/inbox/customers/{CUSTOMER}/actions/change-delivery-slot"
    reply = call(inbox, FRONTLINE, path, {"inputs": {"order_id": "ORD-1001", "slot_id": "x"}})

    assert reply.status == 404, reply.body


def test_a_visitor_has_no_identity_to_run_an_action_with(messenger: Call, inbox: Call) -> None:
    # Given an anonymous visitor's conversation with the front line
    visitor = customer_authorizer("visitor:3f9c") | {"principal_type": "visitor"}
    start(messenger, visitor, "Hello, where is my parcel?")

    # When an agent opens the visitor's profile and tries their recent orders
    shown = profile(inbox, FRONTLINE, "visitor:3f9c")
    ran = run(inbox, FRONTLINE, {}, "visitor:3f9c")

    # Then the profile says so, and nothing is called
    assert shown.body["identity"]["status"] == "visitor"
    assert ran.status == 409, ran.body
