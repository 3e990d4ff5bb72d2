"""The local runtime's start-up and its workers: a cold start under a burst of requests loses no worker,
and a worker that dies comes back and still drains its queue.

Cold means a fresh ``PYTHONPYCACHEPREFIX``: every module is compiled from source, which widens the
window in which handler imports used to race in several threads (they killed 2-5 pollers in 2 of
3 starts, and ``/healthz`` still said healthy). The burst is fired the moment the gateway's port
accepts connections. The normal tier starts cold once; the slow tier (``make test-slow``) ten times.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from localrt.launcher import launched

from tests.e2e.conftest import AGENT_SECRET, MESSENGER_SECRET, LocalRuntime
from tests.support.workspaces import agents_only_workspace

pytestmark = pytest.mark.e2e

COLD_START_TIMEOUT = 240  # compiling every module on a busy 2-core machine
SETTLE_TIMEOUT = 60
RESTART_TIMEOUT = 30


@dataclass(frozen=True)
class Request:
    what: str
    method: str
    path: str
    token: str | None = None
    body: Any = None
    expected: tuple[int, ...] = (200,)


@dataclass(frozen=True)
class Answer:
    request: Request
    status: int | str
    body: Any


def burst(runtime: LocalRuntime, copies: int = 4) -> list[Answer]:
    """Every kind of request the gateway serves (each API, its authorizer, a public path, /healthz),
    ``copies`` of each, all released at the same instant."""
    customer = runtime.customer_token("cold-customer", email="cold.customer@example.com")
    agent = runtime.agent_token("agent-cold", ["frontline"])
    kinds = [
        Request("start a conversation", "POST", "/messenger/conversations", customer, {"body": "Hello?"}, (201,)),
        Request("a visitor's token", "POST", "/messenger/visitors", expected=(201,)),
        Request("the inbox", "GET", "/inbox/conversations", agent),
        Request("a customer's tickets", "GET", "/messenger/tickets", customer),
        Request("the OpenAPI document", "GET", "/inbox/openapi.json"),
        # Answered from the start; 503 until every worker is ready, then 200.
        Request("health", "GET", "/healthz", expected=(200, 503)),
    ]
    requests_ = kinds * copies
    start = threading.Barrier(len(requests_))

    def send(request: Request) -> Answer:
        headers = {"Authorization": f"Bearer {request.token}"} if request.token else {}
        start.wait()
        try:
            reply = requests.request(
                request.method, f"{runtime.base_url}{request.path}", headers=headers, json=request.body, timeout=120
            )
        except requests.RequestException as error:  # a dropped connection is an answer we must see
            return Answer(request, type(error).__name__, None)
        is_json = "json" in reply.headers.get("Content-Type", "")
        return Answer(request, reply.status_code, reply.json() if is_json else reply.text)

    with ThreadPoolExecutor(len(requests_)) as pool:
        return list(pool.map(send, requests_))


def health(runtime: LocalRuntime) -> tuple[int, dict[str, Any]]:
    reply = requests.get(f"{runtime.base_url}/healthz", timeout=10)
    return reply.status_code, reply.json()


def healthy(runtime: LocalRuntime) -> dict[str, Any] | None:
    """``/healthz``'s report once it answers 200 (every worker alive and ready), else None."""
    status, report = health(runtime)
    return report if status == 200 else None


