"""The foundation's end-to-end scenario over real HTTP on the local runtime (`python -m localrt`)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

pytestmark = pytest.mark.e2e

CONTEXT = {
    "page_url": "https://shop.example.com/orders/ORD-1001",
    "page_title": "Your order ORD-1001",
    "device": "iPhone 15",
    "os": "iOS 18.1",
    "app_version": "4.2.0",
    "locale": "en-GB",
    "time_zone": "Europe/London",
    "object": {"type": "order", "id": "ORD-1001"},
}


class Client:
    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", headers=self.headers, timeout=15, **kwargs)


@pytest.fixture
def clients(local_runtime: Any) -> dict[str, Client]:
    base = local_runtime.base_url
    return {
        "alice": Client(base, local_runtime.customer_token("e2e-alice", name="Alice", email="alice@example.com")),
        "bob": Client(base, local_runtime.customer_token("e2e-bob", name="Bob")),
        "frontline": Client(base, local_runtime.agent_token("e2e-agent-frontline", ["frontline"])),
        "returns": Client(base, local_runtime.agent_token("e2e-agent-returns", ["returns"])),
        "returns2": Client(base, local_runtime.agent_token("e2e-agent-returns-2", ["returns"])),
        "anonymous": Client(base, None),
    }


def test_conversation_to_ticket_scenario(clients: dict[str, Client]) -> None:
    alice, bob, frontline = clients["alice"], clients["bob"], clients["frontline"]

    # A verified customer starts a conversation with a context package
    started = alice.call(
        "POST", "/messenger/conversations", json={"body": "My parcel arrived damaged", "context": CONTEXT}
    )
    assert started.status_code == 201, started.text
    conversation_id = started.json()["id"]

    # A frontline agent sees it in the inbox, with the context
    inbox = frontline.call("GET", "/inbox/conversations").json()
    listed = next(c for c in inbox["items"] if c["id"] == conversation_id)
    assert listed["context"]["object"] == {"type": "order", "id": "ORD-1001"}

    # replies, and converts it into a damaged-item ticket for returns
    assert (
        frontline.call(
            "POST", f"/inbox/conversations/{conversation_id}/replies", json={"body": "Sorry! Opening a ticket for you."}
        ).status_code
        == 201
    )
    converted = frontline.call(
        "POST",
        f"/inbox/conversations/{conversation_id}/ticket",
        json={
            "ticket_type_id": "damaged-item",
            "team_id": "returns",
            "attributes": {"description": "The lid is cracked"},
        },
    )
    assert converted.status_code == 201, converted.text
    ticket = converted.json()
    assert ticket["attributes"]["order_id"] == "ORD-1001"

    # The customer sees the ticket: submitted, with its customer-facing label, and the agent's reply
    mine = alice.call("GET", "/messenger/tickets").json()["items"]
    assert [(t["id"], t["state"]["category"], t["state"]["label"]) for t in mine] == [
        (ticket["id"], "submitted", "Received")
    ]
    messages = alice.call("GET", f"/messenger/conversations/{conversation_id}").json()["messages"]
    assert "Sorry! Opening a ticket for you." in [m["body"] for m in messages]

    # Another customer gets 404 for all of it; no valid token gets 401
    for path in (f"/messenger/tickets/{ticket['id']}", f"/messenger/conversations/{conversation_id}"):
        assert bob.call("GET", path).status_code == 404
        unauthenticated = clients["anonymous"].call("GET", path)
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["message"]
    assert (
        bob.call("POST", f"/messenger/conversations/{conversation_id}/messages", json={"body": "hi"}).status_code == 404
    )
    assert clients["anonymous"].call("GET", "/inbox/tickets").status_code == 401


def test_two_agents_from_the_same_version_one_wins_one_gets_409(clients: dict[str, Client]) -> None:
    alice, frontline = clients["alice"], clients["frontline"]
    conversation_id = alice.call("POST", "/messenger/conversations", json={"body": "broken again"}).json()["id"]
    ticket = frontline.call(
        "POST",
        f"/inbox/conversations/{conversation_id}/ticket",
        json={"ticket_type_id": "damaged-item", "attributes": {"order_id": "O-2", "description": "Chipped"}},
    ).json()

    first = clients["returns"].call(
        "PATCH", f"/inbox/tickets/{ticket['id']}", json={"version": ticket["version"], "priority": "high"}
    )
    second = clients["returns2"].call(
        "PATCH", f"/inbox/tickets/{ticket['id']}", json={"version": ticket["version"], "state_id": "assessing"}
    )

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["current_version"] == first.json()["version"]
    stored = clients["returns"].call("GET", f"/inbox/tickets/{ticket['id']}").json()
    assert (stored["priority"], stored["state"]["id"]) == ("high", "received")


@pytest.mark.parametrize(
    ("surface", "method", "path", "body"),
    [
        ("alice", "POST", "/messenger/conversations", {"body": ""}),
        ("alice", "POST", "/messenger/conversations", "{not json"),
        ("frontline", "POST", "/inbox/tickets", {"ticket_type_id": "unicorn"}),
        ("frontline", "POST", "/inbox/tickets", {"ticket_type_id": "refund-request", "attributes": {"order_id": 5}}),
        (
            "alice",
            "POST",
            "/messenger/attachments",
            {"filename": "x.exe", "content_type": "application/x-msdownload", "size": 9},
        ),
        (
            "alice",
            "POST",
            "/messenger/attachments",
            {"filename": "x.jpg", "content_type": "image/jpeg", "size": 99_000_000},
        ),
    ],
)
def test_bad_input_is_a_4xx_json_error_naming_the_problem(
    clients: dict[str, Client], surface: str, method: str, path: str, body: Any
) -> None:
    kwargs = (
        {"data": body, "headers": {**clients[surface].headers, "Content-Type": "application/json"}}
        if isinstance(body, str)
        else {"json": body}
    )
    if "headers" in kwargs:
        response = requests.request(method, f"{clients[surface].base}{path}", timeout=15, **kwargs)
    else:
        response = clients[surface].call(method, path, **kwargs)

    assert 400 <= response.status_code < 500, response.text
    assert response.json()["message"]


def test_expired_and_foreign_tokens_are_refused_with_a_reason(local_runtime: Any) -> None:
    from helpdesk.auth.customer_tokens import sign_customer_token

    base = local_runtime.base_url
    expired = local_runtime.customer_token("e2e-alice", ttl_seconds=-600)
    foreign = sign_customer_token("a-secret-that-is-not-the-workspaces-one", "e2e-alice")
    for token, reason in ((expired, "expired"), (foreign, "signature")):
        response = requests.get(f"{base}/messenger/tickets", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 401
        assert reason in response.json()["message"]


def test_the_openapi_documents_are_served(local_runtime: Any) -> None:
    for surface in ("messenger", "inbox"):
        document = requests.get(f"{local_runtime.base_url}/{surface}/openapi.json", timeout=10)
        assert document.status_code == 200
        assert document.json()["openapi"].startswith("3.")
        assert any(path.startswith(f"/{surface}/") for path in document.json()["paths"])
