"""50 customers and 5 agents on the live channel of the local runtime: each frame reaches exactly who may see it.

Every customer keeps the messenger connected to ``ws://127.0.0.1:$PORT/live`` and starts a
conversation (the frontline team's); three frontline agents each have a third of those
conversations open (``watch``), and two agents of other teams try to open some of them too (the
policy refuses: the frontline's conversations aren't theirs to read). Then each conversation gets an
agent's reply, an internal note and another customer message, over the APIs.

What a page displays (frames de-duplicated by id, as ``livesocket.js`` does) must be exactly, for
each connection, the ``message.created`` frames of the messages it is entitled to, once each: a
customer their own conversation's messages but never its note; a frontline agent every message of
the conversations they have open (notes included). Nobody receives a frame that mentions another
customer's conversation, and no customer ever receives a frame about an internal note.

The runtime is this test's own, so no other test's changes come through its channel.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LocalRuntime, running_local_runtime
from tests.support.live_sockets import LiveSocket, open_live_socket
from tests.support.workspaces import agents_only_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CUSTOMERS = 50
FRONTLINE_AGENTS = 3
OTHER_AGENTS = (("returns-agent", "returns"), ("billing-agent", "billing"))
SETTLE_SECONDS = 15.0
TIMEOUT = 30


@dataclass
class Customer:
    n: int
    token: str
    socket: LiveSocket
    conversation: str = ""
    messages: list[str] = field(default_factory=list)
    """Ids of the messages of their conversation the customer may see."""
    notes: list[tuple[str, str]] = field(default_factory=list)
    """(id, body) of the internal notes on their conversation."""
    watched_messages: list[str] = field(default_factory=list)
    """Ids of every message (notes included) written after the agents opened the conversation."""


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    log_dir: Path = tmp_path_factory.mktemp("localrt-live-audience")
    with running_local_runtime(log_dir, LOCAL_WORKSPACE_DIR=str(agents_only_workspace())) as started:
        yield started


def _post(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(url, headers={"Authorization": f"Bearer {token}"}, json=body, timeout=TIMEOUT)
    assert answer.status_code == 201, f"POST {url}: {answer.status_code} {answer.text[:300]}"
    result: dict[str, Any] = answer.json()
    return result


def _settled(socket: LiveSocket) -> None:
    """Everything this connection asked before (``watch``) has been handled: ``ping`` is answered after it."""
    before = sum(1 for f in socket.frames() if f.get("type") == "pong")
    socket.send({"action": "ping"})
    socket.wait_for(lambda f: f.get("type") == "pong" and _pongs(socket) > before, timeout=TIMEOUT)


def _pongs(socket: LiveSocket) -> int:
    return sum(1 for f in socket.frames() if f.get("type") == "pong")


def _shown_messages(socket: LiveSocket) -> Counter[str]:
    return Counter(str(f["data"]["id"]) for f in socket.displayed() if f.get("type") == "message.created")


def _wait_until_delivered(sockets_and_expected: list[tuple[LiveSocket, set[str]]]) -> None:
    """Wait (up to a bound) for each connection's expected messages; what is missing then is asserted on."""
    import time

    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        if all(expected <= set(_shown_messages(s)) for s, expected in sockets_and_expected):
            break
        time.sleep(0.2)
    time.sleep(2)  # a frame that should not come (a duplicate, someone else's) would come by now


