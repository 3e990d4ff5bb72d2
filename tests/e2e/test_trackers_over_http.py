"""Tracker tickets on the local runtime: the fan-out runs through the real queue and its poller."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_resolving_a_tracker_reaches_every_linked_customer(local_runtime: Any) -> None:
    base = local_runtime.base_url
    logistics = {"Authorization": f"Bearer {local_runtime.agent_token('agent-lou', ['logistics'])}"}
    frontline = {"Authorization": f"Bearer {local_runtime.agent_token('agent-fay', ['frontline'])}"}
    customers = [f"tracker-customer-{n}" for n in range(30)]
    ticket_ids = []
    for customer in customers:
        token = local_runtime.customer_token(customer)
        conversation = requests.post(
            f"{base}/messenger/conversations",
            headers={"Authorization": f"Bearer {token}"},
            json={"body": "Where is my parcel?"},
            timeout=10,
        ).json()
        ticket = requests.post(
            f"{base}/inbox/conversations/{conversation['id']}/ticket",
            headers=frontline,
            json={"ticket_type_id": "delivery-problem", "attributes": {"order_id": f"O-{customer}", "problem": "late"}},
            timeout=10,
        ).json()
        ticket_ids.append(ticket["id"])
    tracker = requests.post(
        f"{base}/inbox/tickets",
        headers=logistics,
        json={
            "ticket_type_id": "delivery-problem",
            "category": "tracker",
            "title": "Carrier outage",
            "attributes": {"order_id": "many", "problem": "late"},
        },
        timeout=10,
    ).json()
    # One transaction of 60 items: moto copies its whole table per transacted item, so this is slow
    # locally (never in DynamoDB) while the runtime's workers are busy with the 30 new tickets.
    linked = requests.post(
        f"{base}/inbox/tickets/{tracker['id']}/links", headers=logistics, json={"ticket_ids": ticket_ids}, timeout=90
    )
    assert linked.json() == {"linked": 30}

    resolved = requests.patch(
        f"{base}/inbox/tickets/{tracker['id']}",
        headers=logistics,
        json={"version": tracker["version"], "state_id": "delivered"},
        timeout=10,
    )
    assert resolved.status_code == 200

    # (the fan-out is paged through a queue, on moto, beside the other tests' traffic: give it time)
    deadline = time.monotonic() + 180
    pending = set(customers)
    while pending and time.monotonic() < deadline:
        for customer in sorted(pending):
            token = local_runtime.customer_token(customer)
            mine = requests.get(
                f"{base}/messenger/tickets", headers={"Authorization": f"Bearer {token}"}, timeout=10
            ).json()
            if mine["items"][0]["state"]["category"] == "resolved":
                pending.discard(customer)
        time.sleep(0.5)
    assert not pending, f"{len(pending)} customers never saw the resolution"
    token = local_runtime.customer_token(customers[0])
    detail = requests.get(
        f"{base}/messenger/tickets/{ticket_ids[0]}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert detail["timeline"][-1]["body"] == "Update on the issue affecting you: Delivered"
