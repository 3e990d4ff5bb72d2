"""The demo bot's four paths over HTTP on the local runtime, against the demo order system.

Issue 6's acceptance: a delivery slot changed by the bot with no ticket and no human; a damaged
item ending in a ticket with every attribute, the photo and the context; a stopped or hanging
order system handing the customer to a person in time; a retried write applied once.

Issue 13's: the bot acts only on the caller's own orders. An anonymous visitor (a token from
``POST /messenger/visitors``) and a signed-in customer who doesn't own ORD-1001 can neither read its
status nor change its delivery (asked to sign in; told it isn't found on their account), while its
owner still can, end to end.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LocalRuntime

pytestmark = pytest.mark.e2e
ORDERS_KEY = {"Authorization": "Bearer local-orders-api-key"}  # the local runtime's dev-only key


class Customer:
    def __init__(self, runtime: LocalRuntime, user_id: str, *, token: str | None = None) -> None:
        self.base = runtime.base_url
        token = token or runtime.customer_token(user_id, name="Ada", email=f"{user_id}@example.com")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conversation_id = ""

    @classmethod
    def anonymous(cls, runtime: LocalRuntime) -> tuple[Customer, str]:
        """A visitor with the token anyone gets from ``POST /messenger/visitors``, and that token."""
        response = requests.post(f"{runtime.base_url}/messenger/visitors", timeout=15)
        assert response.status_code == 201, response.text
        token = str(response.json()["visitor_token"])
        return cls(runtime, str(response.json()["visitor_id"]), token=token), token

    def start(self, body: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.base}/messenger/conversations",
            headers=self.headers,
            json={"body": body, **({"context": context} if context else {})},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        self.conversation_id = response.json()["id"]
        return dict(response.json())

    def say(self, body: str = "", **extra: Any) -> None:
        response = requests.post(
            f"{self.base}/messenger/conversations/{self.conversation_id}/messages",
            headers=self.headers,
            json={"body": body, **extra},
            timeout=60,
        )
        assert response.status_code == 201, response.text

    def conversation(self) -> dict[str, Any]:
        return dict(
            requests.get(
                f"{self.base}/messenger/conversations/{self.conversation_id}?limit=100",
                headers=self.headers,
                timeout=15,
            ).json()
        )

    def bot_said(self) -> list[str]:
        return [m["body"] for m in self.conversation()["messages"] if m["author"]["type"] == "bot"]

    def options(self) -> list[dict[str, str]]:
        offered = [m for m in self.conversation()["messages"] if m["options"]]
        return list(offered[-1]["options"]) if offered else []

    def upload_photo(self) -> str:
        upload = requests.post(
            f"{self.base}/messenger/attachments",
            headers=self.headers,
            json={"filename": "lid.png", "content_type": "image/png", "size": 8},
            timeout=15,
        ).json()
        posted = requests.post(
            upload["upload"]["url"],
            data=upload["upload"]["fields"],
            files={"file": ("lid.png", b"\x89PNG\r\n\x1a\n")},
            timeout=15,
        )
        assert posted.status_code in (200, 204), posted.text
        return str(upload["attachment_id"])


def order_system(runtime: LocalRuntime) -> str:
    return str(requests.get(f"{runtime.base_url}/", timeout=10).json()["order_system"])


def order(runtime: LocalRuntime, order_id: str) -> dict[str, Any]:
    return dict(requests.get(f"{order_system(runtime)}/orders/{order_id}", headers=ORDERS_KEY, timeout=10).json())


def fault(runtime: LocalRuntime, mode: str, **extra: Any) -> None:
    requests.post(
        f"{order_system(runtime)}/_faults", headers=ORDERS_KEY, json={"mode": mode, **extra}, timeout=10
    ).raise_for_status()


def agent_view(runtime: LocalRuntime, path: str) -> dict[str, Any]:
    token = runtime.agent_token("bot-e2e-admin", ["admins", "frontline", "returns", "logistics"])
    return dict(
        requests.get(f"{runtime.base_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=15).json()
    )


def test_changing_the_delivery_slot_is_done_by_the_bot_with_no_ticket_and_no_human(bot_runtime: LocalRuntime) -> None:
    before = order(bot_runtime, "ORD-1001")
    ada = Customer(bot_runtime, "demo-customer-1")
    ada.start("Can I change my delivery slot?", {"object": {"type": "order", "id": "ORD-1001"}})
    slot = ada.options()[1]
    assert slot["id"] != "none-of-these"

    ada.say(option_id=slot["id"])
    assert [o["id"] for o in ada.options()] == ["yes", "no"]
    ada.say("yes")

    after = order(bot_runtime, "ORD-1001")
    assert after["delivery_slot"]["id"] == slot["id"] != before["delivery_slot"]["id"]
    conversation = agent_view(bot_runtime, f"/inbox/conversations/{ada.conversation_id}")
    assert conversation["status"] == "closed"
    assert conversation["ticket_id"] is None
    assert conversation["assignee_id"] is None
    assert (conversation["bot"]["outcome"], conversation["bot"]["resolved_by"]) == ("resolved", "custom_action")


def test_where_is_my_order_is_answered_from_the_order_system(bot_runtime: LocalRuntime) -> None:
    ada = Customer(bot_runtime, "demo-customer-1")
    ada.start("Where is my order?")
    ada.say("ord-1002")
    status = order(bot_runtime, "ORD-1002")
    assert any(f"Order ORD-1002 is {status['status_label']}" in said for said in ada.bot_said())
    assert ada.conversation()["status"] == "closed"


def test_a_damaged_item_becomes_a_complete_ticket_for_returns(bot_runtime: LocalRuntime) -> None:
    ada = Customer(bot_runtime, "demo-customer-1")
    context = {"page_url": "https://shop.example/orders/ORD-1003", "object": {"type": "order", "id": "ORD-1003"}}
    ada.start("My vase arrived damaged", context)
    ada.say("The vase has a crack down one side")
    ada.say("", attachment_ids=[ada.upload_photo()])
    ada.say(option_id="replacement")

    conversation = agent_view(bot_runtime, f"/inbox/conversations/{ada.conversation_id}")
    ticket = agent_view(bot_runtime, f"/inbox/tickets/{conversation['ticket_id']}")
    types = agent_view(bot_runtime, "/inbox/ticket-types")["items"]
    damaged = next(t for t in types if t["id"] == "damaged-item")
    assert ticket["ticket_type_id"] == "damaged-item"
    assert ticket["team_id"] == "returns"
    assert set(ticket["attributes"]) == {a["id"] for a in damaged["attributes"]}
    assert ticket["attributes"]["order_id"] == "ORD-1003"
    assert ticket["attributes"]["resolution"] == "replacement"
    assert ticket["context"]["object"] == {"type": "order", "id": "ORD-1003"}
    files = [a["filename"] for part in ticket["timeline"] for a in part.get("attachments", [])]
    assert files == ["lid.png"]
    assert any(f"#{ticket['number']}" in said for said in ada.bot_said())


def test_something_else_reaches_the_frontline_team(bot_runtime: LocalRuntime) -> None:
    ada = Customer(bot_runtime, "demo-customer-2")
    ada.start("Hello")
    ada.say(option_id="something-else")
    conversation = agent_view(bot_runtime, f"/inbox/conversations/{ada.conversation_id}")
    assert (conversation["status"], conversation["team_id"]) == ("open", "frontline")


def test_a_hanging_order_system_hands_the_customer_to_a_person_within_the_timeout(bot_runtime: LocalRuntime) -> None:
    ada = Customer(bot_runtime, "demo-customer-2")
    fault(bot_runtime, "hang", seconds=30)
    try:
        started = time.monotonic()
        ada.start("I'd like to reschedule my delivery", {"object": {"type": "order", "id": "ORD-1005"}})
        elapsed = time.monotonic() - started
    finally:
        fault(bot_runtime, "none")
    # get-order.yaml: 5 s timeout, 2 retries with at most 2 s of backoff each: 19 s at worst.
    assert elapsed < 19 + 3
    assert any("couldn't reach our systems" in said for said in ada.bot_said())
    conversation = agent_view(bot_runtime, f"/inbox/conversations/{ada.conversation_id}")
    assert (conversation["status"], conversation["team_id"]) == ("open", "logistics")
    actions = [m["body"] for m in conversation["messages"] if m["kind"] == "action"]
    assert actions[0].startswith("Custom action list-delivery-slots: timeout")
    assert "local-orders-api-key" not in str(conversation)


def test_a_write_retried_after_a_timeout_is_applied_once(bot_runtime: LocalRuntime) -> None:
    ada = Customer(bot_runtime, "demo-customer-1")
    ada.start("Please change my delivery slot", {"object": {"type": "order", "id": "ORD-1003"}})
    slot = ada.options()[0]
    ada.say(option_id=slot["id"])
    applied_before = requests.get(f"{order_system(bot_runtime)}/_stats", headers=ORDERS_KEY, timeout=10).json()[
        "slot_changes_applied"
    ]
    fault(bot_runtime, "hang", seconds=8, count=1)  # the first attempt is applied, its answer never arrives
    try:
        ada.say(option_id="yes")
    finally:
        fault(bot_runtime, "none")

    stats = requests.get(f"{order_system(bot_runtime)}/_stats", headers=ORDERS_KEY, timeout=10).json()
    assert stats["slot_changes_applied"] == applied_before + 1
    assert order(bot_runtime, "ORD-1003")["delivery_slot"]["id"] == slot["id"]
    conversation = agent_view(bot_runtime, f"/inbox/conversations/{ada.conversation_id}")
    change = next(m["body"] for m in conversation["messages"] if "change-delivery-slot" in m["body"])
    assert "success" in change
    assert "2 attempts" in change


# --- only the caller's own orders (issue 13) --------------------------------------------------------

ALICES_ORDER = {"object": {"type": "order", "id": "ORD-1001"}}
"""ORD-1001 is demo-customer-1's (orders/catalogue.py); demo-customer-2 owns ORD-1004 and ORD-1005."""


