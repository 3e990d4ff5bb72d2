"""Issue 9 item 5: a full scenario on the local runtime while AWS throttles and fails now and then.

DynamoDB, SES, SNS, EventBridge and SQS calls fail at the rates in ``FAULTS`` (``localrt.faults``),
and the order system behind the bot's custom actions errors and hangs for part of it. Clients retry
failed writes with the same ``Idempotency-Key``, as the API asks them to. Afterwards, as the
customer sees it: every message once and in order, every ticket once with its own number, every
status update once per channel, every change on the bus under one ``event_id``, and whatever could
not be delivered in a DLQ. The figures are printed (``-s``) for the issue's note.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.conftest import REPO, LocalRuntime, running_local_runtime

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAULTS = "dynamodb=0.3,ses=0.4,sns=0.4,events=0.4,sqs=0.1,seed=7"
ORDERS_KEY = {"Authorization": "Bearer local-orders-api-key"}  # the local runtime's dev-only key
RETRY_FOR_SECONDS = 90  # longer than an in-progress idempotency record can block a retry (29 s locally)
TICKED = "snooze-waker"  # gets a tick every second: never empty for long, and has no work here


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    # PYTHONPATH: this checkout's code, not whichever one the venv's editable install points at.
    with running_local_runtime(
        tmp_path_factory.mktemp("localrt-faults"),
        LOCAL_FAULTS=FAULTS,
        LOCAL_TABLE_NAME="helpdesk-faults",
        PYTHONPATH=os.pathsep.join(str(REPO / d) for d in ("functions", "local")),
    ) as started:
        yield started


@dataclass
class Tally:
    requests: int = 0
    retried: Counter[str] = field(default_factory=Counter)


class Client:
    """A well-behaved API client: retries what may be retried, a write always with the same key."""

    def __init__(self, runtime: LocalRuntime, token: str, tally: Tally) -> None:
        self.base = runtime.base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.tally = tally

    def call(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if method in ("POST", "PUT", "PATCH"):
            headers["Idempotency-Key"] = uuid.uuid4().hex
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        delay = 0.2
        while True:
            self.tally.requests += 1
            try:
                response = requests.request(method, f"{self.base}{path}", headers=headers, timeout=60, **kwargs)
            except requests.RequestException as error:
                reason = type(error).__name__
            else:
                if not _retryable(response):
                    if response.status_code in ok:
                        return response
                    raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
                reason = str(response.status_code)
            self.tally.retried[reason] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path} still failing after {RETRY_FOR_SECONDS}s: {reason}")
            time.sleep(delay)
            delay = min(delay * 2, 3.0)

    def get(self, path: str) -> dict[str, Any]:
        return dict(self.call("GET", path).json())


def _retryable(response: requests.Response) -> bool:
    if response.status_code >= 500 or response.status_code == 429:
        return True
    if response.status_code == 409:
        return bool(response.json().get("error") == "idempotency_key_in_progress")
    return False


class Customer(Client):
    def __init__(self, runtime: LocalRuntime, index: int, tally: Tally) -> None:
        self.user_id = f"fault-customer-{index}"
        self.email = f"{self.user_id}@example.com"
        self.phone = f"+4477009001{index:02d}"
        token = runtime.customer_token(self.user_id, name=f"Customer {index}", email=self.email, phone=self.phone)
        super().__init__(runtime, token, tally)
        self.conversation_id = ""
        self.said: list[str] = []
        self.ticket: dict[str, Any] = {}

    def start(self, body: str) -> None:
        self.conversation_id = self.call("POST", "/messenger/conversations", json={"body": body}).json()["id"]
        self.said.append(body)

    def say(self, body: str = "", **extra: Any) -> None:
        if "option_id" in extra:  # picking an option says its label
            offered = [m for m in self.messages() if m["options"]][-1]["options"]
            body = next(o["label"] for o in offered if o["id"] == extra["option_id"])
        self.call("POST", f"/messenger/conversations/{self.conversation_id}/messages", json={"body": body, **extra})
        self.said.append(body)

    def messages(self) -> list[dict[str, Any]]:
        return list(self.get(f"/messenger/conversations/{self.conversation_id}?limit=100")["messages"])


def order_system(runtime: LocalRuntime) -> str:
    return str(requests.get(f"{runtime.base_url}/", timeout=10).json()["order_system"])


def order_faults(runtime: LocalRuntime, mode: str, **extra: Any) -> None:
    requests.post(
        f"{order_system(runtime)}/_faults", headers=ORDERS_KEY, json={"mode": mode, **extra}, timeout=10
    ).raise_for_status()


def moto(runtime: LocalRuntime, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local-dev",
        aws_secret_access_key="local-dev",
    )


def queue_depths(runtime: LocalRuntime) -> dict[str, int]:
    """Messages waiting or in flight, per queue (the workers' queues, their DLQs, the relays)."""
    sqs = moto(runtime, "sqs")
    depths = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        name = url.rsplit("/", 1)[-1]
        if name in ("local-event-log", TICKED):
            continue
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        depths[name] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return depths


def outbox(runtime: LocalRuntime) -> dict[str, Any]:
    return dict(requests.get(f"{runtime.base_url}/_local/outbox", timeout=30).json())


def settle(runtime: LocalRuntime, done: Callable[[dict[str, Any]], bool], timeout: float = 480) -> dict[str, Any]:
    """Wait until the workers' queues are drained, ``done`` holds and the outbox stopped changing."""
    deadline = time.monotonic() + timeout
    previous: dict[str, Any] | None = None
    while True:
        time.sleep(3)
        depths = queue_depths(runtime)
        busy = {name: n for name, n in depths.items() if n and not name.endswith("-dlq")}
        current = outbox(runtime)
        counts = {kind: len(items) for kind, items in current.items()}
        if not busy and done(current) and previous == counts:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"the system did not settle: queues {busy}, outbox {counts}")
        previous = counts


