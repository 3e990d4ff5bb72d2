"""6. Cost model: a full demo scenario on the local runtime, everything AWS would bill counted and priced.

Two runs of ``bench.instrumented_runtime`` (the local runtime with counters, see there):
- tickets: the demo workspace without its bot. Each customer starts a conversation and writes
  again; an agent reads the inbox and the conversation, replies and converts it into a ticket; a
  specialist moves it on, replies, resolves it; the customer reads it, replies and rates it.
  The customer keeps the messenger connected to the live channel for the ticket's life, and the two
  agents keep the inbox connected with the conversation, then the ticket, open (``watch``): the
  frames the fan-out posts (and the ``$connect`` / ``watch`` requests) are counted as they happen.
  Connection-minutes can't be measured in a run of seconds: they are modelled (``LIVE_*`` below,
  stated in the row's details), as are the pages' pings and typing indicators.
- bot-resolved conversations: the demo as shipped (bot and order system). Each customer asks to
  change a delivery slot and the bot does it, with no ticket and no human.
- email conversations: the demo without its bot. Each customer emails support (over the local SMTP
  server that plays SES receiving) with a photo; an agent reads the email team's view and answers,
  which goes out by email; the customer answers that email, quoting it. Two emails in, one out.
  SES receiving is priced per email and per 256 KB, and S3 requests (storing and reading the mail,
  keeping its photo) at S3's request prices. The customer's mailbox is read through the local outbox,
  whose own reads of the table (a few GetItems per email) are counted too: under 1% of the figure.
After the requests, the asynchronous work (stream -> events -> workflows -> notifications) is let
settle, Step Functions transitions are read from the execution histories, and the counts are
priced with ``bench/prices.json``. Lambda durations are measured here, on moto: on AWS they differ
(network round trips instead of in-process calls), so they are a rough figure for the GB-seconds.
"""

from __future__ import annotations

import ast
import json
import math
import signal
import time
from pathlib import Path
from typing import Any

import requests

from bench.harness import REPO, Result
from bench.live_cost import LIVE_ASSUMPTIONS, LiveTally, live_usage
from bench.runtime import Runtime, local_runtime

PRICES = REPO / "bench" / "prices.json"
GOAL_PER_1000_TICKETS = 1.00
TICKETS = 10
BOT_CONVERSATIONS = 5
EMAIL_CONVERSATIONS = 5
SETTLE_SECONDS = 60
TIMEOUT = 60


