"""Over HTTP on the local runtime: customers see only their own things, and never what is internal.

- Customer B gets 404 on every messenger route that takes an id of customer A's.
- A full scenario's messenger responses never contain an internal note, an internal state label
  or an attribute hidden from customers (searched for marker strings).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

pytestmark = pytest.mark.e2e

MARKER = "INTERNAL-ONLY-7f3a"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def alices_things(local_runtime: Any) -> dict[str, str]:
    base = local_runtime.base_url
    alice = bearer(local_runtime.customer_token("privacy-alice"))
    frontline = bearer(local_runtime.agent_token("agent-priv", ["frontline"]))
    conversation = requests.post(
        f"{base}/messenger/conversations", headers=alice, json={"body": "mine"}, timeout=10
    ).json()
    upload = requests.post(
        f"{base}/messenger/attachments",
        headers=alice,
        json={"filename": "a.png", "content_type": "image/png", "size": 4},
        timeout=10,
    ).json()
    posted = requests.post(
        upload["upload"]["url"], data=upload["upload"]["fields"], files={"file": ("a.png", b"\x89PNG")}, timeout=10
    )
    assert posted.status_code in (200, 204)
    ticket = requests.post(
        f"{base}/inbox/conversations/{conversation['id']}/ticket",
        headers=frontline,
        json={"ticket_type_id": "damaged-item", "attributes": {"order_id": "O-P", "description": "x"}},
        timeout=10,
    ).json()
    return {"conversation": conversation["id"], "ticket": ticket["id"], "attachment": upload["attachment_id"]}


def test_another_customer_gets_404_on_every_route_that_takes_an_id(
    local_runtime: Any, alices_things: dict[str, str]
) -> None:
    base = local_runtime.base_url
    bob = bearer(local_runtime.customer_token("privacy-bob"))
    visitor_token = requests.post(f"{base}/messenger/visitors", timeout=10).json()["visitor_token"]
    conversation, ticket, attachment = (
        alices_things["conversation"],
        alices_things["ticket"],
        alices_things["attachment"],
    )
    routes = [
        ("GET", f"/messenger/conversations/{conversation}", None),
        ("GET", f"/messenger/conversations/{conversation}?after=0", None),
        ("POST", f"/messenger/conversations/{conversation}/messages", {"body": "let me in"}),
        ("POST", f"/messenger/conversations/{conversation}/close", None),
        ("POST", f"/messenger/conversations/{conversation}/verify", None),
        ("GET", f"/messenger/tickets/{ticket}", None),
        ("POST", f"/messenger/tickets/{ticket}/replies", {"body": "me too"}),
        ("POST", f"/messenger/tickets/{ticket}/rating", {"score": 1}),
        ("GET", f"/messenger/attachments/{attachment}", None),
    ]
    for who in (bob, bearer(visitor_token)):
        for method, path, body in routes:
            response = requests.request(method, f"{base}{path}", headers=who, json=body, timeout=10)
            if path.endswith("/verify") and who is not bob:
                assert response.status_code == 422, path  # a visitor can't verify at all
                continue
            assert response.status_code == 404, (method, path, response.text)
    alice = bearer(local_runtime.customer_token("privacy-alice"))
    assert requests.get(f"{base}/messenger/tickets/{ticket}", headers=alice, timeout=10).status_code == 200


def test_nothing_internal_ever_reaches_the_messenger(local_runtime: Any) -> None:
    base = local_runtime.base_url
    customer = bearer(local_runtime.customer_token("privacy-carol"))
    frontline = bearer(local_runtime.agent_token("agent-priv-f", ["frontline"]))
    returns = bearer(local_runtime.agent_token("agent-priv-r", ["returns"]))
    responses: list[str] = []

    def messenger(method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{base}{path}", headers=customer, timeout=10, **kwargs)
        responses.append(response.text)
        return response.json()

    def inbox(method: str, path: str, who: dict[str, str], **kwargs: Any) -> Any:
        response = requests.request(method, f"{base}{path}", headers=who, timeout=10, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    conversation = messenger("POST", "/messenger/conversations", json={"body": "Broken teapot"})
    inbox(
        "POST",
        f"/inbox/conversations/{conversation['id']}/replies",
        frontline,
        json={"body": f"{MARKER} note", "internal": True},
    )
    inbox("POST", f"/inbox/conversations/{conversation['id']}/replies", frontline, json={"body": "Sorry to hear it!"})
    inbox("POST", f"/inbox/conversations/{conversation['id']}/assignment", frontline, json={"team_id": "returns"})
    ticket = inbox(
        "POST",
        f"/inbox/conversations/{conversation['id']}/ticket",
        returns,
        json={
            "ticket_type_id": "damaged-item",
            "attributes": {"order_id": "O-C", "description": "lid", "carrier_ref": MARKER},
        },
    )
    inbox(
        "POST", f"/inbox/tickets/{ticket['id']}/replies", returns, json={"body": f"{MARKER} carrier", "internal": True}
    )
    current = inbox("GET", f"/inbox/tickets/{ticket['id']}", returns)  # the note moved its version on
    updated = inbox(
        "PATCH",
        f"/inbox/tickets/{ticket['id']}",
        returns,
        json={"version": current["version"], "state_id": "assessing", "priority": "high"},
    )
    inbox(
        "PATCH", f"/inbox/tickets/{ticket['id']}", returns, json={"version": updated["version"], "team_id": "logistics"}
    )
    logistics = bearer(local_runtime.agent_token("agent-priv-l", ["logistics"]))
    inbox("POST", f"/inbox/tickets/{ticket['id']}/replies", logistics, json={"body": "We're on it."})

    messenger("GET", f"/messenger/conversations/{conversation['id']}")
    messenger("GET", "/messenger/conversations")
    messenger("GET", "/messenger/tickets")
    detail = messenger("GET", f"/messenger/tickets/{ticket['id']}")
    page = (
        requests.get(f"{base}/messenger/", timeout=10).text
        + requests.get(f"{base}/messenger/static/messenger.js", timeout=10).text
    )
    responses.append(page)

    everything = "\n".join(responses)
    assert "We're on it." in everything
    assert MARKER not in everything
    assert "carrier_ref" not in everything
    for internal_label in ("New damage report", "Assessing damage"):
        assert internal_label not in everything
    assert "handoff" not in everything
    assert detail["state"]["label"] == "We're looking into it"
