"""5. Load on the local runtime: 50 customers each sending 20 messages while 5 agents reply and convert.

Over real HTTP against ``python -m localrt`` (the demo workspace without its bot). Each customer
starts a conversation and sends its messages one after another; each agent looks after every fifth
conversation: reads it, replies, and converts it into a ticket once the customer has said enough.
Afterwards every conversation is read back: each customer's 20 messages must all be there, once,
in the order sent, and every ticket number must be unique. The runtime runs without moto's
whole-table snapshot per transaction (``harness.no_table_snapshots``), so the figures are ours,
not that O(table) copy's; any failed request is listed, so a transaction that needed it shows.
moto's requests are serialized, as the project's concurrency tests do (moto has no locks; DynamoDB
applies each request atomically).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import requests

from bench.harness import Result, percentile
from bench.runtime import Runtime, local_runtime

CUSTOMERS = 50
MESSAGES = 20
AGENTS = 5
CONVERT_AFTER = 10
"""An agent converts a conversation once its customer has sent this many messages."""
TIMEOUT = 60
RETRIES = 6
AGENT_DEADLINE = 600


@dataclass
class Shared:
    conversations: dict[int, str] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    accepted: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    """The messages the API answered 2xx for, per customer: the ones that must be there afterwards."""
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    ticket_numbers: list[int] = field(default_factory=list)
    customers_done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    connection_retries: int = 0

    def timed(
        self, kind: str, session: requests.Session, method: str, url: str, **kwargs: Any
    ) -> requests.Response | None:
        """The request, timed from the first attempt; a connection the gateway reset is tried again.

        The local gateway (``ThreadingHTTPServer``) listens with socketserver's backlog of 5, so a burst
        of new connections gets some reset before the request is read. Trying again could only ever
        duplicate a message if the request had been processed: the read-back afterwards would show it.
        """
        started = time.perf_counter()
        for attempt in range(RETRIES + 1):
            try:
                response = session.request(method, url, timeout=TIMEOUT, **kwargs)
                break
            except requests.ConnectionError as error:
                with self.lock:
                    self.connection_retries += 1
                if attempt == RETRIES:
                    self._failed(kind, error)
                    return None
                time.sleep(0.05 * 2**attempt)
            except requests.RequestException as error:  # e.g. a timeout: it may have been processed, never retried
                self._failed(kind, error)
                return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[kind].append(elapsed)
            if not response.ok:
                self.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
        return response

    def _failed(self, kind: str, error: Exception) -> None:
        with self.lock:
            self.errors.append(f"{kind}: {type(error).__name__}")


def _customer(runtime: Runtime, shared: Shared, n: int) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {runtime.customer_token(f'load-customer-{n}', name=f'Customer {n}')}"
    base = f"{runtime.base_url}/messenger/conversations"
    started = shared.timed("customer: start conversation", session, "POST", base, json={"body": f"c{n} m0"})
    if started is None or not started.ok:
        return
    conversation = started.json()["id"]
    with shared.lock:
        shared.conversations[n] = conversation
        shared.sent[n] = 1
        shared.accepted[n].append(f"c{n} m0")
    for k in range(1, MESSAGES):
        sent = shared.timed(
            "customer: send message", session, "POST", f"{base}/{conversation}/messages", json={"body": f"c{n} m{k}"}
        )
        if sent is not None and sent.ok:
            with shared.lock:
                shared.sent[n] = k + 1
                shared.accepted[n].append(f"c{n} m{k}")


def _agent(runtime: Runtime, shared: Shared, a: int) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {runtime.agent_token(f'load-agent-{a}', ['frontline', 'returns'])}"
    mine = [n for n in range(CUSTOMERS) if n % AGENTS == a]
    replied: set[int] = set()
    converted: set[int] = set()
    deadline = time.monotonic() + AGENT_DEADLINE
    while len(converted) < len(mine) and time.monotonic() < deadline:
        for n in mine:
            with shared.lock:
                conversation, sent = shared.conversations.get(n), shared.sent.get(n, 0)
            if conversation is None or n in converted:
                continue
            url = f"{runtime.base_url}/inbox/conversations/{conversation}"
            if n not in replied:
                shared.timed("agent: read conversation", session, "GET", url)
                shared.timed("agent: reply", session, "POST", f"{url}/replies", json={"body": f"Hello customer {n}"})
                replied.add(n)
            elif sent >= CONVERT_AFTER or shared.customers_done.is_set():
                shared.timed("agent: read conversation", session, "GET", url)
                ticket = shared.timed(
                    "agent: convert to ticket",
                    session,
                    "POST",
                    f"{url}/ticket",
                    json={
                        "ticket_type_id": "damaged-item",
                        "team_id": "returns",
                        "attributes": {"order_id": f"ORD-{n}", "description": f"Customer {n}'s parcel"},
                    },
                )
                converted.add(n)  # tried once: a failure is counted, never retried into a duplicate
                if ticket is not None and ticket.ok:
                    with shared.lock:
                        shared.ticket_numbers.append(int(ticket.json()["number"]))
        if shared.customers_done.is_set() and len(shared.conversations) < CUSTOMERS:
            break  # some customers never got a conversation: counted as errors already
        time.sleep(0.2)


def _check(runtime: Runtime, shared: Shared) -> dict[str, int]:
    lost = duplicated = out_of_order = 0
    for n in range(CUSTOMERS):
        conversation = shared.conversations.get(n)
        if conversation is None:
            continue  # never accepted: counted among the failed requests
        token = runtime.customer_token(f"load-customer-{n}")
        page = requests.get(
            f"{runtime.base_url}/messenger/conversations/{conversation}?limit=100",
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        ).json()
        mine = [m["body"] for m in page["messages"] if m["author"]["type"] == "customer"]
        expected = shared.accepted[n]
        lost += len(set(expected) - set(mine))
        duplicated += len(mine) - len(set(mine))
        out_of_order += int([b for b in mine if b in expected] != [b for b in expected if b in mine])
    return {"lost": lost, "duplicated": duplicated, "out_of_order": out_of_order}


def run() -> list[Result]:
    from tests.support.workspaces import agents_only_workspace

    # moto snapshots the whole table on every transaction (see harness.no_table_snapshots): left in, the
    # figures measure that, as it grows with the table. Every write here must succeed (checked below).
    with local_runtime(
        "bench.instrumented_runtime",
        LOCAL_WORKSPACE_DIR=str(agents_only_workspace()),
        BENCH_NO_TABLE_SNAPSHOTS="1",
        BENCH_SERIALIZE_DYNAMODB="1",
    ) as runtime:
        shared = Shared()
        customers = [threading.Thread(target=_customer, args=(runtime, shared, n)) for n in range(CUSTOMERS)]
        agents = [threading.Thread(target=_agent, args=(runtime, shared, a)) for a in range(AGENTS)]
        started = time.perf_counter()
        for thread in [*customers, *agents]:
            thread.start()
        for thread in customers:
            thread.join()
        shared.customers_done.set()
        for thread in agents:
            thread.join()
        seconds = time.perf_counter() - started
        checked = _check(runtime, shared)
    all_latencies = [s for values in shared.latencies.values() for s in values]
    customer_messages = sum(shared.sent.values())
    numbers = shared.ticket_numbers
    unique = len(numbers) == len(set(numbers))
    correct = not any(checked.values()) and unique
    by_kind = {
        kind: {
            "requests": len(v),
            "p50_ms": round(percentile(v, 0.5) * 1000, 1),
            "p95_ms": round(percentile(v, 0.95) * 1000, 1),
        }
        for kind, v in sorted(shared.latencies.items())
    }
    common = {"customers": CUSTOMERS, "messages_each": MESSAGES, "agents": AGENTS, "seconds": round(seconds, 1)}
    return [
        Result(
            benchmark="load",
            figure=f"{CUSTOMERS}x{MESSAGES} messages, {AGENTS} agents: accepted messages lost, duplicated, reordered",
            value=sum(checked.values()),
            unit="",
            goal="0, and every ticket number unique",
            met=correct,
            details={**checked, "tickets": len(numbers), "ticket_numbers_unique": unique, **common},
        ),
        Result(
            benchmark="load",
            figure="requests that failed (error answer or no answer)",
            value=len(shared.errors),
            unit="requests",
            goal="0",
            met=not shared.errors,
            details={
                "errors": shared.errors[:20],
                "connection_retries": shared.connection_retries,
                "customer_messages_accepted": sum(len(v) for v in shared.accepted.values()),
                "tickets_created": len(numbers),
            },
        ),
        Result(
            benchmark="load",
            figure="throughput (all requests)",
            value=round(len(all_latencies) / seconds, 1),
            unit="req/s",
            goal="reported",
            met=None,
            details={
                "requests": len(all_latencies),
                "customer_messages_per_s": round(customer_messages / seconds, 1),
                **common,
            },
        ),
        Result(
            benchmark="load",
            figure="latency p50 (all requests)",
            value=round(percentile(all_latencies, 0.5) * 1000, 1),
            unit="ms",
            goal="reported",
            met=None,
            details={"by_request": by_kind},
        ),
        Result(
            benchmark="load",
            figure="latency p95 (all requests)",
            value=round(percentile(all_latencies, 0.95) * 1000, 1),
            unit="ms",
            goal="reported",
            met=None,
            details={},
        ),
    ]