def memory_by_handler() -> tuple[int, dict[str, int]]:
    """The configured memory (MB): the default of ``FunctionSpec`` and each handler's own, read from ``infra/``."""
    from helpdesk import surfaces

    default = 0
    for node in ast.walk(ast.parse((REPO / "infra" / "functions.py").read_text())):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "memory_mb":
            default = int(ast.literal_eval(node.value)) if node.value is not None else 0
    overrides: dict[str, int] = {}
    for node in ast.walk(ast.parse((REPO / "infra" / "service.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "FunctionSpec":
            keywords = {k.arg: k.value for k in node.keywords}
            handler, memory = keywords.get("handler"), keywords.get("memory_mb")
            if isinstance(handler, ast.Name) and memory is not None:
                overrides[str(getattr(surfaces, handler.id))] = int(ast.literal_eval(memory))
    if not default:
        raise RuntimeError("no memory_mb default found in infra/functions.py")
    return default, overrides


class _Client:
    def __init__(self, runtime: Runtime, token: str) -> None:
        self.base = runtime.base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.session.request(method, f"{self.base}{path}", json=body, timeout=TIMEOUT)
        if not response.ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()


def _ticket_life(runtime: Runtime, n: int, live: LiveTally | None = None) -> str:
    """One ticket's life, from the customer's first message to their rating; the ticket's id.

    With ``live``, the customer's messenger and the agents' inbox are connected to the live channel."""
    token = runtime.customer_token(f"cost-customer-{n}", name=f"Customer {n}", email=f"c{n}@example.com")
    customer = _Client(runtime, token)
    frontline = _Client(runtime, runtime.agent_token("cost-frontline", ["frontline"]))
    returns = _Client(runtime, runtime.agent_token("cost-returns", ["returns"]))
    if live is not None:
        customer_socket = live.customer(runtime, token, f"cost-customer-{n}")
        frontline_socket = live.agent(runtime, "cost-frontline", "frontline")
        returns_socket = live.agent(runtime, "cost-returns", "returns")
    context = {"object": {"type": "order", "id": f"ORD-{1000 + n}"}, "page_url": "https://shop.example.com/orders"}
    conversation = customer.call(
        "POST", "/messenger/conversations", {"body": "My parcel arrived damaged", "context": context}
    )["id"]
    if live is not None:
        frontline_socket.watch(conversation_id=conversation)
    customer.call("POST", f"/messenger/conversations/{conversation}/messages", {"body": "The lid is cracked"})
    frontline.call("GET", "/inbox/conversations")
    frontline.call("GET", f"/inbox/conversations/{conversation}")
    frontline.call("POST", f"/inbox/conversations/{conversation}/replies", {"body": "So sorry! Opening a ticket."})
    ticket = frontline.call(
        "POST",
        f"/inbox/conversations/{conversation}/ticket",
        {"ticket_type_id": "damaged-item", "team_id": "returns", "attributes": {"description": "The lid is cracked"}},
    )
    customer.call("GET", f"/messenger/conversations/{conversation}")
    returns.call("GET", "/inbox/tickets?team_id=returns")
    if live is not None:
        returns_socket.watch(ticket_id=ticket["id"])
    moved = returns.call(
        "PATCH", f"/inbox/tickets/{ticket['id']}", {"version": ticket["version"], "state_id": "assessing"}
    )
    returns.call("POST", f"/inbox/tickets/{ticket['id']}/replies", {"body": "A replacement is on its way."})
    customer.call("GET", "/messenger/tickets")
    customer.call("GET", f"/messenger/tickets/{ticket['id']}")
    customer.call("POST", f"/messenger/tickets/{ticket['id']}/replies", {"body": "Thank you!"})
    current = returns.call("GET", f"/inbox/tickets/{ticket['id']}")
    returns.call(
        "PATCH",
        f"/inbox/tickets/{ticket['id']}",
        {"version": current.get("version", moved["version"]), "state_id": "replaced"},
    )
    customer.call("POST", f"/messenger/tickets/{ticket['id']}/rating", {"score": 5})
    if live is not None:
        live.done(customer_socket)
    return str(ticket["id"])


def _bot_resolves(runtime: Runtime, n: int) -> str | None:
    """A customer has the bot change a delivery slot; the conversation's id (None if the bot offered no slot)."""
    customer = _Client(runtime, runtime.customer_token("demo-customer-1", name="Ada", email="ada@example.com"))
    started = customer.call(
        "POST",
        "/messenger/conversations",
        {"body": "Can I change my delivery slot?", "context": {"object": {"type": "order", "id": "ORD-1001"}}},
    )
    conversation = started["id"]

    def options() -> list[dict[str, str]]:
        messages = customer.call("GET", f"/messenger/conversations/{conversation}?limit=100")["messages"]
        offered = [m for m in messages if m["options"]]
        return list(offered[-1]["options"]) if offered else []

    offered = options()
    if len(offered) < 2:
        return None
    customer.call(
        "POST", f"/messenger/conversations/{conversation}/messages", {"body": "", "option_id": offered[1]["id"]}
    )
    customer.call("POST", f"/messenger/conversations/{conversation}/messages", {"body": "yes"})
    return str(conversation)


PHOTO_BYTES = 50 * 1024


def _outcome(runtime: Runtime, message_id: str) -> str | None:
    """What the ingest worker made of a received email, read from the outbox (not an API call: unpriced)."""
    threads = requests.get(f"{runtime.base_url}/_local/outbox", timeout=TIMEOUT).json()["mail_threads"]
    for thread in threads:
        for mail in thread["messages"]:
            if mail["direction"] == "in" and mail["message_id"] == message_id:
                outcome = mail.get("outcome")
                return str(outcome) if outcome and outcome not in ("not handled yet", "receiving") else None
    return None


def _sent_to(runtime: Runtime, address: str) -> dict[str, Any] | None:
    threads = requests.get(f"{runtime.base_url}/_local/outbox", timeout=TIMEOUT).json()["mail_threads"]
    sent = [m for t in threads for m in t["messages"] if m["direction"] == "out" and address in m["to"]]
    return sent[-1] if sent else None


def _wait(probe: Any, what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise RuntimeError(f"timed out waiting for {what}")


def _email_conversation(runtime: Runtime, n: int) -> str | None:
    """A customer emails support with a photo, an agent answers by email, the customer answers back."""
    import smtplib
    from email.message import EmailMessage
    from email.utils import make_msgid

    address = f"email-customer-{n}@example.net"
    first = EmailMessage()
    first["From"], first["To"], first["Subject"] = address, "support@demo-shop.example", "My lamp arrived dented"
    first["Message-ID"] = make_msgid(domain="example.net")
    first.set_content("Hello,\n\nthe lamp shade of order ORD-1001 is dented; photo attached.\n\nThanks")
    first.add_attachment(
        b"\x89PNG\r\n\x1a\n" + bytes(PHOTO_BYTES), maintype="image", subtype="png", filename="dent.png"
    )
    with smtplib.SMTP("127.0.0.1", runtime.smtp_port, timeout=TIMEOUT) as smtp:
        smtp.send_message(first)
    _wait(lambda: _outcome(runtime, str(first["Message-ID"])), "the first email's ingestion")
    agent = _Client(runtime, runtime.agent_token("cost-email", ["email"]))
    listed = agent.call("GET", "/inbox/conversations?team_id=email&limit=100")["items"]
    conversation = next((c for c in listed if c["customer"]["email"] == address), None)
    if conversation is None:
        return None
    agent.call("GET", f"/inbox/conversations/{conversation['id']}")
    agent.call(
        "POST", f"/inbox/conversations/{conversation['id']}/replies", {"body": "Sorry! A new shade ships today."}
    )
    sent = _wait(lambda: _sent_to(runtime, address), "the agent's email")
    answer = EmailMessage()
    answer["From"], answer["To"], answer["Subject"] = address, sent["reply_to"], f"Re: {sent['subject']}"
    answer["Message-ID"] = make_msgid(domain="example.net")
    answer["In-Reply-To"] = sent["message_id"]
    answer["References"] = " ".join([*sent["references"], sent["message_id"]])
    quoted = "\n".join(f"> {line}" for line in sent["text"].splitlines())
    answer.set_content(f"Thank you!\n\nOn Monday, Demo Shop wrote:\n{quoted}\n")
    with smtplib.SMTP("127.0.0.1", runtime.smtp_port, timeout=TIMEOUT) as smtp:
        smtp.send_message(answer)
    _wait(lambda: _outcome(runtime, str(answer["Message-ID"])), "the answer's ingestion")
    return str(conversation["id"])


def _resolved_by_bot(runtime: Runtime, conversation: str) -> bool:
    """Checked after the counts are taken, so the check's own request isn't priced."""
    admin = _Client(runtime, runtime.agent_token("cost-admin", ["admins", "frontline"]))
    state = admin.call("GET", f"/inbox/conversations/{conversation}")
    return bool(state["status"] == "closed" and (state.get("bot") or {}).get("outcome") == "resolved")


def _counts(runtime: Runtime, counts_file: Path) -> dict[str, Any]:
    runtime.process.send_signal(signal.SIGUSR1)
    for _ in range(50):
        time.sleep(0.1)
        if counts_file.exists():
            try:
                data: dict[str, Any] = json.loads(counts_file.read_text())
                counts_file.unlink()
                return data
            except ValueError:
                continue
    raise RuntimeError("the instrumented runtime wrote no counts")


def _settle(runtime: Runtime, counts_file: Path) -> dict[str, Any]:
    """Wait until no handler has run for a few seconds (the asynchronous work is done), up to a minute."""
    deadline = time.monotonic() + SETTLE_SECONDS
    last = _counts(runtime, counts_file)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(1)
        now = _counts(runtime, counts_file)
        if {k: v["count"] for k, v in now["invocations"].items()} != {
            k: v["count"] for k, v in last["invocations"].items()
        }:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 5:
            return now
        last = now
    return last


def _state_transitions(runtime: Runtime) -> dict[str, int]:
    import boto3

    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    transitions = executions = running = 0
    for machine in sfn.list_state_machines()["stateMachines"]:
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            executions += 1
            running += execution["status"] == "RUNNING"
            events = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
            transitions += sum(1 for e in events if e["type"].endswith("StateEntered"))
    return {"transitions": transitions, "executions": executions, "still_running": running}


def _scenario(
    workspace: str | None, drive: Any, units: int, done: Any = None, live: LiveTally | None = None
) -> dict[str, Any]:
    """Run ``drive`` ``units`` times on a fresh instrumented runtime; ``done(runtime, result)`` says which completed."""
    import tempfile

    counts_file = Path(tempfile.mkdtemp(prefix="bench-cost-")) / "counts.json"
    extra = {
        "BENCH_COUNTS_FILE": str(counts_file),
        "LOCAL_TICK_SECONDS": "3600",
        "BENCH_NO_TABLE_SNAPSHOTS": "1",
        "BENCH_SERIALIZE_DYNAMODB": "1",
    }
    if workspace:
        extra["LOCAL_WORKSPACE_DIR"] = workspace
    with local_runtime("bench.instrumented_runtime", **extra) as runtime:
        runtime.process.send_signal(signal.SIGUSR2)  # the runtime's start-up isn't part of the scenario
        time.sleep(0.5)
        outcomes = [drive(runtime, n) for n in range(units)]
        if live is not None:
            live.close()
        counts = _settle(runtime, counts_file)
        if live is not None:
            counts["live"] = live.usage()
        counts["step_functions"] = _state_transitions(runtime)
        completed = [o for o in outcomes if o is not None and (done is None or done(runtime, o))]
    counts["units"] = len(completed)
    return counts


def price(counts: dict[str, Any], prices: dict[str, Any]) -> dict[str, Any]:
    """Dollars for one scenario's counts, service by service, and the quantities priced."""
    from helpdesk.surfaces import API_SURFACES, MESSENGER_AUTHORIZER_HANDLER, STREAM_CONSUMERS

    aws = {name: p["usd"] / p["per"] for name, p in prices["aws"].items()}
    default_mb, memory = memory_by_handler()
    api_handlers = {s.handler for s in API_SURFACES}
    stream_consumers = {c.handler for c in STREAM_CONSUMERS}  # reading the stream is free; no queue
    gb_seconds = lambda_requests = api_requests = sqs_requests = 0.0
    per_function: dict[str, Any] = {}
    for dotted, entry in counts["invocations"].items():
        mb = memory.get(dotted, default_mb)
        billed_ms = sum(math.ceil(ms) for ms in entry["ms"])
        gb_seconds += billed_ms / 1000 * mb / 1024
        lambda_requests += entry["count"]
        if dotted in api_handlers:
            api_requests += entry["count"]
        elif dotted != MESSENGER_AUTHORIZER_HANDLER and entry["records"] and dotted not in stream_consumers:
            sqs_requests += (
                entry["records"] + 2 * entry["count"]
            )  # each message sent once; a receive and a delete per batch
        per_function[dotted.split(".")[2]] = {"invocations": entry["count"], "billed_ms": billed_ms, "memory_mb": mb}
    calls = counts["calls"]

    def count(service: str, *operations: str) -> int:
        return sum(n for key, n in calls.items() if key.split(":")[1] == service and key.split(":")[2] in operations)

    sns_publishes = count("sns", "Publish", "PublishBatch")
    emails = count("ses", "SendEmail", "SendTemplatedEmail", "SendRawEmail")
    # SES receiving stores each email (the local SMTP server's PutObject, outside any handler).
    received = calls.get("other:s3:PutObject", 0)
    s3_puts, s3_gets = count("s3", "PutObject"), count("s3", "GetObject")
    events = count("events", "entries")
    transitions = counts["step_functions"]["transitions"]
    rru, wru = counts["capacity"]["read_units"], counts["capacity"]["write_units"]
    live = live_usage(counts.get("live"), counts["units"])
    dollars = {
        "lambda": gb_seconds * aws["lambda_arm64_gb_second"] + lambda_requests * aws["lambda_request"],
        "api_gateway": api_requests * aws["api_gateway_rest_request"],
        "dynamodb": wru * aws["dynamodb_on_demand_write_request_unit"]
        + rru * aws["dynamodb_on_demand_read_request_unit"],
        "step_functions": transitions * aws["step_functions_standard_state_transition"],
        "sqs": sqs_requests * aws["sqs_standard_request"],
        "sns": sns_publishes * aws["sns_publish"],
        "ses": emails * aws["ses_email"],
        "eventbridge": events * aws["eventbridge_custom_event"],
        "ses_receiving": received * (aws["ses_inbound_email"] + aws["ses_inbound_chunk"]),
        "s3_requests": s3_puts * aws["s3_put_request"] + s3_gets * aws["s3_get_request"],
        "api_gateway_websocket": live["messages"] * aws["api_gateway_websocket_message"]
        + live["connection_minutes"] * aws["api_gateway_websocket_connection_minute"],
    }
    quantities = {
        "lambda_invocations": int(lambda_requests),
        "lambda_gb_seconds": round(gb_seconds, 4),
        "api_gateway_requests": int(api_requests),
        "dynamodb_read_units": rru,
        "dynamodb_write_units": wru,
        "step_functions_transitions": transitions,
        "step_functions_executions": counts["step_functions"]["executions"],
        "step_functions_still_running": counts["step_functions"]["still_running"],
        "sqs_requests": int(sqs_requests),
        "sns_publishes": sns_publishes,
        "ses_emails": emails,
        "eventbridge_events": events,
        "emails_received": received,
        "s3_requests": s3_puts + s3_gets,
        "websocket_messages": live["messages"],
        "websocket_connection_minutes": live["connection_minutes"],
    }
    return {"dollars": dollars, "total": sum(dollars.values()), "quantities": quantities, "functions": per_function}


def run() -> list[Result]:
    from tests.support.workspaces import agents_only_workspace

    prices = json.loads(PRICES.read_text())
    live = LiveTally()
    tickets = _scenario(
        str(agents_only_workspace()), lambda runtime, n: _ticket_life(runtime, n, live), TICKETS, live=live
    )
    bot = _scenario(None, _bot_resolves, BOT_CONVERSATIONS, _resolved_by_bot)
    email = _scenario(str(agents_only_workspace()), _email_conversation, EMAIL_CONVERSATIONS)
    results = [_ingest_time(email)]
    for label, counts, goal in (
        ("1,000 tickets, live connections included", tickets, GOAL_PER_1000_TICKETS),
        ("1,000 bot-resolved conversations", bot, None),
        ("1,000 email conversations (2 emails in, 1 out)", email, None),
    ):
        if not counts["units"]:
            raise RuntimeError(f"the {label} scenario completed no unit")
        priced = price(counts, prices)
        per_1000 = priced["total"] / counts["units"] * 1000
        results.append(
            Result(
                benchmark="cost",
                figure=f"AWS cost per {label} (us-east-1 list prices of {prices['checked']})",
                value=round(per_1000, 3),
                unit="USD",
                goal=f"<= ${goal:.2f}" if goal is not None else "reported",
                met=per_1000 <= goal if goal is not None else None,
                details={
                    "units_completed": counts["units"],
                    "per_1000_by_service": {
                        k: round(v / counts["units"] * 1000, 4) for k, v in priced["dollars"].items()
                    },
                    "quantities_per_unit": {k: round(v / counts["units"], 3) for k, v in priced["quantities"].items()},
                    "functions": priced["functions"],
                    "sms_sends_not_priced": sum(n for k, n in counts["calls"].items() if k.endswith(":sns:PublishSms")),
                    **(
                        {"live": {"measured": counts["live"], "assumptions": LIVE_ASSUMPTIONS}}
                        if "live" in counts
                        else {"live": "not in this scenario (no live connections)"}
                    ),
                },
            )
        )
    return results


def _ingest_time(counts: dict[str, Any]) -> Result:
    """The email-ingest worker's time per received email (a batch of one here), on moto."""
    from helpdesk.surfaces import EMAIL_INGEST

    entry = counts["invocations"].get(EMAIL_INGEST.handler, {"ms": [], "records": 0})
    per_email = sorted(entry["ms"])
    median = per_email[len(per_email) // 2] if per_email else None
    if median is None:
        raise RuntimeError("the email scenario ingested no email")
    return Result(
        benchmark="cost",
        figure="email ingest: worker time per received email (median, on moto)",
        value=round(median, 1),
        unit="ms",
        goal="reported",
        met=None,
        details={"emails": entry["records"], "invocations_ms": [round(ms, 1) for ms in per_email]},
    )