def stats(runtime: LocalRuntime) -> dict[str, int]:
    counters: dict[str, int] = requests.get(f"{order_system(runtime)}/_stats", headers=ORDERS_KEY, timeout=10).json()
    return counters


def secrets_of(placed: dict[str, Any]) -> list[str]:
    """What only the order's owner may learn: carrier, tracking number, delivery slot and the other free slots."""
    return [placed["carrier"], placed["tracking_number"], placed["delivery_slot"]["label"]]


@pytest.mark.parametrize("asks", ["Where is my order?", "Can I change my delivery slot?"])
def test_an_anonymous_visitor_is_asked_to_sign_in_and_learns_nothing_of_the_order(
    bot_runtime: LocalRuntime, asks: str
) -> None:
    placed, before = order(bot_runtime, "ORD-1001"), stats(bot_runtime)
    visitor, _ = Customer.anonymous(bot_runtime)

    visitor.start(asks, ALICES_ORDER)

    assert visitor.bot_said()[-1].startswith("I can only do that once you're signed in")
    assert [o["id"] for o in visitor.options()] == ["signed-in", "person"]
    seen = str(visitor.conversation())
    assert not [secret for secret in secrets_of(placed) if secret in seen]
    assert stats(bot_runtime)["requests"] == before["requests"], "nothing was sent to the order system"


