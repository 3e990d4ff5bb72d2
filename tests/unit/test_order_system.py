"""The demo order system over HTTP: orders for the demo customers, slot changes, idempotency, auth and faults."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests
from localrt.identities import DEMO_CUSTOMERS
from orders import OrderSystem, start_order_system

API_KEY = "test-orders-api-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def orders() -> Iterator[OrderSystem]:
    system = start_order_system(api_key=API_KEY)
    yield system
    system.stop()


def get(system: OrderSystem, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{system.url}{path}", headers=kwargs.pop("headers", AUTH), timeout=5, **kwargs)


def put_slot(system: OrderSystem, order_id: str, slot_id: str, key: str | None = None) -> requests.Response:
    headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
    return requests.put(
        f"{system.url}/orders/{order_id}/delivery-slot", json={"slot_id": slot_id}, headers=headers, timeout=5
    )


def stats(system: OrderSystem) -> dict[str, int]:
    counters: dict[str, int] = get(system, "/_stats").json()
    return counters


def test_the_demo_customers_have_three_and_two_orders(orders: OrderSystem) -> None:
    by_customer: dict[str, list[str]] = {}
    for order_id in orders.orders:
        order = get(orders, f"/orders/{order_id}").json()
        by_customer.setdefault(order["customer_id"], []).append(order["id"])

    assert {customer: len(ids) for customer, ids in by_customer.items()} == {"demo-customer-1": 3, "demo-customer-2": 2}
    assert set(by_customer) == {customer_id for customer_id, _ in DEMO_CUSTOMERS}


def test_an_order_shows_items_status_carrier_tracking_and_its_slot(orders: OrderSystem) -> None:
    order = get(orders, "/orders/ORD-1001").json()

    assert order["status"] == "shipped"
    assert order["carrier"] == "DHL"
    assert order["tracking_number"]
    assert order["items"][0] == {"sku": "MUG-CER-01", "name": "Ceramic mug, blue", "qty": 2, "price": "12.50"}
    assert order["total"] == "33.90"
    assert order["estimated_delivery"] == order["delivery_slot"]["date"]
    assert date.fromisoformat(order["estimated_delivery"]) > date.today()


def test_orders_need_the_api_key_but_health_does_not(orders: OrderSystem) -> None:
    assert get(orders, "/health", headers={}).json() == {"ok": True}
    assert get(orders, "/orders/ORD-1001", headers={}).status_code == 401
    assert get(orders, "/orders/ORD-1001", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert get(orders, "/orders/ORD-9999").status_code == 404


def test_changing_the_slot_moves_the_delivery_and_frees_the_old_slot(orders: OrderSystem) -> None:
    before = get(orders, "/orders/ORD-1001").json()["delivery_slot"]
    free = get(orders, "/orders/ORD-1001/delivery-slots").json()["slots"]
    assert before["id"] not in {s["id"] for s in free}

    changed = put_slot(orders, "ORD-1001", free[-1]["id"])

    assert changed.status_code == 200
    assert changed.json()["delivery_slot"] == free[-1]
    assert get(orders, "/orders/ORD-1001").json()["estimated_delivery"] == free[-1]["date"]
    now_free = {s["id"] for s in get(orders, "/orders/ORD-1001/delivery-slots").json()["slots"]}
    assert before["id"] in now_free
    assert free[-1]["id"] not in now_free


def test_a_delivered_order_keeps_its_slot_and_an_unknown_slot_is_refused(orders: OrderSystem) -> None:
    free_1001 = get(orders, "/orders/ORD-1001/delivery-slots").json()["slots"]

    delivered = put_slot(orders, "ORD-1002", free_1001[0]["id"])
    unknown = put_slot(orders, "ORD-1001", "1999-01-01-morning")

    assert delivered.status_code == 409
    assert "delivered" in delivered.json()["error"]
    assert unknown.status_code == 422
    assert "not one of the free slots" in unknown.json()["error"]
    assert stats(orders)["slot_changes_applied"] == 0


def test_the_same_idempotency_key_gets_the_same_answer_and_applies_once(orders: OrderSystem) -> None:
    first_choice, second_choice = (s["id"] for s in get(orders, "/orders/ORD-1003/delivery-slots").json()["slots"][:2])

    first = put_slot(orders, "ORD-1003", first_choice, key="change-1")
    again = put_slot(orders, "ORD-1003", first_choice, key="change-1")
    other_body = put_slot(orders, "ORD-1003", second_choice, key="change-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert other_body.status_code == 422
    assert "different request" in other_body.json()["error"]
    assert stats(orders)["slot_changes_applied"] == 1
    assert stats(orders)["idempotent_replays"] == 1


def test_faults_set_over_http_affect_the_next_requests_then_stop(orders: OrderSystem) -> None:
    response = requests.post(f"{orders.url}/_faults", json={"mode": "error", "count": 1}, headers=AUTH, timeout=5)
    assert response.status_code == 200

    assert get(orders, "/orders/ORD-1001").status_code == 503
    assert get(orders, "/orders/ORD-1001").status_code == 200

    orders.set_fault("malformed", count=1)
    with pytest.raises(requests.JSONDecodeError):
        get(orders, "/orders/ORD-1001").json()

    orders.set_fault("down_once")
    with pytest.raises(requests.ConnectionError):
        get(orders, "/orders/ORD-1001")
    assert get(orders, "/orders/ORD-1001").status_code == 200


def test_an_unknown_fault_mode_is_refused_with_the_modes_that_exist(orders: OrderSystem) -> None:
    response = requests.post(f"{orders.url}/_faults", json={"mode": "explode"}, headers=AUTH, timeout=5)

    assert response.status_code == 422
    assert "hang" in response.json()["error"]
    assert "down_once" in response.json()["error"]


def test_stopping_answers_held_requests_at_once_and_then_refuses_connections(orders: OrderSystem) -> None:
    orders.set_fault("hang", seconds=30)
    url = orders.url
    started = time.monotonic()
    answers: list[int] = []
    waiting = threading.Thread(target=lambda: answers.append(get(orders, "/orders/ORD-1001").status_code))
    waiting.start()
    time.sleep(0.3)

    orders.stop()
    waiting.join(timeout=5)

    assert answers == [200]
    assert time.monotonic() - started < 5
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/health", timeout=2)


def test_an_api_key_is_required_to_start() -> None:
    with pytest.raises(ValueError, match="api_key is required"):
        start_order_system(api_key="")


def on_behalf_of(customer_id: str) -> dict[str, str]:
    return {**AUTH, "X-Customer-Id": customer_id}


@pytest.mark.parametrize("path", ["/orders/ORD-1001", "/orders/ORD-1001/delivery-slots"])
def test_on_behalf_of_a_customer_only_their_own_orders_are_found(orders: OrderSystem, path: str) -> None:
    owner = get(orders, path, headers=on_behalf_of("demo-customer-1"))
    someone_else = get(orders, path, headers=on_behalf_of("demo-customer-2"))
    nobody = get(orders, path, headers=on_behalf_of(""))
    missing = get(orders, path.replace("ORD-1001", "ORD-9999"), headers=on_behalf_of("demo-customer-2"))

    assert owner.status_code == 200
    assert owner.json()["customer_id"] == "demo-customer-1"
    # Another customer's order looks exactly like one that doesn't exist.
    assert someone_else.status_code == nobody.status_code == missing.status_code == 404
    assert someone_else.json() == {"error": "no order ORD-1001"}
    assert "JD0146" not in someone_else.text


def test_another_customers_slot_change_is_refused_before_anything_changes(orders: OrderSystem) -> None:
    before = orders.orders["ORD-1001"].delivery_slot
    slot_id = orders.orders["ORD-1001"].free_slots[0].id
    headers = {**on_behalf_of("demo-customer-2"), "Idempotency-Key": "k-stranger"}

    refused = requests.put(
        f"{orders.url}/orders/ORD-1001/delivery-slot", json={"slot_id": slot_id}, headers=headers, timeout=5
    )

    assert refused.status_code == 404
    assert orders.orders["ORD-1001"].delivery_slot == before
    assert stats(orders)["slot_changes_applied"] == 0


def test_an_idempotency_key_replays_nothing_to_another_customer(orders: OrderSystem) -> None:
    slot_id = orders.orders["ORD-1001"].free_slots[0].id

    def change(customer_id: str) -> requests.Response:
        headers = {**on_behalf_of(customer_id), "Idempotency-Key": "shared-key"}
        return requests.put(
            f"{orders.url}/orders/ORD-1001/delivery-slot", json={"slot_id": slot_id}, headers=headers, timeout=5
        )

    assert change("demo-customer-1").status_code == 200
    replayed_to_stranger = change("demo-customer-2")

    assert replayed_to_stranger.status_code == 404
    assert "tracking_number" not in replayed_to_stranger.text
    assert stats(orders)["idempotent_replays"] == 0
