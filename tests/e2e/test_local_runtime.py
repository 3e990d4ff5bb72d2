"""The local runtime itself: start-up, the gateway's authorizers and errors, the pages, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import REPO, free_port

pytestmark = pytest.mark.e2e


def test_health_index_and_unknown_paths(local_runtime: Any) -> None:
    base = local_runtime.base_url
    health = requests.get(f"{base}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json()["ok"] is True
    workers = {w["name"]: w for w in health.json()["workers"]}
    assert {"event-publisher", "notifier", "snooze-waker", "snooze-waker-schedule"} <= set(workers)
    assert all(w["alive"] and w["ready"] for w in workers.values())
    index = requests.get(f"{base}/", timeout=5).json()
    assert index["messenger_api"] == f"{base}/messenger"
    missing = requests.get(f"{base}/nowhere", timeout=5)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_tokens_are_checked_by_the_surfaces_authorizer(local_runtime: Any) -> None:
    base = local_runtime.base_url
    no_token = requests.get(f"{base}/messenger/tickets", timeout=5)
    agent_on_messenger = requests.get(
        f"{base}/messenger/tickets",
        headers={"Authorization": f"Bearer {local_runtime.agent_token('a', ['frontline'])}"},
        timeout=5,
    )
    customer_on_inbox = requests.get(
        f"{base}/inbox/tickets",
        headers={"Authorization": f"Bearer {local_runtime.customer_token('c')}"},
        timeout=5,
    )
    assert (no_token.status_code, agent_on_messenger.status_code, customer_on_inbox.status_code) == (401, 401, 401)
    assert "Authorization" in no_token.json()["message"]


def test_public_paths_need_no_token_and_cors_is_answered(local_runtime: Any) -> None:
    base = local_runtime.base_url
    assert requests.get(f"{base}/inbox/openapi.json", timeout=5).status_code == 200
    assert requests.post(f"{base}/messenger/visitors", timeout=5).status_code == 201
    preflight = requests.options(f"{base}/messenger/conversations", timeout=5)
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_the_messenger_page_and_its_config_are_served(local_runtime: Any) -> None:
    base = local_runtime.base_url
    page = requests.get(f"{base}/messenger/", timeout=5)
    script = requests.get(f"{base}/messenger/static/messenger.js", timeout=5)
    config = requests.get(f"{base}/messenger/config.json", timeout=5).json()
    escape = requests.get(f"{base}/messenger/static/../../../pyproject.toml", timeout=5)

    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert script.status_code == 200
    assert config["api_base"] == ""
    assert escape.status_code != 200 or "[project]" not in escape.text


def test_ctrl_c_stops_a_runtime_cleanly_and_quickly() -> None:
    env = {**os.environ, "PORT": str(free_port()), "MOTO_PORT": str(free_port())}
    env.pop("TABLE_NAME", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "localrt"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    started = time.monotonic()
    banner = []
    for line in process.stdout:
        banner.append(line)
        if "Ctrl-C stops everything" in line:
            break
        assert time.monotonic() - started < 90, "".join(banner)
    text = "".join(banner)
    assert "LOCAL DEV ONLY" in text
    assert "demo-customer-1" in text
    assert "agent-frontline" in text
    assert f"http://127.0.0.1:{env['PORT']}/messenger/openapi.json" in text

    process.send_signal(signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        rest, _ = process.communicate()
        pytest.fail(f"no clean stop within 30 s of Ctrl-C:\n{text}{rest}")
    assert process.returncode == 0, f"{text}{rest}"
    assert "Stopped." in rest


def test_a_snoozed_conversation_wakes_by_itself(local_runtime: Any) -> None:
    from datetime import UTC, datetime, timedelta

    base = local_runtime.base_url
    customer = {"Authorization": f"Bearer {local_runtime.customer_token('snoozer')}"}
    agent = {"Authorization": f"Bearer {local_runtime.agent_token('agent-snooze', ['frontline'])}"}
    conversation = requests.post(
        f"{base}/messenger/conversations", headers=customer, json={"body": "later please"}, timeout=10
    ).json()
    until = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    snoozed = requests.post(
        f"{base}/inbox/conversations/{conversation['id']}/status",
        headers=agent,
        json={"status": "snoozed", "snoozed_until": until},
        timeout=10,
    )
    assert snoozed.status_code == 200

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        detail = requests.get(f"{base}/inbox/conversations/{conversation['id']}", headers=agent, timeout=10).json()
        if detail["status"] == "open":
            break
        time.sleep(0.5)
    assert detail["status"] == "open"
