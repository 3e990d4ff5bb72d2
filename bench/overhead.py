"""2. Per-request overhead: CPU time per request through our handler vs a minimal hand-written one.

Both run in this process against the same in-memory moto. The minimal handler parses the event,
makes *the same DynamoDB calls our handler made* for that route (recorded from one warm-up call,
with fresh ids where ours generated them and the path's ids where it used those) through a plain
boto3 client, and returns the items as JSON: what the route costs with no framework, validation,
PynamoDB or domain models. Figures are ``time.process_time`` per request, the median over rounds,
the rounds interleaving ours and the reference (alternating which goes first). The moto backend's
own work is inside both (see ``no_table_snapshots`` for the one part of it left out).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.api import FRONTLINE, RETURNS, InProcessApi, agent_context, customer_context, proxy_event
from bench.harness import DynamoCall, DynamoRecorder, Result, in_memory_aws, median, no_table_snapshots

GOAL_RATIO = 1.25
ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
Handler = Callable[[dict[str, Any]], Any]


@dataclass
class CallTemplate:
    """One recorded DynamoDB call, as JSON with placeholders for the ids that change per request."""

    method: str
    text: str
    path_ids: dict[str, int]
    """placeholder -> index of the id in the request path"""
    fresh_ids: list[str]
    """placeholders that get a new id on every request"""


def templates_from(calls: list[DynamoCall], path: str) -> list[CallTemplate]:
    from botocore import xform_name

    in_path = ULID.findall(path)
    templates = []
    for call in calls:
        params = {k: v for k, v in call.params.items() if k != "ClientRequestToken"}
        text = json.dumps(params)
        path_ids: dict[str, int] = {}
        fresh: list[str] = []
        for n, found in enumerate(dict.fromkeys(ULID.findall(text))):
            placeholder = f"@@ID{n}@@"
            text = text.replace(found, placeholder)
            if found in in_path:
                path_ids[placeholder] = in_path.index(found)
            else:
                fresh.append(placeholder)
        templates.append(CallTemplate(xform_name(call.operation), text, path_ids, fresh))
    return templates


def minimal_handler(templates: list[CallTemplate]) -> Handler:
    """A hand-written handler doing the route's DynamoDB calls with plain boto3, nothing else."""
    import boto3
    from ulid import ULID as new_ulid

    client = boto3.client("dynamodb")

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        body = json.loads(event["body"]) if event.get("body") else None
        caller = event["requestContext"]["authorizer"]
        ids = ULID.findall(event["path"])
        answers = []
        for template in templates:
            text = template.text
            for placeholder, index in template.path_ids.items():
                text = text.replace(placeholder, ids[index])
            for placeholder in template.fresh_ids:
                text = text.replace(placeholder, str(new_ulid()))
            answer = getattr(client, template.method)(**json.loads(text))
            answers.append(answer.get("Items") or answer.get("Item") or answer.get("Attributes") or {})
        return {"statusCode": 200, "body": json.dumps({"items": answers, "request": body, "by": caller}, default=str)}

    return handle


@dataclass
class Route:
    name: str
    events: Callable[[int], list[dict[str, Any]]]
    """n -> n events, each good for one request (fresh conversations where a request uses one up)"""


ROUTES = ("start conversation", "send message", "get ticket", "list tickets", "convert to ticket")


def _route(api: InProcessApi, name: str) -> Route:
    """The route's events, after the setup it needs (a conversation, a ticket with a reply)."""

    def customer(method: str, path: str, body: Any = None) -> dict[str, Any]:
        return proxy_event(method, path, body=body, authorizer=customer_context())

    def agent(method: str, path: str, body: Any = None, who: tuple[str, str] = FRONTLINE) -> dict[str, Any]:
        return proxy_event(method, path, body=body, authorizer=agent_context(who))

    def new_conversation() -> str:
        return str(
            api.call(customer("POST", "/messenger/conversations", {"body": "My parcel arrived damaged"})).body["id"]
        )

    convert_body = {
        "ticket_type_id": "damaged-item",
        "team_id": "returns",
        "attributes": {"order_id": "ORD-1001", "description": "Cracked"},
    }
    match name:
        case "start conversation":
            return Route(
                name,
                lambda n: [
                    customer("POST", "/messenger/conversations", {"body": "Where is my order?"}) for _ in range(n)
                ],
            )
        case "send message":
            conversation = new_conversation()
            path = f"/messenger/conversations/{conversation}/messages"
            return Route(name, lambda n: [customer("POST", path, {"body": "Any news?"}) for _ in range(n)])
        case "get ticket" | "list tickets":
            conversation = new_conversation()
            ticket = api.call(agent("POST", f"/inbox/conversations/{conversation}/ticket", convert_body)).body["id"]
            api.call(agent("POST", f"/inbox/tickets/{ticket}/replies", {"body": "We're on it"}, RETURNS))
            path = f"/messenger/tickets/{ticket}" if name == "get ticket" else "/messenger/tickets"
            return Route(name, lambda n: [customer("GET", path) for _ in range(n)])
        case "convert to ticket":
            return Route(
                name,
                lambda n: [
                    agent("POST", f"/inbox/conversations/{new_conversation()}/ticket", convert_body) for _ in range(n)
                ],
            )
    raise ValueError(f"no such route: {name}")


def _cpu_per_request(handler: Handler, events: list[dict[str, Any]]) -> float:
    started = time.process_time()
    answers = [handler(event) for event in events]
    spent = (time.process_time() - started) / len(events)
    failed = [a for a in answers if not 200 <= (a.status if hasattr(a, "status") else a["statusCode"]) < 300]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(events)} requests failed, e.g. {failed[0]}")
    return spent


def run(rounds: int = 7, per_round: int = 20) -> list[Result]:
    results = []
    for name in ROUTES:
        with no_table_snapshots(), in_memory_aws(), DynamoRecorder() as recorder:
            api = InProcessApi(recorder)
            results.append(_measure(api, recorder, _route(api, name), rounds, per_round))
    return results


def _measure(api: InProcessApi, recorder: DynamoRecorder, route: Route, rounds: int, per_round: int) -> Result:
    ours: Handler = api.call
    (warm_up,) = route.events(1)
    recorder.reset()
    reply = ours(warm_up)
    if not 200 <= reply.status < 300:
        raise RuntimeError(f"{route.name}: our handler answered {reply.status}: {reply.body}")
    operations = list(recorder.operations)
    reference = minimal_handler(templates_from(list(recorder.calls), warm_up["path"]))
    reference(route.events(1)[0])  # its client warmed up too
    samples: dict[str, list[float]] = {"ours": [], "reference": []}
    for round_number in range(rounds):
        order = [("ours", ours), ("reference", reference)]
        for label, handler in order if round_number % 2 == 0 else reversed(order):
            samples[label].append(_cpu_per_request(handler, route.events(per_round)))
        recorder.reset()
    ours_s, reference_s = median(samples["ours"]), median(samples["reference"])
    ratio = ours_s / reference_s
    return Result(
        benchmark="per-request overhead",
        figure=f"{route.name}: CPU per request vs plain boto3 handler",
        value=round(ratio, 2),
        unit="x",
        goal=f"<= {GOAL_RATIO}x",
        met=ratio <= GOAL_RATIO,
        details={
            "ours_ms": round(ours_s * 1000, 2),
            "reference_ms": round(reference_s * 1000, 2),
            "extra_ms_per_request": round((ours_s - reference_s) * 1000, 2),
            "dynamodb_calls": operations,
            "rounds": rounds,
            "requests_per_round": per_round,
        },
    )
