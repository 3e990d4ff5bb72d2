"""11. Search: latency (p50/p95) of ``GET /inbox/search`` at 100,000 tickets, and items read per search.

The table gets 100,000 tickets (each with its search keys, as the store writes them: number, order
id, title words), 5,000 customers' profiles and 2,000 conversations with their keys, straight into
moto's table (its HTTP path is far slower); the full-text index gets the conversations' 20,000 messages through
the indexer's own adapter (SQLite FTS5, in moto's S3). The searches go through the real inbox handler as
an admin: an exact order id, an order-id prefix, a ticket number, an email prefix and a word from the
messages. Items read are what the Query and the BatchGetItem answered (what DynamoDB bills for);
the goal is at most 2 requests and no more items than the one page of keys plus what it names,
whatever the table's size. moto sorts the whole table for every Query, so for this benchmark its
Query reads only the partition named (as DynamoDB does), and the time spent inside moto is left out of
the latency: what is measured is the handler, the policy and the SQLite index. Seeding takes 5-13 minutes on a
shared 2-core machine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.api import InProcessApi, agent_context, proxy_event
from bench.harness import DynamoRecorder, Result, in_memory_aws, percentile

TICKETS = 100_000
CUSTOMERS = 5_000
CONVERSATIONS = 2_000
MESSAGES_EACH = 10
REPEATS = 20
INDEX_BUCKET = "helpdesk-bench-search-index"
WORDS = ("parcel", "refund", "teapot", "courier", "invoice", "lid", "scratch", "delay", "address", "receipt")


def _moto_table(name: str) -> Any:
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][boto3.session.Session().region_name].get_table(name)


def _batch(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    """Straight into moto's table (its HTTP path would take a quarter of an hour for 700,000 items), no stream."""
    moto_table = _moto_table(table)
    shard, moto_table.stream_shard = moto_table.stream_shard, None
    try:
        for item in items:
            moto_table.put_item(item)
    finally:
        moto_table.stream_shard = shard


@contextmanager
def partition_local_queries() -> Iterator[None]:
    """moto answers a Query by sorting every item of the table; DynamoDB reads the one partition. For this
    benchmark only, moto's Query on the table reads the partition it names, as DynamoDB does."""
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("index_name") is not None or hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        self.all_items = lambda: list(self.items.get(hash_key, {}).values())
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = original  # type: ignore[method-assign]


