"""3. DynamoDB round trips per API operation: every route of both APIs, called once, its calls counted.

The calls are counted where botocore makes them (as ``tests/conftest.py`` does), so nothing the
handler does on the way (PynamoDB, powertools, our services) is missed. Each request is filed under
the route the resolver itself matches it to, and the list of routes comes from the two resolvers
(as the authorization matrix's does): a route added to an API and not driven here is reported as
not driven, and the goal is not met. Goal: every route <= 2, most (more than half) 1, no Scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from bench.api import CUSTOMER, FRONTLINE, RETURNS, InProcessApi, Reply
from bench.harness import ATTACHMENTS_BUCKET, EMAIL_KEY, DynamoRecorder, Result, in_memory_aws

GOAL_MAX = 2
BILLING = ("agent-billing", "billing")
BILLING_LEAD = ("agent-billing-lead", "billing,leads")
ADMIN = ("agent-admin", "admins")
"""Approvals are a lead's decision (``domain/policy.py``)."""


@dataclass(frozen=True)
class Route:
    """A route as a resolver registered it: ``METHOD /path/<param>`` and the pattern it matches paths with."""

    method: str
    path: str
    rule: re.Pattern[str]

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@cache
def resolver_routes() -> tuple[Route, ...]:
    """Every route the messenger and inbox resolvers register, static ones first (as they match)."""
    from helpdesk.api import inbox as inbox_api
    from helpdesk.api import messenger as messenger_api

    return tuple(
        Route(route.method, route.path, route.rule)
        for app in (messenger_api.app, inbox_api.app)
        for route in [*app._static_routes, *app._dynamic_routes]
    )


def all_routes() -> list[str]:
    """Every route the two APIs declare, ``METHOD /path/<param>``."""
    return sorted({route.name for route in resolver_routes()})


def route_of(method: str, path: str) -> str | None:
    """The route the resolvers would serve ``method path`` with (None: no route matches)."""
    for route in resolver_routes():
        if route.method == method and route.rule.match(path):
            return route.name
    return None


@dataclass
class RouteCall:
    label: str
    """What the call did, in words (a route may be driven more than once, e.g. with and without a filter)."""
    route: str | None
    """The resolver's route that served it (None: no route matched the request)."""
    status: int
    operations: list[str]


@dataclass
class Drive:
    """Calls routes one at a time and keeps, per call, its route, status and DynamoDB operations."""

    api: InProcessApi
    calls: list[RouteCall] = field(default_factory=list)

    def __call__(self, label: str, request: Callable[[], Reply]) -> Reply:
        self.api.recorder.reset()
        self.api.last_request = None
        reply = request()
        served = route_of(*self.api.last_request) if self.api.last_request else None
        self.calls.append(RouteCall(label, served, reply.status, list(self.api.recorder.operations)))
        return reply


def not_driven(calls: list[RouteCall]) -> list[str]:
    """Routes of the two APIs that no call reached with a 2xx answer."""
    answered = {c.route for c in calls if 200 <= c.status < 300}
    return [route for route in all_routes() if route not in answered]


