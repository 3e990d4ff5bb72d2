"""No personal data in logs: a full scenario on the local runtime, then every line it logged is scanned.

The scenario covers what touches personal data: a customer token carrying an email address and a phone
number, messages, a ticket, a state change that sends status updates by email and SMS, a refused and an
expired token. The log holds every handler's output (powertools Logger, at the deployed level INFO), the
authorizer's, the pollers' and the local gateway's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LocalRuntime, running_local_runtime
from tests.support.workspaces import agents_only_workspace

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
EMAIL = "pii.person@example.org"
PHONE = "+447700900123"
NAME = "Priya Privacy"
SECRETS_SAID = [
    "my card ends 4242 and my address is 12 Acacia Avenue",
    "Sorry Priya, we will send a new one to Acacia Avenue",
    "Internal: customer seems upset about 4242",
    "Photos attached, the box was crushed flat",
]
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE_PATTERN = re.compile(r"\+\d{10,15}|7700900\d{3}")  # E.164, and our number without its prefix
BANNER_END = b"Ctrl-C stops everything."
JWT_PATTERN = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


@pytest.fixture(scope="module")
def logged_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalRuntime, Path]]:
    log_dir = tmp_path_factory.mktemp("localrt-pii")
    code = f"{REPO / 'functions'}:{REPO / 'local'}"
    with running_local_runtime(
        log_dir, LOCAL_WORKSPACE_DIR=str(agents_only_workspace()), POWERTOOLS_LOG_LEVEL="INFO", PYTHONPATH=code
    ) as runtime:
        yield runtime, log_dir / "localrt.log"


def banner_end(log: Path) -> int:
    """Where the start-up banner ends: it is printed after the gateway starts answering, so wait for it."""
    deadline = time.monotonic() + 30
    while (end := log.read_bytes().find(BANNER_END)) < 0:
        assert time.monotonic() < deadline, "the local runtime never printed its banner"
        time.sleep(0.2)
    return end + len(BANNER_END)


def scenario(runtime: LocalRuntime) -> list[str]:
    """The customer's journey through conversation, ticket and status updates; returns the tokens used."""
    base = runtime.base_url
    customer = runtime.customer_token("pii-customer", email=EMAIL, phone=PHONE, name=NAME)
    agent = runtime.agent_token("pii-agent", ["frontline", "returns"], name="Agent Smith")
    expired = runtime.customer_token("pii-customer", ttl_seconds=-60, email=EMAIL)

    def call(method: str, path: str, token: str, body: Any = None) -> Any:
        reply = requests.request(
            method, f"{base}{path}", headers={"Authorization": f"Bearer {token}"}, json=body, timeout=15
        )
        assert reply.status_code < 300, (method, path, reply.status_code, reply.text)
        return reply.json()

    call("PUT", "/messenger/preferences", customer, {"messenger": True, "email": True, "sms": True})
    conversation = call("POST", "/messenger/conversations", customer, {"body": SECRETS_SAID[0]})
    call("POST", f"/inbox/conversations/{conversation['id']}/replies", agent, {"body": SECRETS_SAID[1]})
    call(
        "POST", f"/inbox/conversations/{conversation['id']}/replies", agent, {"body": SECRETS_SAID[2], "internal": True}
    )
    ticket = call(
        "POST",
        f"/inbox/conversations/{conversation['id']}/ticket",
        agent,
        {"ticket_type_id": "damaged-item", "attributes": {"order_id": "ORD-1001", "description": SECRETS_SAID[3]}},
    )
    call("PATCH", f"/inbox/tickets/{ticket['id']}", agent, {"version": ticket["version"], "state_id": "assessing"})
    call("POST", f"/messenger/tickets/{ticket['id']}/replies", customer, {"body": SECRETS_SAID[0]})
    call("GET", f"/messenger/tickets/{ticket['id']}", customer)
    for refused in (expired, "not-a-token", customer[:-4] + "abcd"):
        assert (
            requests.get(
                f"{base}/messenger/tickets", headers={"Authorization": f"Bearer {refused}"}, timeout=15
            ).status_code
            == 401
        )

    # The status updates go out by email and SMS (so the notifier has run) before the log is read.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        outbox = requests.get(f"{base}/_local/outbox", timeout=5).json()
        if any(EMAIL in e["to"] for e in outbox["emails"]) and any(s["to"] == PHONE for s in outbox["sms"]):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the status updates never went out: {outbox}")
    return [customer, agent, expired]


def test_a_full_scenario_logs_no_email_phone_message_or_token(logged_runtime: tuple[LocalRuntime, Path]) -> None:
    # Given the local runtime's log, and a customer's whole journey through it
    # (what it logged before: the start-up banner, which prints demo tokens for people to try, by design)
    runtime, log = logged_runtime
    start = banner_end(log)
    tokens = scenario(runtime)
    time.sleep(2)  # let the pollers log what they did
    text = log.read_bytes()[start:].decode(errors="replace")
    assert '"level":"INFO"' in text.replace(" ", ""), "the handlers' logs are not in the runtime's log"

    # Then nothing personal is in it
    leaks = {
        "email addresses": sorted(set(EMAIL_PATTERN.findall(text)) - {"@example.com"}),
        "phone numbers": sorted(set(PHONE_PATTERN.findall(text))),
        "tokens": sorted({t[:20] for t in JWT_PATTERN.findall(text)} | {t[:20] for t in tokens if t in text}),
        "names": [NAME] if NAME in text else [],
        "message bodies": [s for s in SECRETS_SAID if s in text or s[:24] in text],
    }
    assert not any(leaks.values()), {k: v for k, v in leaks.items() if v}