def test_every_message_reaches_every_entitled_connection_once_and_nobody_else(runtime: LocalRuntime) -> None:
    base = runtime.base_url
    # Given 50 customers with the messenger connected, each starting a conversation
    customers: list[Customer] = []
    for n in range(CUSTOMERS):
        token = runtime.customer_token(f"live-audience-{n}", name=f"Audience Customer {n}")
        customers.append(Customer(n, token, open_live_socket(base, token, f"customer-{n}")))
    for customer in customers:
        hello = {"body": f"Hello, I am customer {customer.n}"}
        started = _post(f"{base}/messenger/conversations", customer.token, hello)
        customer.conversation = str(started["id"])
        page = requests.get(
            f"{base}/messenger/conversations/{customer.conversation}",
            headers={"Authorization": f"Bearer {customer.token}"},
            timeout=TIMEOUT,
        ).json()
        customer.messages += [str(m["id"]) for m in page["messages"]]

    # And 3 frontline agents, each with a third of the conversations open
    frontline: list[tuple[str, LiveSocket, list[Customer]]] = []
    for a in range(FRONTLINE_AGENTS):
        token = runtime.agent_token(f"live-frontline-{a}", ["frontline"], name=f"Frontline {a}")
        socket = open_live_socket(base, token, f"frontline-{a}")
        theirs = [c for c in customers if c.n % FRONTLINE_AGENTS == a]
        for customer in theirs:
            socket.watch(conversation_id=customer.conversation)
        _settled(socket)
        frontline.append((token, socket, theirs))
    assert [f for _, s, _ in frontline for f in s.frames() if f.get("type") == "error"] == []

    # And 2 agents of other teams, who try to open some of the frontline's conversations and are refused
    others: list[LiveSocket] = []
    for name, team in OTHER_AGENTS:
        socket = open_live_socket(base, runtime.agent_token(name, [team], name=name), name)
        for customer in customers[:5]:
            socket.watch(conversation_id=customer.conversation)
        _settled(socket)
        refused = [f for f in socket.frames() if f.get("type") == "error"]
        assert [f["data"]["error"] for f in refused] == ["forbidden"] * 5
        others.append(socket)

    # When each conversation gets an agent's reply, an internal note and another customer message
    for token, _, theirs in frontline:
        for customer in theirs:
            replies = f"{base}/inbox/conversations/{customer.conversation}/replies"
            reply = _post(replies, token, {"body": f"Hi customer {customer.n}, we're looking into it"})
            note = _post(replies, token, {"body": f"Secret note {customer.n}: check the refund log", "internal": True})
            customer.messages.append(str(reply["id"]))
            customer.notes.append((str(note["id"]), str(note["body"])))
            customer.watched_messages += [str(reply["id"]), str(note["id"])]
    for customer in customers:
        sent = _post(
            f"{base}/messenger/conversations/{customer.conversation}/messages",
            customer.token,
            {"body": f"Thanks, customer {customer.n} here again"},
        )
        customer.messages.append(str(sent["id"]))
        customer.watched_messages.append(str(sent["id"]))

    expected: list[tuple[LiveSocket, set[str]]] = [(c.socket, set(c.messages)) for c in customers]
    expected += [(s, {m for c in theirs for m in c.watched_messages}) for _, s, theirs in frontline]
    _wait_until_delivered(expected)

    # Then each connection displayed exactly the messages it is entitled to, each once
    for socket, entitled in expected:
        shown = _shown_messages(socket)
        assert sorted(m for m, times in shown.items() if times > 1) == [], f"{socket.name}: shown twice"
        assert sorted(entitled - set(shown)) == [], f"{socket.name}: messages it should have received"
        assert sorted(set(shown) - entitled) == [], f"{socket.name}: messages it must not receive"

    # And no frame of any kind mentions another customer's conversation, or an internal note, to a customer
    notes = [(note_id, body) for c in customers for note_id, body in c.notes]
    for customer in customers:
        foreign = {c.conversation for c in customers if c is not customer}
        for frame in customer.socket.frames():
            text = json.dumps(frame)
            assert not [c for c in foreign if c in text], f"customer {customer.n} received {frame['type']} of another"
            assert not [n for n, body in notes if n in text or body in text], (
                f"customer {customer.n} received an internal note in a {frame['type']} frame"
            )
            assert not (frame.get("type") == "message.created" and frame["data"].get("internal")), frame

    # And the agents of other teams received nothing about the frontline's conversations
    conversations = {c.conversation for c in customers}
    for socket in others:
        about = [f["type"] for f in socket.frames() if any(c in json.dumps(f) for c in conversations)]
        about = [t for t in about if t != "error"]  # the refusals name what was asked for
        assert about == [], f"{socket.name} received frames about conversations it can't read: {about}"

    # And the frontline agents did receive the notes on the conversations they have open
    for _, socket, theirs in frontline:
        shown = _shown_messages(socket)
        assert all(shown[note_id] == 1 for c in theirs for note_id, _ in c.notes)

    for socket in [c.socket for c in customers] + [s for _, s, _ in frontline] + others:
        socket.close()