def drive_every_route(api: InProcessApi) -> list[RouteCall]:
    """One realistic pass over both APIs: a visitor, a customer, agents, a ticket's life, a tracker."""
    import boto3

    d = Drive(api)
    c, a = api.customer, api.agent
    conv = "/messenger/conversations"

    d("GET /messenger/openapi.json", lambda: api.public("GET", "/messenger/openapi.json"))
    d("GET /messenger/docs", lambda: api.public("GET", "/messenger/docs"))
    visitor = d("POST /messenger/visitors", lambda: api.public("POST", "/messenger/visitors")).body
    visitor_id = visitor.get("visitor_id", "visitor-unknown") if isinstance(visitor, dict) else "visitor-unknown"
    c("POST", conv, {"body": "Hello, anyone there?"}, user_id=visitor_id, visitor=True)
    d(
        "POST /messenger/identify",
        lambda: c("POST", "/messenger/identify", {"visitor_token": (visitor or {}).get("visitor_token", "x" * 20)}),
    )
    started = d(
        "POST /messenger/conversations",
        lambda: c(
            "POST",
            conv,
            {"body": "My parcel arrived damaged", "context": {"object": {"type": "order", "id": "ORD-1001"}}},
        ),
    ).body
    cid = started["id"]
    first_message = started["messages"][-1]["id"]
    d("GET /messenger/conversations", lambda: c("GET", conv))
    d(
        "POST /messenger/conversations/<id>/messages",
        lambda: c("POST", f"{conv}/{cid}/messages", {"body": "Photo coming"}),
    )
    d("GET /messenger/conversations/<id>", lambda: c("GET", f"{conv}/{cid}"))
    d(
        "GET /messenger/conversations/<id>?after= (fetch new messages)",
        lambda: c("GET", f"{conv}/{cid}?after={first_message}"),
    )
    d("POST /messenger/conversations/<id>/verify", lambda: c("POST", f"{conv}/{cid}/verify"))
    upload = d(
        "POST /messenger/attachments",
        lambda: c("POST", "/messenger/attachments", {"filename": "lid.png", "content_type": "image/png", "size": 8}),
    ).body
    boto3.client("s3").put_object(  # what the browser's form upload stores: the declared type and size
        Bucket=ATTACHMENTS_BUCKET,
        Key=upload["upload"]["fields"]["key"],
        Body=b"\x89PNG\r\n\x1a\n",
        ContentType="image/png",
    )
    attachment = upload["attachment_id"]
    d(
        "POST /messenger/conversations/<id>/messages (with attachment)",
        lambda: c("POST", f"{conv}/{cid}/messages", {"body": "", "attachment_ids": [attachment]}),
    )
    d("GET /messenger/attachments/<id>", lambda: c("GET", f"/messenger/attachments/{attachment}"))
    preferences = d("GET /messenger/preferences", lambda: c("GET", "/messenger/preferences")).body
    d("PUT /messenger/preferences", lambda: c("PUT", "/messenger/preferences", {**preferences, "sms": False}))

    d("GET /inbox/openapi.json", lambda: api.public("GET", "/inbox/openapi.json"))
    d("GET /inbox/docs", lambda: api.public("GET", "/inbox/docs"))
    d("GET /inbox/me", lambda: a("GET", "/inbox/me"))
    d("PUT /inbox/me/availability", lambda: a("PUT", "/inbox/me/availability", {"availability": "online"}))
    d("GET /inbox/teams", lambda: a("GET", "/inbox/teams"))
    d("GET /inbox/teams/<id>/agents", lambda: a("GET", "/inbox/teams/frontline/agents"))
    d("GET /inbox/ticket-types", lambda: a("GET", "/inbox/ticket-types"))
    d("GET /inbox/search", lambda: a("GET", "/inbox/search?q=ord-1"))
    d("GET /inbox/conversations (team, status)", lambda: a("GET", "/inbox/conversations"))
    d("GET /inbox/conversations/<id>", lambda: a("GET", f"/inbox/conversations/{cid}"))
    d(
        "POST /inbox/conversations/<id>/replies",
        lambda: a("POST", f"/inbox/conversations/{cid}/replies", {"body": "So sorry!"}),
    )
    d(
        "POST /inbox/conversations/<id>/assignment",
        lambda: a("POST", f"/inbox/conversations/{cid}/assignment", {"assignee_id": FRONTLINE[0]}),
    )
    d("GET /inbox/conversations?assignee_id=me", lambda: a("GET", "/inbox/conversations?assignee_id=me"))
    d(
        "POST /inbox/conversations/<id>/verification-request",
        lambda: a("POST", f"/inbox/conversations/{cid}/verification-request"),
    )
    d("GET /inbox/attachments/<id>", lambda: a("GET", f"/inbox/attachments/{attachment}"))
    d(
        "GET /inbox/conversations/<id>/ticket-draft",
        lambda: a("GET", f"/inbox/conversations/{cid}/ticket-draft?ticket_type_id=damaged-item"),
    )
    ticket = d(
        "POST /inbox/conversations/<id>/ticket (convert)",
        lambda: a(
            "POST",
            f"/inbox/conversations/{cid}/ticket",
            {
                "ticket_type_id": "damaged-item",
                "team_id": "returns",
                "attributes": {"description": "The lid is cracked"},
            },
        ),
    ).body
    tid = ticket["id"]
    d("GET /inbox/tickets (team, category)", lambda: a("GET", "/inbox/tickets?team_id=returns", agent=RETURNS))
    d(
        "GET /inbox/tickets?order=sla_due",
        lambda: a("GET", "/inbox/tickets?team_id=returns&order=sla_due", agent=RETURNS),
    )
    d(
        "GET /inbox/tickets?assignee_id=unassigned",
        lambda: a("GET", "/inbox/tickets?assignee_id=unassigned", agent=RETURNS),
    )
    d("GET /inbox/tickets/<id>", lambda: a("GET", f"/inbox/tickets/{tid}", agent=RETURNS))
    d(
        "GET /inbox/tickets/<id>/transcript (the front line's conversation, read by returns)",
        lambda: a("GET", f"/inbox/tickets/{tid}/transcript", agent=RETURNS),
    )
    patched = d(
        "PATCH /inbox/tickets/<id>",
        lambda: a(
            "PATCH", f"/inbox/tickets/{tid}", {"version": ticket["version"], "state_id": "assessing"}, agent=RETURNS
        ),
    ).body
    d(
        "POST /inbox/tickets/<id>/replies",
        lambda: a("POST", f"/inbox/tickets/{tid}/replies", {"body": "On it"}, agent=RETURNS),
    )
    agent_upload = d(
        "POST /inbox/attachments",
        lambda: a(
            "POST",
            "/inbox/attachments",
            {"ticket_id": tid, "filename": "label.pdf", "content_type": "application/pdf", "size": 9},
            agent=RETURNS,
        ),
    ).body
    del agent_upload
    d("GET /messenger/tickets", lambda: c("GET", "/messenger/tickets"))
    d("GET /messenger/home", lambda: c("GET", "/messenger/home"))
    d("GET /messenger/unread", lambda: c("GET", "/messenger/unread"))
    d("POST /messenger/conversations/<id>/read", lambda: c("POST", f"{conv}/{cid}/read"))
    d("POST /messenger/tickets/<id>/read", lambda: c("POST", f"/messenger/tickets/{tid}/read"))
    d("GET /messenger/articles/<id>", lambda: c("GET", "/messenger/articles/warranty"))
    d("GET /messenger/tickets/<id>", lambda: c("GET", f"/messenger/tickets/{tid}"))
    d(
        "POST /messenger/tickets/<id>/replies",
        lambda: c("POST", f"/messenger/tickets/{tid}/replies", {"body": "Thanks"}),
    )
    current = a("GET", f"/inbox/tickets/{tid}", agent=RETURNS).body
    a(
        "PATCH",
        f"/inbox/tickets/{tid}",
        {"version": current.get("version", patched.get("version")), "state_id": "replaced"},
        agent=RETURNS,
    )
    d("POST /messenger/tickets/<id>/rating", lambda: c("POST", f"/messenger/tickets/{tid}/rating", {"score": 5}))
    d("GET /inbox/customers/<id> (the profile)", lambda: a("GET", f"/inbox/customers/{CUSTOMER}", agent=RETURNS))
    d(
        "POST /inbox/customers/<id>/actions/<action>",
        lambda: a("POST", f"/inbox/customers/{CUSTOMER}/actions/recent-orders", {"inputs": {}}, agent=RETURNS),
    )
    link = {"ticket_id": tid, "link": email_link(tid)}  # the ticket's link in a status email
    d("POST /messenger/links", lambda: api.public("POST", "/messenger/links", link))
    d("POST /messenger/links/renewals (a used link)", lambda: api.public("POST", "/messenger/links/renewals", link))
    d("GET /inbox/conversations/<id>/email", lambda: a("GET", f"/inbox/conversations/{cid}/email"))
    tracker = d(
        "POST /inbox/tickets",
        lambda: a(
            "POST",
            "/inbox/tickets",
            {
                "ticket_type_id": "delivery-problem",
                "category": "tracker",
                "team_id": "logistics",
                "title": "Carrier outage",
                "attributes": {"order_id": "ORD-1001", "problem": "late"},
            },
            agent=("agent-admin", "admins"),
        ),
    ).body
    d(
        "POST /inbox/tickets/<id>/links",
        lambda: a(
            "POST",
            f"/inbox/tickets/{tracker.get('id', 'none')}/links",
            {"ticket_ids": [tid]},
            agent=("agent-admin", "admins"),
        ),
    )
    second = c("POST", conv, {"body": "Another question"}).body["id"]
    d(
        "POST /inbox/conversations/<id>/status",
        lambda: a(
            "POST",
            f"/inbox/conversations/{second}/status",
            {"status": "snoozed", "snoozed_until": "2030-01-01T09:00:00Z"},
        ),
    )
    d("POST /messenger/conversations/<id>/close", lambda: c("POST", f"{conv}/{second}/close"))
    refund = a(
        "POST",
        "/inbox/tickets",
        {
            "ticket_type_id": "refund-request",
            "team_id": "billing",
            "customer_id": "demo-customer-1",
            "title": "Charged twice",
            "attributes": {"order_id": "ORD-1002", "amount": "250.00", "reason": "charged-twice"},
        },
        agent=BILLING,
    ).body
    awaiting_approval(str(refund.get("id", "none")))
    d(
        "POST /inbox/tickets/<id>/approval",
        lambda: a(
            "POST",
            f"/inbox/tickets/{refund.get('id', 'none')}/approval",
            {"decision": "approve", "note": "Double charge confirmed"},
            agent=BILLING_LEAD,
        ),
    )
    drive_tags_and_macros(d, api, cid, tid)
    # An admin exports the customer's data, then erases them (the worker and the workflow do the rest).
    customer = f"/inbox/customers/{CUSTOMER}"
    export = d("POST /inbox/customers/<id>/export", lambda: a("POST", f"{customer}/export", agent=ADMIN)).body
    d(
        "GET /inbox/customers/<id>/exports/<id>",
        lambda: a("GET", f"{customer}/exports/{export.get('id', 'none')}", agent=ADMIN),
    )
    erasure = d("POST /inbox/customers/<id>/erasure", lambda: a("POST", f"{customer}/erasure", agent=ADMIN)).body
    d(
        "GET /inbox/customers/<id>/erasures/<id>",
        lambda: a("GET", f"{customer}/erasures/{erasure.get('id', 'none')}", agent=ADMIN),
    )
    return d.calls


