"""A browser's end of the live channel, in Python: one WebSocket to ``ws://<gateway>/live`` read by a thread.

It connects as ``web/messenger/static/livesocket.js`` does (the token beside the ``helpdesk-live``
subprotocol, never in the address), keeps every frame with the moment it arrived, and sends the
pages' requests (``watch``, ``typing``, ``ping``). ``displayed()`` is what a page shows: each frame
once, duplicates (the same id) dropped. It counts what API Gateway bills: messages in each direction.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = "helpdesk-live"


@dataclass(frozen=True)
class Received:
    frame: dict[str, Any]
    at: float
    """``time.perf_counter()`` when it arrived."""
    size: int


@dataclass
class LiveSocket:
    """One connection and everything it received, in order."""

    name: str
    connection: ClientConnection
    received: list[Received] = field(default_factory=list)
    sent: int = 0
    sent_bytes: list[int] = field(default_factory=list)
    opened_at: float = field(default_factory=time.perf_counter)
    closed_at: float | None = None
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def _read(self) -> None:
        try:
            while True:
                message = self.connection.recv()
                text = message if isinstance(message, str) else message.decode()
                at = time.perf_counter()
                with self._arrived:
                    self.received.append(Received(json.loads(text), at, len(text.encode())))
                    self._arrived.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self.closed_at = time.perf_counter()

    def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        self.connection.send(text)
        self.sent += 1
        self.sent_bytes.append(len(text.encode()))

    def watch(self, *, conversation_id: str | None = None, ticket_id: str | None = None) -> None:
        target = {"conversation_id": conversation_id} if conversation_id else {"ticket_id": ticket_id}
        self.send({"action": "watch", **target})

    def wait_for(self, matches: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> Received:
        """The first frame received that ``matches`` (waiting for it up to ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._arrived:
            while True:
                for received in self.received[seen:]:
                    if matches(received.frame):
                        return received
                seen = len(self.received)
                left = deadline - time.monotonic()
                if left <= 0:
                    types = [r.frame.get("type") for r in self.received[-10:]]
                    raise TimeoutError(f"{self.name}: no matching frame within {timeout} s (last types: {types})")
                self._arrived.wait(left)

    def frames(self) -> list[dict[str, Any]]:
        with self._arrived:
            return [r.frame for r in self.received]

    def displayed(self) -> list[dict[str, Any]]:
        """The frames as the page shows them: once each, a frame delivered again (same id) dropped."""
        seen: set[str] = set()
        shown = []
        for frame in self.frames():
            if frame.get("id") in seen:
                continue
            seen.add(str(frame.get("id")))
            shown.append(frame)
        return shown

    def close(self) -> None:
        self.connection.close()
        if self.closed_at is None:
            self.closed_at = time.perf_counter()


def open_live_socket(base_url: str, token: str, name: str, *, query: str = "", timeout: float = 30.0) -> LiveSocket:
    """Connect to the live channel of the runtime at ``base_url``; returns once a ``ping`` got its ``pong``.

    ``$connect`` records the connection and its subscriptions before the handshake completes, so frames
    about changes committed from now on reach it."""
    url = base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/live"
    connection = connect(
        url + (f"?{query}" if query else ""),
        subprotocols=[Subprotocol(PROTOCOL), Subprotocol(token)],
        open_timeout=timeout,
        max_size=2**20,
    )
    socket = LiveSocket(name, connection)
    threading.Thread(target=socket._read, name=f"live-{name}", daemon=True).start()
    socket.send({"action": "ping"})
    socket.wait_for(lambda f: f.get("type") == "pong", timeout=timeout)
    return socket