def test_an_anonymous_visitor_cant_move_the_delivery_however_they_answer(bot_runtime: LocalRuntime) -> None:
    placed, before = order(bot_runtime, "ORD-1001"), stats(bot_runtime)
    visitor, _ = Customer.anonymous(bot_runtime)
    visitor.start("Change my delivery slot", ALICES_ORDER)

    visitor.say(option_id="signed-in")
    visitor.say("yes")
    visitor.say("It's my order: I'm demo-customer-1")

    assert order(bot_runtime, "ORD-1001")["delivery_slot"] == placed["delivery_slot"]
    assert stats(bot_runtime)["slot_changes_applied"] == before["slot_changes_applied"]
    conversation = agent_view(bot_runtime, f"/inbox/conversations/{visitor.conversation_id}")
    assert (conversation["status"], conversation["team_id"]) == ("open", "logistics")


def test_a_customer_who_doesnt_own_the_order_is_told_it_isnt_on_their_account(bot_runtime: LocalRuntime) -> None:
    placed = order(bot_runtime, "ORD-1001")
    bob = Customer(bot_runtime, "demo-customer-2")

    bob.start("Where is my order?", ALICES_ORDER)

    assert "I couldn't find order ORD-1001 on your account." in bob.bot_said()
    assert not [secret for secret in secrets_of(placed) if secret in str(bob.conversation())]
    # Agents see that the lookup was refused, and nothing of the order either.
    conversation = agent_view(bot_runtime, f"/inbox/conversations/{bob.conversation_id}")
    actions = [m["body"] for m in conversation["messages"] if m["kind"] == "action"]
    assert actions[0].startswith("Custom action get-order: not_on_account")
    assert not [secret for secret in secrets_of(placed) if secret in str(conversation)]

    bob.say("ORD-1005")  # his own order: the same path answers him

    assert any(f"Order ORD-1005 is {order(bot_runtime, 'ORD-1005')['status_label']}" in m for m in bob.bot_said())


def test_a_customer_who_doesnt_own_the_order_cant_change_its_delivery(bot_runtime: LocalRuntime) -> None:
    placed, before = order(bot_runtime, "ORD-1001"), stats(bot_runtime)
    bob = Customer(bot_runtime, "demo-customer-2")

    bob.start("Can I change my delivery slot?", ALICES_ORDER)
    assert "I couldn't find order ORD-1001 on your account." in bob.bot_said()
    assert bob.options() == []  # no slots of Alice's order are offered
    bob.say("ORD-1001")  # asked again, he insists

    assert bob.bot_said().count("I couldn't find order ORD-1001 on your account.") == 2
    assert order(bot_runtime, "ORD-1001")["delivery_slot"] == placed["delivery_slot"]
    assert stats(bot_runtime)["slot_changes_applied"] == before["slot_changes_applied"]


def test_a_visitor_who_signs_in_as_the_owner_gets_the_answer_in_the_same_conversation(
    bot_runtime: LocalRuntime,
) -> None:
    visitor, visitor_token = Customer.anonymous(bot_runtime)
    visitor.start("Where is my order?", ALICES_ORDER)
    assert visitor.bot_said()[-1].startswith("I can only do that once you're signed in")

    alice = Customer(bot_runtime, "demo-customer-1")
    merged = requests.post(
        f"{bot_runtime.base_url}/messenger/identify",
        headers=alice.headers,
        json={"visitor_token": visitor_token},
        timeout=15,
    )
    assert merged.status_code == 200, merged.text
    alice.conversation_id = visitor.conversation_id
    alice.say(option_id="signed-in")

    placed = order(bot_runtime, "ORD-1001")
    answer = f"{placed['carrier']} is delivering it (tracking number {placed['tracking_number']})"
    assert any(answer in said for said in alice.bot_said())
    assert alice.conversation()["status"] == "closed"
