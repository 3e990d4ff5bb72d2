"""The live channel's share of the cost model: its connections in a scenario, and their messages and minutes.

``bench/cost.py``'s ticket scenario keeps the customer's messenger and the agents' inbox connected to
the live channel; ``LiveTally`` holds those connections and counts, at the clients, every message
API Gateway would bill (both directions, in 32 KB units). Connection-minutes can't be measured in a
run of seconds: they are modelled from the assumptions below, as are the pages' pings and typing.
"""

from __future__ import annotations

import time
from typing import Any

from bench.runtime import Runtime

WEBSOCKET_MESSAGE_BYTES = 32 * 1024
"""API Gateway meters WebSocket messages in 32 KB units."""
LIVE_CUSTOMER_MINUTES = 20.0
"""Assumed: the customer's messenger is connected ~10 minutes while they chat, and ~5 minutes on each of
two visits to read the ticket's updates and rate it."""
LIVE_AGENT_MINUTES = 2 * 7.5
"""Assumed: two agents handle the ticket; each keeps the inbox connected all shift and handles about 8
tickets an hour, so each ticket carries 7.5 of each agent's connection-minutes."""
LIVE_PING_MINUTES = 4.0
"""The pages send ``ping`` every 4 minutes (``livesocket.js``): one message in, one ``pong`` out."""
LIVE_TYPED_TEXTS = 5
"""The scenario's typed texts (3 by the customer, 2 replies by agents), typed for ~15 s each: the pages
send a typing message at most every 3 s, and each goes out to the one other person watching."""
LIVE_TYPING_MESSAGES_EACH = 15 // 3


class LiveTally:
    """The live connections of a scenario: the agents' (one each, kept open, as an inbox is all shift)
    and each customer's (for their ticket's life); every message they sent and received, in 32 KB units."""

    def __init__(self) -> None:
        self.agents: dict[str, Any] = {}
        self.closed: list[Any] = []

    def agent(self, runtime: Runtime, name: str, team: str) -> Any:
        from tests.support.live_sockets import open_live_socket

        if name not in self.agents:
            self.agents[name] = open_live_socket(runtime.base_url, runtime.agent_token(name, [team]), name)
        return self.agents[name]

    def customer(self, runtime: Runtime, token: str, name: str) -> Any:
        from tests.support.live_sockets import open_live_socket

        return open_live_socket(runtime.base_url, token, name)

    def done(self, socket: Any) -> None:
        time.sleep(1)  # the last frames arrive
        socket.close()
        self.closed.append(socket)

    def close(self) -> None:
        for socket in self.agents.values():
            self.done(socket)
        self.agents.clear()

    def usage(self) -> dict[str, int]:
        def units(size: int) -> int:
            return max(1, -(-size // WEBSOCKET_MESSAGE_BYTES))

        received = sum(units(r.size) for s in self.closed for r in s.received)
        sent = sum(units(size) for s in self.closed for size in s.sent_bytes)
        return {"connections": len(self.closed), "messages_received": received, "messages_sent": sent}


def live_usage(measured: dict[str, int] | None, units: int) -> dict[str, float]:
    """A scenario's WebSocket messages (measured, plus the modelled pings and typing) and connection-minutes
    (modelled), for ``units`` completed units; nothing for a scenario run without live connections."""
    if not measured or not units:
        return {"messages": 0.0, "connection_minutes": 0.0}
    minutes = (LIVE_CUSTOMER_MINUTES + LIVE_AGENT_MINUTES) * units
    pings = 2 * minutes / LIVE_PING_MINUTES
    typing = 2 * LIVE_TYPED_TEXTS * LIVE_TYPING_MESSAGES_EACH * units
    return {
        "messages": measured["messages_received"] + measured["messages_sent"] + pings + typing,
        "connection_minutes": minutes,
    }


LIVE_ASSUMPTIONS = {
    "connection_minutes_per_ticket": f"{LIVE_CUSTOMER_MINUTES:g} for the customer's messenger (chatting, then two "
    f"visits to read updates and rate) + {LIVE_AGENT_MINUTES:g} for the two agents (inbox connected all shift, "
    "~8 tickets an hour each)",
    "messages_measured": "every frame the fan-out posted to the customer's and the agents' connections and every "
    "message the pages sent (watch), counted at the clients in 32 KB units",
    "messages_modelled": f"a ping and its pong every {LIVE_PING_MINUTES:g} minutes per connection; typing: "
    f"{LIVE_TYPED_TEXTS} typed texts, {LIVE_TYPING_MESSAGES_EACH} typing messages each, each in and out once",
    "not_counted": "$connect/$disconnect themselves (not messages); their Lambda invocations and table writes are "
    "counted with Lambda and DynamoDB",
}