def drive_tags_and_macros(d: Drive, api: InProcessApi, cid: str, tid: str) -> None:
    """Tagging a conversation and a ticket, their tag views, an agent's own macro, applying macros."""
    a = api.agent
    d("GET /inbox/tags", lambda: a("GET", "/inbox/tags"))
    d(
        "POST /inbox/conversations/<id>/tags",
        lambda: a("POST", f"/inbox/conversations/{cid}/tags", {"add_tags": ["vip"]}),
    )
    d("GET /inbox/conversations?tag=", lambda: a("GET", "/inbox/conversations?tag=vip"))
    version = a("GET", f"/inbox/tickets/{tid}", agent=RETURNS).body.get("version", 1)
    d(
        "PATCH /inbox/tickets/<id> (tags)",
        lambda: a("PATCH", f"/inbox/tickets/{tid}", {"version": version, "add_tags": ["vip"]}, agent=RETURNS),
    )
    d("GET /inbox/tickets?tag=", lambda: a("GET", "/inbox/tickets?tag=vip", agent=RETURNS))
    d("GET /inbox/macros?q=", lambda: a("GET", "/inbox/macros?q=thanks"))
    own = d(
        "POST /inbox/macros",
        lambda: a("POST", "/inbox/macros", {"name": "Photos received", "body": "Thanks {customer.first_name|there}!"}),
    ).body
    d("DELETE /inbox/macros/<id>", lambda: a("DELETE", f"/inbox/macros/{own.get('id', 'none')}"))
    d(
        "POST /inbox/tickets/<id>/macros/<id>/apply",
        lambda: a("POST", f"/inbox/tickets/{tid}/macros/replacement-sent-resolve/apply", {}, agent=RETURNS),
    )
    d(
        "POST /inbox/conversations/<id>/macros/<id>/apply",
        lambda: a("POST", f"/inbox/conversations/{cid}/macros/thanks-and-close/apply", {}),
    )


