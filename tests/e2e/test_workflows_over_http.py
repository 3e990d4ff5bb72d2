"""Issue 7's acceptance on the local runtime, with SLAs of seconds: the workflow, the clocks, the
status updates and the events, end to end over HTTP on moto (Step Functions really executing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.conftest import REPO, LocalRuntime, running_local_runtime, schema_problems
from tests.support.workspaces import fast_sla_workspace

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    workspace = fast_sla_workspace()
    with running_local_runtime(
        tmp_path_factory.mktemp("localrt-sla"), LOCAL_WORKSPACE_DIR=str(workspace), LOCAL_TABLE_NAME="helpdesk-sla"
    ) as started:
        yield started


def eventually[T](probe: Callable[[], T | None], what: str, timeout: float = 40) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def call(runtime: LocalRuntime, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{runtime.base_url}{path}", headers=headers, timeout=15, **kwargs)


def outbox(runtime: LocalRuntime) -> dict[str, Any]:
    return dict(requests.get(f"{runtime.base_url}/_local/outbox", timeout=15).json())


def executions(runtime: LocalRuntime) -> dict[str, str]:
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local-dev",
        aws_secret_access_key="local-dev",
    )
    found: dict[str, str] = {}
    for machine in sfn.list_state_machines()["stateMachines"]:
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            found[execution["name"]] = execution["status"]
    return found


def emails_to(runtime: LocalRuntime, address: str) -> list[dict[str, Any]]:
    return [e for e in outbox(runtime)["emails"] if address in e["to"]]


def test_a_damaged_item_ticket_runs_its_workflow_with_clocks_breaches_and_updates(runtime: LocalRuntime) -> None:
    alice = runtime.customer_token("sla-alice", name="Alice", email="alice.sla@example.com", phone="+447700900123")
    rita = runtime.agent_token("sla-agent-rita", ["returns"], name="Rita")
    frank = runtime.agent_token("sla-agent-frank", ["frontline"], name="Frank")
    # Alice wants updates by SMS too.
    prefs = call(runtime, alice, "PUT", "/messenger/preferences", json={"messenger": True, "email": True, "sms": True})
    assert prefs.status_code == 200, prefs.text
    conversation = call(runtime, alice, "POST", "/messenger/conversations", json={"body": "My teapot arrived broken"})
    assert conversation.status_code == 201, conversation.text
    # Frank, of the team the conversation landed in, makes it a ticket for returns.
    created = call(
        runtime,
        frank,
        "POST",
        f"/inbox/conversations/{conversation.json()['id']}/ticket",
        json={"ticket_type_id": "damaged-item", "attributes": {"order_id": "ORD-1001", "description": "Lid cracked"}},
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    ticket_id, number = ticket["id"], ticket["number"]

    # Creating the ticket starts its execution, named after it; the customer is told its number.
    eventually(lambda: executions(runtime).get(ticket_id) == "RUNNING", "the ticket's workflow execution")
    created_mail = eventually(
        lambda: [e for e in emails_to(runtime, "alice.sla@example.com") if f"#{number}" in e["subject"]],
        "the 'ticket created' email",
    )
    assert f"We've opened ticket #{number}" in created_mail[0]["text"]

    # Waiting on the customer pauses the resolution clock; their reply resumes it.
    waiting = call(
        runtime,
        rita,
        "PATCH",
        f"/inbox/tickets/{ticket_id}",
        json={"state_id": "awaiting-photos"},
        headers={"If-Match": str(ticket["version"])},
    )
    assert waiting.status_code == 200, waiting.text
    assert waiting.json()["sla_due_at"] is None
    paused = waiting.json()["sla"]["clocks"]["resolution"]
    assert paused["running_since"] is None
    time.sleep(2)
    replied = call(runtime, alice, "POST", f"/messenger/tickets/{ticket_id}/replies", json={"body": "Photos coming"})
    assert replied.status_code == 201, replied.text
    resumed = call(runtime, rita, "GET", f"/inbox/tickets/{ticket_id}").json()
    assert resumed["state"]["category"] == "in_progress"
    assert resumed["sla_due_at"] is not None
    assert resumed["sla"]["clocks"]["resolution"]["running_since"] is not None

    # Nobody answered within the first-response SLA: breach, priority raised, SlaBreached on the bus.
    breached = eventually(
        lambda: (t := call(runtime, rita, "GET", f"/inbox/tickets/{ticket_id}").json())["priority"] == "high" and t,
        "the breach escalation",
    )
    assert breached["sla"]["clocks"]["first_response"]["breached_at"] is not None
    eventually(
        lambda: [
            e
            for e in outbox(runtime)["events"]
            if e["detail-type"] == "SlaBreached" and e["detail"]["ticket_id"] == ticket_id
        ],
        "the SlaBreached event",
    )

    # Resolving sends the resolution update and the CSAT request.
    resolved = call(
        runtime,
        rita,
        "PATCH",
        f"/inbox/tickets/{ticket_id}",
        json={"state_id": "replaced"},
        headers={"If-Match": str(breached["version"])},
    )
    assert resolved.status_code == 200, resolved.text
    # (one email: the resolution, with the rating request's one-click score links)
    eventually(
        lambda: [
            e
            for e in emails_to(runtime, "alice.sla@example.com")
            if e["subject"].startswith(f"[#{number}]") and "How did we do? One click tells us" in e["text"]
        ],
        "the resolution email with the CSAT request",
    )
    eventually(lambda: executions(runtime).get(ticket_id) == "SUCCEEDED", "the workflow to finish")

    # Every event captured from the bus validates against its schema.
    captured = [e for e in outbox(runtime)["events"] if e["source"] == "helpdesk"]
    assert {"TicketCreated", "TicketStateChanged", "SlaBreached", "TicketResolved"} <= {
        e["detail-type"] for e in captured
    }
    for event in captured:
        assert schema_problems(event) == [], event["detail-type"]

    # Delivering every event twice changes nothing the customer receives.
    time.sleep(3)
    before = outbox(runtime)
    messages_before = call(runtime, alice, "GET", f"/messenger/conversations/{conversation.json()['id']}").json()
    replay_stream(runtime, "helpdesk-sla")
    time.sleep(6)
    after = outbox(runtime)
    messages_after = call(runtime, alice, "GET", f"/messenger/conversations/{conversation.json()['id']}").json()
    assert len(after["events"]) > len(before["events"]), "the replay really published everything again"
    assert [s["to"] for s in before["sms"]].count("+447700900123") >= 3, "SMS went out before the replay"
    assert [e["subject"] for e in after["emails"]] == [e["subject"] for e in before["emails"]]
    assert after["sms"] == before["sms"]
    assert [m["id"] for m in messages_after["messages"]] == [m["id"] for m in messages_before["messages"]]


def replay_stream(runtime: LocalRuntime, table: str) -> None:
    """Run the stream publisher over the table's whole stream again, as a redelivery would."""
    script = Path(__file__).with_name("replay_stream.py")
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": runtime.moto_url,
        "AWS_ACCESS_KEY_ID": "local-dev",
        "AWS_SECRET_ACCESS_KEY": "local-dev",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": table,
        # As every function has it (its own copy of the workspace): the stores read its retention.
        "WORKSPACE_DIR": str(fast_sla_workspace()),
    }
    done = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