@contextmanager
def dynamodb_time() -> Iterator[list[float]]:
    """Seconds spent in each DynamoDB call (moto's, in-process): subtracted, since moto's time isn't DynamoDB's."""
    import botocore.client

    spent: list[float] = []
    original = botocore.client.BaseClient._make_api_call

    def timed(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name != "dynamodb":
            return original(client, operation, params)
        began = time.perf_counter()
        try:
            return original(client, operation, params)
        finally:
            spent.append(time.perf_counter() - began)

    botocore.client.BaseClient._make_api_call = timed
    try:
        yield spent
    finally:
        botocore.client.BaseClient._make_api_call = original


def _seed(template: Any, tickets: int) -> list[Any]:
    """The tickets, customers and conversations with their keys; returns the conversations' messages' operations."""
    import boto3
    from helpdesk.adapters import mapping
    from helpdesk.adapters.search_keys import search_key_items
    from helpdesk.adapters.table import CustomerItem, TableItem
    from helpdesk.domain.models import Conversation, ConversationStatus, Customer, new_id, utc_now
    from helpdesk.domain.search_index import IndexedMessage, IndexOperation

    client, table = boto3.client("dynamodb"), TableItem.Meta.table_name
    items: list[dict[str, Any]] = []
    for n in range(tickets):
        ticket = template.model_copy(
            update={
                "id": new_id(),
                "number": 10_000 + n,
                "customer_id": f"customer-{n % CUSTOMERS}",
                "attributes": {"order_id": f"ORD-{100_000 + n}", "description": "seeded"},
            }
        )
        items.append(mapping.ticket_item(ticket).serialize())
        items += [k.serialize() for k in search_key_items(ticket)]
        if len(items) >= 2_500:
            _batch(client, table, items)
            items = []
    now = utc_now()
    for n in range(CUSTOMERS):
        customer = Customer(user_id=f"customer-{n}", email=f"customer-{n}@example.com", name=f"Customer Number{n}")
        profile = CustomerItem(
            pk=mapping.customer_pk(customer.user_id),
            sk="PROFILE",
            user_id=customer.user_id,
            email=customer.email,
            name=customer.name,
            created_at=now,
            updated_at=now,
        )
        items += [profile.serialize(), *(k.serialize() for k in search_key_items(customer))]
    operations: list[Any] = []
    for n in range(CONVERSATIONS):
        owner = f"customer-{n % CUSTOMERS}"
        conversation = Conversation(
            id=new_id(),
            customer_id=owner,
            customer_email=f"{owner}@example.com",
            customer_name=f"Customer Number{n % CUSTOMERS}",
            status=ConversationStatus.OPEN,
            team_id="returns",
            created_at=now,
            updated_at=now,
        )
        items += [mapping.conversation_item(conversation).serialize()]
        items += [k.serialize() for k in search_key_items(conversation)]
        for m in range(MESSAGES_EACH):
            body = f"message {m} about the {WORDS[(n + m) % len(WORDS)]} of order {n}"
            if n == CONVERSATIONS // 2 and m == 3:
                body = "the kettle whistles like a steam locomotive"
            message = IndexedMessage(new_id(), conversation.id, owner, body)
            operations.append(IndexOperation("add", message=message))
    _batch(client, table, items)
    return operations


def run(tickets: int = TICKETS) -> list[Result]:
    import boto3

    with in_memory_aws(), DynamoRecorder() as recorder:
        boto3.client("s3").create_bucket(Bucket=INDEX_BUCKET)
        os.environ["SEARCH_INDEX_BUCKET"] = INDEX_BUCKET
        from helpdesk import wiring
        from helpdesk.wiring import search as search_wiring

        wiring.reset()
        api = InProcessApi(recorder)
        admin = agent_context(("agent-admin", "admins"))
        started = api.call(
            proxy_event(
                "POST",
                "/inbox/tickets",
                body={
                    "ticket_type_id": "damaged-item",
                    "team_id": "returns",
                    "customer_id": "customer-0",
                    "attributes": {"order_id": "ORD-1", "description": "x"},
                },
                authorizer=admin,
            )
        )
        template = wiring.stores().tickets.get_ticket(started.body["id"])
        seeding = time.perf_counter()
        operations = _seed(template, tickets)
        search_wiring.message_index().apply(operations)
        seeded_s = time.perf_counter() - seeding

        queries = {
            "exact order id": f"ORD-{100_000 + tickets // 2}",
            "order id prefix": f"ord-{100_000 + tickets // 2}"[:-1],
            "ticket number": str(10_000 + tickets // 2),
            "email prefix": "customer-42@",
            "word from messages": "locomotive",
        }
        seconds: list[float] = []
        per_query: dict[str, dict[str, Any]] = {}
        for name, q in queries.items():
            times, items, calls, found = [], 0, 0, 0
            for _ in range(REPEATS):
                recorder.reset()
                with partition_local_queries(), dynamodb_time() as in_moto:
                    began = time.perf_counter()
                    reply = api.call(proxy_event("GET", f"/inbox/search?q={q}", authorizer=admin))
                    times.append(time.perf_counter() - began - sum(in_moto))
                if reply.status != 200:
                    raise RuntimeError(f"search {q!r} answered {reply.status}: {reply.body}")
                batch_read = sum(
                    len(found_items)
                    for call in recorder.calls
                    if call.operation == "BatchGetItem"
                    for found_items in (call.response or {}).get("Responses", {}).values()
                )
                items, calls = recorder.items_read() + batch_read, len(recorder.operations)
                found = sum(len(reply.body[k]) for k in ("customers", "tickets", "conversations"))
            if not found:
                raise RuntimeError(f"search {q!r} found nothing")
            seconds += times
            per_query[name] = {
                "q": q,
                "p50_ms": round(percentile(times, 0.5) * 1000, 1),
                "items_read": items,
                "dynamodb_calls": calls,
                "found": found,
            }
        os.environ.pop("SEARCH_INDEX_BUCKET", None)
        wiring.reset()
    most_items = max(q["items_read"] for q in per_query.values())
    most_calls = max(q["dynamodb_calls"] for q in per_query.values())
    details = {
        "queries": per_query,
        "seeded_seconds": round(seeded_s, 1),
        "on_moto": "moto sorts a partition per Query",
    }
    return [
        Result(
            benchmark="search",
            figure=f"p50 latency at {tickets:,} tickets (handler + full-text index; moto's DynamoDB time left out)",
            value=round(percentile(seconds, 0.5) * 1000, 1),
            unit="ms",
            goal="<= 100 ms (+ 2 DynamoDB requests)",
            met=percentile(seconds, 0.5) <= 0.1,
            details=details,
        ),
        Result(
            benchmark="search",
            figure=f"p95 latency at {tickets:,} tickets (handler + full-text index; moto's DynamoDB time left out)",
            value=round(percentile(seconds, 0.95) * 1000, 1),
            unit="ms",
            goal="<= 300 ms (+ 2 DynamoDB requests)",
            met=percentile(seconds, 0.95) <= 0.3,
        ),
        Result(
            benchmark="search",
            figure="items read per search, most of any query (DynamoDB requests: at most 2)",
            value=most_items,
            unit="items",
            goal="<= 160 (60 keys + 100 things), flat",
            met=most_items <= 160 and most_calls <= 2,
            details={"dynamodb_calls": most_calls},
        ),
    ]