def email_link(ticket_id: str) -> str:
    """A signed link to the customer's ticket, as a status email carries it."""
    from helpdesk.auth.email_keys import EmailKeys
    from helpdesk.auth.link_tokens import LinkPurpose, issue_link

    keys = EmailKeys(current=EMAIL_KEY)
    return issue_link(keys, customer_id=CUSTOMER, purpose=LinkPurpose.TICKET, subject_id=ticket_id, ttl_seconds=600)


def awaiting_approval(ticket_id: str) -> None:
    """The refund's workflow asks for a specialist's approval, as its workflow-tasks worker does on AWS."""
    import json

    from helpdesk.handlers import workflow_tasks

    from tests.support.events import FakeLambdaContext

    body = json.dumps({"task": "request_approval", "ticket_id": ticket_id, "token": "bench-approval-token"})
    record = {
        "messageId": "bench-approval",
        "receiptHandle": "bench",
        "body": body,
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:workflow-tasks",
        "awsRegion": "us-east-1",
    }
    answer = workflow_tasks.lambda_handler({"Records": [record]}, FakeLambdaContext())
    if answer.get("batchItemFailures"):
        raise RuntimeError(f"the approval request for ticket {ticket_id} failed")


def run() -> list[Result]:
    with in_memory_aws(), DynamoRecorder() as recorder:
        calls = drive_every_route(InProcessApi(recorder))
    per_call = {
        c.label: {"route": c.route, "status": c.status, "calls": len(c.operations), "operations": c.operations}
        for c in calls
    }
    driven = [c for c in calls if 200 <= c.status < 300]
    failed = [c for c in calls if not 200 <= c.status < 300]
    touching = [c for c in driven if c.operations]
    scans = [c.label for c in calls if "Scan" in c.operations]
    worst_call = max(driven, key=lambda c: len(c.operations), default=None)
    worst = len(worst_call.operations) if worst_call else 0
    ones = sum(1 for c in touching if len(c.operations) == 1)
    missing = not_driven(calls)
    routes = all_routes()
    met = worst <= GOAL_MAX and ones * 2 > len(touching) and not scans and not missing
    return [
        Result(
            benchmark="round trips",
            figure=f"most DynamoDB calls on any route ({len(routes) - len(missing)} of {len(routes)} routes driven"
            + (f"; worst: {worst_call.route}" if worst_call and worst > GOAL_MAX else "")
            + ")",
            value=worst,
            unit="calls",
            goal=f"every route <= {GOAL_MAX}, every route driven",
            met=worst <= GOAL_MAX and not missing,
            details={
                "calls": per_call,
                "over_goal": [c.label for c in driven if len(c.operations) > GOAL_MAX],
                "not_2xx": [f"{c.label}: {c.status}" for c in failed],
                "not_driven": missing,
                "unmatched": [c.label for c in calls if c.route is None],
            },
        ),
        Result(
            benchmark="round trips",
            figure="routes answered with exactly 1 DynamoDB call (of those that touch DynamoDB)",
            value=ones,
            unit=f"of {len(touching)}",
            goal="most (> half)",
            met=ones * 2 > len(touching),
            details={"all_goals_met": met},
        ),
        Result(
            benchmark="round trips",
            figure="Scans on any route",
            value=len(scans),
            unit="",
            goal="0",
            met=not scans,
            details={"routes_with_scan": scans},
        ),
    ]


def summary(calls: list[RouteCall]) -> dict[str, Any]:
    return {c.label: len(c.operations) for c in calls}
