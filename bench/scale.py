"""4. Scale: items read and time for three reads with 1,000 vs 100,000 tickets in the table.

The tickets are written straight into moto with ``batch_write_item`` (items built by
``helpdesk.adapters.mapping``, as the repository writes them); the reads go through the real
handlers. Items read are what the Query answered (``ScannedCount``): what DynamoDB bills for.
The goal is flat: items read <= page size + 1 at both sizes. Times are reported as a ratio, but
moto answers a Query by walking the table's items, so on moto the time can't be flat
even where DynamoDB's would be; items read is the figure DynamoDB's cost and latency follow.
"""

from __future__ import annotations

import time
from typing import Any

from bench.api import RETURNS, InProcessApi, agent_context, customer_context, proxy_event
from bench.harness import DynamoRecorder, Result, in_memory_aws, median

SIZES = (1_000, 100_000)
MY_TICKETS = 30
"""The customer whose tickets are listed has this many, whatever the table's size."""
MESSAGES = 60
NEW_MESSAGES = 10
MOTO_NOTE = "moto walks the table's items for a Query: its time grows with the table; DynamoDB's doesn't"


def _seed(total: int, template: Any) -> None:
    """``total`` tickets (``MY_TICKETS`` of them the demo customer's), 25 items per BatchWriteItem."""
    import boto3
    from helpdesk.adapters import mapping
    from helpdesk.adapters.table import TableItem
    from helpdesk.domain.models import new_id

    client, table = boto3.client("dynamodb"), TableItem.Meta.table_name
    batch: list[dict[str, Any]] = []
    for n in range(total):
        customer = template.customer_id if n < MY_TICKETS else f"scale-customer-{n % 5000}"
        ticket = template.model_copy(update={"id": new_id(), "number": 10_000 + n, "customer_id": customer})
        batch.append({"PutRequest": {"Item": mapping.ticket_item(ticket).serialize()}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})


def _measure(api: InProcessApi, recorder: DynamoRecorder, event: dict[str, Any], repeats: int) -> dict[str, Any]:
    seconds, items = [], 0
    for _ in range(repeats):
        recorder.reset()
        started = time.perf_counter()
        reply = api.call(event)
        seconds.append(time.perf_counter() - started)
        if reply.status != 200:
            raise RuntimeError(f"{event['path']} answered {reply.status}: {reply.body}")
        items = recorder.items_read()
    return {
        "ms": round(median(seconds) * 1000, 2),
        "items_read": items,
        "page": len(reply.body.get("items") or reply.body.get("messages") or []),
    }


def _one_size(total: int, repeats: int) -> dict[str, dict[str, Any]]:
    from helpdesk import wiring
    from helpdesk.api.bodies import DEFAULT_PAGE_SIZE

    with in_memory_aws(), DynamoRecorder() as recorder:
        api = InProcessApi(recorder)
        me = customer_context()
        started = api.call(proxy_event("POST", "/messenger/conversations", body={"body": "message 0"}, authorizer=me))
        conversation = started.body["id"]
        for n in range(1, MESSAGES):
            api.call(
                proxy_event(
                    "POST",
                    f"/messenger/conversations/{conversation}/messages",
                    body={"body": f"message {n}"},
                    authorizer=me,
                )
            )
        ticket_id = api.call(
            proxy_event(
                "POST",
                f"/inbox/conversations/{conversation}/ticket",
                body={
                    "ticket_type_id": "damaged-item",
                    "team_id": "returns",
                    "attributes": {"order_id": "ORD-1", "description": "x"},
                },
                authorizer=agent_context(("agent-frontline", "frontline")),
            )
        ).body["id"]
        page = api.call(proxy_event("GET", f"/messenger/conversations/{conversation}?limit=100", authorizer=me)).body
        cursor = page["messages"][-1 - NEW_MESSAGES]["id"]
        template = wiring.stores().tickets.get_ticket(ticket_id)
        _seed(total - 1, template)
        reads = {
            "list my tickets": (proxy_event("GET", "/messenger/tickets", authorizer=me), DEFAULT_PAGE_SIZE),
            "inbox view page": (
                proxy_event(
                    "GET", "/inbox/tickets?team_id=returns&category=submitted", authorizer=agent_context(RETURNS)
                ),
                DEFAULT_PAGE_SIZE,
            ),
            "fetch new messages": (
                proxy_event("GET", f"/messenger/conversations/{conversation}?after={cursor}", authorizer=me),
                NEW_MESSAGES,
            ),
        }
        return {
            name: {**_measure(api, recorder, event, repeats), "page_size": size}
            for name, (event, size) in reads.items()
        }


def run(repeats: int = 5) -> list[Result]:
    small, large = (_one_size(total, repeats) for total in SIZES)
    results = []
    for name in small:
        a, b = small[name], large[name]
        limit = b["page_size"] + 1
        results.append(
            Result(
                benchmark="scale",
                figure=f"{name}: items read at {SIZES[1]:,} tickets (at {SIZES[0]:,}: {a['items_read']})",
                value=b["items_read"],
                unit="items",
                goal=f"<= page size + 1 ({limit}), flat",
                met=a["items_read"] <= limit and b["items_read"] <= limit and b["items_read"] <= a["items_read"] + 1,
                details={
                    f"{SIZES[0]}": a,
                    f"{SIZES[1]}": b,
                    "time_ratio_on_moto": round(b["ms"] / a["ms"], 2),
                    "on_moto": MOTO_NOTE,
                },
            )
        )
    return results
