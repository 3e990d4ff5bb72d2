"""9. The live channel on the local runtime: how long from a committed write to the frame on the customer's screen.

Over real HTTP and WebSockets against ``python -m localrt`` (the demo workspace without its bot).
``CUSTOMERS`` customers each start a conversation and keep the messenger connected to
``ws://127.0.0.1:$PORT/live`` (as ``livesocket.js`` does); a frontline agent replies ``REPLIES_EACH``
times to each, one reply after another. The latency of a reply is from the API's answer (the write is
committed then) to the arrival of its ``message.created`` frame on the customer's socket: the table's
stream, the stream poller, the fan-out function (listeners' Query, the policy) and the management
API's post, as on AWS. A frame that arrived before the API's answer counts as 0 ms (the commit was
already behind it); those are counted in the details. Every reply must arrive, once.

Locally the stream poller stands in for Lambda's event-source mapping, which on AWS polls each shard
about 4 times a second: expect a few hundred ms more there (AWS documents no latency bound).
"""

from __future__ import annotations

import time
from typing import Any

import requests

from bench.harness import Result, percentile
from bench.runtime import local_runtime

CUSTOMERS = 10
REPLIES_EACH = 20
FRAME_TIMEOUT = 15.0
GOAL_P95_MS = 1000.0
"""The issue's promise: a committed change is on the other person's screen within a second."""
TIMEOUT = 30


def run() -> list[Result]:
    from tests.support.live_sockets import open_live_socket
    from tests.support.workspaces import agents_only_workspace

    latencies: list[float] = []
    early = missing = duplicated = delivered_again = 0
    with local_runtime(LOCAL_WORKSPACE_DIR=str(agents_only_workspace())) as runtime:
        agent = requests.Session()
        agent.headers["Authorization"] = f"Bearer {runtime.agent_token('bench-live-agent', ['frontline'])}"
        sockets: list[Any] = []
        conversations: list[str] = []
        for n in range(CUSTOMERS):
            token = runtime.customer_token(f"bench-live-customer-{n}", name=f"Customer {n}")
            sockets.append(open_live_socket(runtime.base_url, token, f"customer-{n}"))
            started = requests.post(
                f"{runtime.base_url}/messenger/conversations",
                headers={"Authorization": f"Bearer {token}"},
                json={"body": f"Hello from customer {n}"},
                timeout=TIMEOUT,
            )
            started.raise_for_status()
            conversations.append(started.json()["id"])
        time.sleep(1)  # the conversations' own frames are out of the way
        replies: list[tuple[int, str, float]] = []
        for k in range(REPLIES_EACH):
            for n, conversation in enumerate(conversations):
                answer = agent.post(
                    f"{runtime.base_url}/inbox/conversations/{conversation}/replies",
                    json={"body": f"Reply {k} to customer {n}"},
                    timeout=TIMEOUT,
                )
                answered = time.perf_counter()
                answer.raise_for_status()
                message_id = answer.json()["id"]
                replies.append((n, message_id, answered))
                try:
                    frame = sockets[n].wait_for(lambda f, m=message_id: _is_message(f, m), timeout=FRAME_TIMEOUT)
                except TimeoutError:
                    missing += 1
                    continue
                early += frame.at < answered
                latencies.append(max(0.0, frame.at - answered))
        time.sleep(1)  # a late duplicate would show
        for n, message_id, _ in replies:
            # At least once: a frame may come twice with its id (dropped by the page); under two ids it'd show twice.
            delivered_again += max(0, sum(_is_message(f, message_id) for f in sockets[n].frames()) - 1)
            duplicated += max(0, sum(_is_message(f, message_id) for f in sockets[n].displayed()) - 1)
        for socket in sockets:
            socket.close()
    if not latencies:
        raise RuntimeError("no reply's frame arrived")
    p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
    common = {
        "replies": len(replies),
        "frames_missing": missing,
        "displayed_twice": duplicated,
        "delivered_again_same_id": delivered_again,
        "arrived_before_the_api_answer": early,
        "customers_connected": CUSTOMERS,
        "from": "the API's answer to the agent's reply (committed)",
        "to": "its message.created frame received on the customer's WebSocket",
    }
    complete = missing == 0 and duplicated == 0
    return [
        Result(
            benchmark="live",
            figure="committed write -> frame received, p50 (local runtime)",
            value=round(p50, 1),
            unit="ms",
            goal="reported",
            met=None,
            details={**common, "max_ms": round(max(latencies) * 1000, 1)},
        ),
        Result(
            benchmark="live",
            figure="committed write -> frame received, p95 (local runtime), every frame once",
            value=round(p95, 1),
            unit="ms",
            goal=f"<= {GOAL_P95_MS:g} ms, none missing or shown twice",
            met=p95 <= GOAL_P95_MS and complete,
            details=common,
        ),
    ]


def _is_message(frame: dict[str, Any], message_id: str) -> bool:
    return frame.get("type") == "message.created" and (frame.get("data") or {}).get("id") == message_id