def test_under_throttling_and_errors_everything_the_customer_sees_happens_exactly_once(runtime: LocalRuntime) -> None:
    tally = Tally()
    agent = Client(runtime, runtime.agent_token("fault-agent", ["admins", "frontline", "returns", "logistics"]), tally)
    customers = [Customer(runtime, i, tally) for i in range(8)]
    for customer in customers:  # every customer hears by messenger, email and SMS
        customer.call("PUT", "/messenger/preferences", json={"messenger": True, "email": True, "sms": True})

    # The bot answers two "where is my order?" itself (the first with the order system hanging once)
    order_faults(runtime, "hang", seconds=7, count=1)
    for customer, order_id in zip(customers[:2], ("ORD-1001", "ORD-1002"), strict=True):
        customer.start("Where is my order?")
        customer.say(order_id)
    order_faults(runtime, "none")
    # hands two to frontline from its menu, and, with the order system down, two to logistics
    for customer in customers[2:4]:
        customer.start("Hello")
        customer.say(option_id="something-else")
    order_faults(runtime, "error")
    try:
        for customer in customers[4:6]:
            customer.start("Where is my order?")
            customer.say("ORD-1004")
    finally:
        order_faults(runtime, "none")
    # and two more to frontline once it's back
    for customer in customers[6:]:
        customer.start("Hello")
        customer.say(option_id="something-else")

    # People take over the six handed-off conversations: a back-and-forth, then a ticket each
    handed_off = customers[2:]
    for round_ in range(2):
        for customer in handed_off:
            customer.say(f"{customer.user_id} says {round_}")
            agent.call(
                "POST", f"/inbox/conversations/{customer.conversation_id}/replies", json={"body": f"agent {round_}"}
            )
    for customer in handed_off:
        customer.ticket = agent.call(
            "POST",
            f"/inbox/conversations/{customer.conversation_id}/ticket",
            json={
                "ticket_type_id": "damaged-item",
                "team_id": "returns",
                "attributes": {"order_id": "ORD-1003", "description": f"Broken, says {customer.user_id}"},
            },
        ).json()
    for customer in handed_off:
        change_state(agent, customer.ticket["id"], "assessing")
        customer.call(
            "POST", f"/messenger/tickets/{customer.ticket['id']}/replies", json={"body": f"{customer.user_id} thanks"}
        )
        change_state(agent, customer.ticket["id"], "replaced")

    numbers = {c.user_id: int(c.ticket["number"]) for c in handed_off}

    def everyone_told(box: dict[str, Any]) -> bool:
        subjects = {e["subject"] for e in box["emails"]}
        return all(f"Ticket #{n} is resolved" in subjects for n in numbers.values())

    box = settle(runtime, everyone_told)
    faults = requests.get(f"{runtime.base_url}/_local/faults", timeout=10).json()
    checked: Counter[str] = Counter()

    # Every message each customer sent is in their conversation once, in the order they sent it
    for customer in customers:
        messages = customer.messages()
        ids = [m["id"] for m in messages]
        assert len(ids) == len(set(ids)), f"{customer.user_id}: a message is shown twice"
        theirs = [m["body"] for m in messages if m["author"]["type"] == "customer" and m["body"]]
        assert theirs == customer.said, f"{customer.user_id}: {theirs} != {customer.said}"
        replies = [m["body"] for m in messages if m["author"]["type"] == "agent" and m["kind"] == "text"]
        opened = [m for m in messages if m["kind"] == "ticket_created"]
        if customer in handed_off:
            assert replies == ["agent 0", "agent 1"], f"{customer.user_id}: agent replies {replies}"
            assert len(opened) == 1, f"{customer.user_id}: told of {len(opened)} tickets"
        checked["messages"] += len(messages)

    # Every ticket exists once, with its own number; the customer sees just theirs
    assert len(set(numbers.values())) == len(numbers), numbers
    for customer in handed_off:
        mine = customer.get("/messenger/tickets")["items"]
        assert [t["id"] for t in mine] == [customer.ticket["id"]]
        assert mine[0]["state"]["category"] == "resolved"
        timeline = customer.get(f"/messenger/tickets/{customer.ticket['id']}")["timeline"]
        parts = [p["id"] for p in timeline]
        assert len(parts) == len(set(parts)), f"{customer.user_id}: a timeline part twice"
        assert [p.get("body") for p in timeline].count(f"{customer.user_id} thanks") == 1
        checked["tickets"] += 1
        checked["timeline parts"] += len(parts)

    # Every status update reached the customer once per channel: messenger, email and SMS alike
    for customer in handed_off:
        number = numbers[customer.user_id]
        emails = [e["subject"] for e in box["emails"] if customer.email in e["to"]]
        sms = [s["text"] for s in box["sms"] if s["to"] == customer.phone]
        in_messenger = [m["body"] for m in customer.messages() if m["author"].get("id") == "status-updates"]
        assert len(emails) == len(set(emails)), f"{customer.user_id}: an email twice: {emails}"
        assert len(sms) == len(set(sms)), f"{customer.user_id}: an SMS twice: {sms}"
        assert len(in_messenger) == len(set(in_messenger)), f"{customer.user_id}: an update twice in the messenger"
        assert {f"Ticket #{number} is resolved", f"How did we do on Ticket #{number}?"} <= set(emails), emails
        assert any(s.startswith(f"Ticket #{number} created") for s in emails), emails
        # (the messenger isn't told of the ticket's creation: the conversation already says so, once)
        assert len(emails) == len(sms) == len(in_messenger) + 1, (emails, sms, in_messenger)
        checked["status updates x channels"] += len(emails) + len(sms) + len(in_messenger)

    # Every change is on the bus under one event_id (redelivered copies share it)
    events = [e for e in box["events"] if e["source"] == "helpdesk"]
    ids_per_change: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        detail = event["detail"]
        change = detail.get("message_id") or detail.get("part_id") or f"{detail.get('ticket_id')}@{detail['sequence']}"
        ids_per_change[(event["detail-type"], str(change))].add(detail["event_id"])
    doubled = {change: ids for change, ids in ids_per_change.items() if len(ids) > 1}
    assert doubled == {}, f"one change published under several event_ids: {doubled}"
    published_messages = {change for kind, change in ids_per_change if kind == "MessageReceived"}
    for customer in customers:
        for message in customer.messages():
            assert message["id"] in published_messages, f"no MessageReceived for {message['id']}"
    created = {e["detail"]["ticket_id"] for e in events if e["detail-type"] == "TicketCreated"}
    assert created == {c.ticket["id"] for c in handed_off}
    checked["events"] = len(events)
    checked["distinct changes on the bus"] = len(ids_per_change)

    # Anything that could not be delivered waits in a DLQ; nothing is stuck anywhere else
    depths = queue_depths(runtime)
    dead = {name: n for name, n in depths.items() if name.endswith("-dlq") and n}
    stuck = {name: n for name, n in depths.items() if not name.endswith("-dlq") and n}
    assert stuck == {}

    print(
        "\nfault injection figures:",
        f"\n  faults injected per service: {faults['injected']} (of requests {faults['requests']})",
        f"\n  API requests made: {tally.requests} (retried: {dict(tally.retried)})",
        f"\n  items checked: {dict(checked)}",
        f"\n  in DLQs: {dead or 'nothing'}",
    )
    assert sum(faults["injected"].values()) > 100, "the faults really were injected"
    for service in ("dynamodb", "ses", "sns", "eventbridge", "sqs"):
        assert faults["injected"].get(service), f"no fault was injected into {service}"


def change_state(agent: Client, ticket_id: str, state_id: str) -> None:
    """Move the ticket to ``state_id``; after a lost answer, the ticket already there counts as done."""
    for _ in range(10):
        ticket = agent.get(f"/inbox/tickets/{ticket_id}")
        if ticket["state"]["id"] == state_id:
            return
        response = agent.call(
            "PATCH",
            f"/inbox/tickets/{ticket_id}",
            json={"state_id": state_id},
            headers={"If-Match": str(ticket["version"])},
            ok=(200, 409, 412),
        )
        if response.status_code == 200:
            return
    raise AssertionError(f"ticket {ticket_id} never reached {state_id}")