def eventually[T](probe: Callable[[], T | None], what: str, timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def bus_events(runtime: LocalRuntime, detail_type: str) -> list[dict[str, Any]]:
    events = requests.get(f"{runtime.base_url}/_local/outbox", timeout=15).json()["events"]
    return [e["detail"] for e in events if e["detail-type"] == detail_type]


def cold_start_under_a_burst(log_dir: Path) -> None:
    """Start the runtime cold, burst it as its port opens, then check that no worker ever died."""
    settings = {
        "PYTHONPYCACHEPREFIX": str(log_dir / "pycache"),  # fresh: nothing compiled yet
        "LOCAL_MESSENGER_SECRET": MESSENGER_SECRET,
        "LOCAL_AGENT_SECRET": AGENT_SECRET,
        "LOCAL_WORKSPACE_DIR": str(agents_only_workspace()),
        "LOCAL_TICK_SECONDS": "1",
    }
    log = log_dir / "localrt.log"
    with launched(log, settings, start_timeout=COLD_START_TIMEOUT, until="listening") as started:
        runtime = LocalRuntime(base_url=started.base_url, moto_url=started.moto_url, process=started.process)
        answers = burst(runtime)

        wrong = [(a.request.what, a.status, a.body) for a in answers if a.status not in a.request.expected]
        assert not wrong, f"answered wrongly during the cold start:\n{wrong}\n{log.read_text()[-3000:]}"
        settled = eventually(lambda: healthy(runtime), "every worker ready", SETTLE_TIMEOUT)
        assert len(settled["workers"]) >= 9
        died = [w for w in settled["workers"] if w["restarts"] or w["last_error"]]
        assert not died, f"workers died during the cold start: {died}\n{log.read_text()[-3000:]}"
        # The workers work: every conversation the burst started reached the bus through the stream's.
        started_ids = {a.body["id"] for a in answers if a.request.what == "start a conversation"}
        eventually(
            lambda: started_ids <= {e["conversation_id"] for e in bus_events(runtime, "ConversationStarted")},
            "ConversationStarted on the bus for every conversation of the burst",
            SETTLE_TIMEOUT,
        )
    assert started.exit_code == 0, log.read_text()[-3000:]
    assert "Traceback" not in log.read_text(), log.read_text()[-5000:]


def test_a_cold_start_with_requests_arriving_at_once_loses_no_worker(tmp_path: Path) -> None:
    cold_start_under_a_burst(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(1, 11))
def test_ten_cold_starts_with_requests_arriving_at_once_lose_no_worker(tmp_path: Path, attempt: int) -> None:
    cold_start_under_a_burst(tmp_path)


def test_a_crashed_worker_comes_back_and_its_queue_is_still_drained(local_runtime: LocalRuntime) -> None:
    base = local_runtime.base_url
    _, before = health(local_runtime)
    restarts = {w["name"]: w["restarts"] for w in before["workers"]}

    # Given every worker crashed at once
    for name in restarts:
        crashed = requests.post(f"{base}/_local/workers/{name}/crash", timeout=10)
        assert crashed.status_code == 202, crashed.text

    # Then each one is restarted, and /healthz says what killed it, by type and place only
    back = eventually(
        lambda: (
            report
            if (report := healthy(local_runtime))
            and all(w["restarts"] == restarts[w["name"]] + 1 for w in report["workers"])
            else None
        ),
        "every crashed worker to be restarted and ready",
        RESTART_TIMEOUT,
    )
    assert {w["last_error"]["type"] for w in back["workers"]} == {"CrashInjected"}
    assert all("localrt/workers.py" in w["last_error"]["where"] for w in back["workers"])

    # And the queues are still drained: a snoozed conversation wakes (the schedule, the snooze-waker),
    # and a new ticket's workflow starts (the stream's event publisher, the bus, the workflow starter).
    customer = {"Authorization": f"Bearer {local_runtime.customer_token('after-the-crash')}"}
    agent = {"Authorization": f"Bearer {local_runtime.agent_token('agent-crash', ['frontline', 'returns'])}"}
    snoozed = requests.post(f"{base}/messenger/conversations", headers=customer, json={"body": "later"}, timeout=10)
    about_an_order = {"body": "broken", "context": {"object": {"type": "order", "id": "ORD-1001"}}}
    converted = requests.post(f"{base}/messenger/conversations", headers=customer, json=about_an_order, timeout=10)
    snooze = requests.post(
        f"{base}/inbox/conversations/{snoozed.json()['id']}/status",
        headers=agent,
        json={"status": "snoozed", "snoozed_until": (datetime.now(UTC) + timedelta(seconds=2)).isoformat()},
        timeout=10,
    )
    ticket = requests.post(
        f"{base}/inbox/conversations/{converted.json()['id']}/ticket",
        headers=agent,
        json={"ticket_type_id": "damaged-item", "team_id": "returns", "attributes": {"description": "Cracked lid"}},
        timeout=10,
    )
    assert (snooze.status_code, ticket.status_code) == (200, 201), (snooze.text, ticket.text)
    eventually(
        lambda: (
            requests.get(f"{base}/inbox/conversations/{snoozed.json()['id']}", headers=agent, timeout=10).json()[
                "status"
            ]
            == "open"
        ),
        "the snoozed conversation to wake",
        RESTART_TIMEOUT,
    )
    eventually(
        lambda: ticket.json()["id"] in workflow_executions(local_runtime), "the ticket's workflow", RESTART_TIMEOUT
    )
    # The restarted stream poller went on from where it was: nothing published before was published again.
    published = Counter(e["conversation_id"] for e in bus_events(local_runtime, "ConversationStarted"))
    assert snoozed.json()["id"] in published
    assert [conversation for conversation, times in published.items() if times > 1] == []


def workflow_executions(runtime: LocalRuntime) -> set[str]:
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local-dev",
        aws_secret_access_key="local-dev",
    )
    return {
        execution["name"]
        for machine in sfn.list_state_machines()["stateMachines"]
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    }
