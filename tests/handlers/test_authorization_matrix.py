"""Who may call what: every route of both APIs, called by every kind of caller, gets the right answer.

The cases are generated from the routes the two resolvers register, so a new route fails here until
someone writes down who may call it. Requests go through the local API Gateway in-process
(``LocalGateway.respond``): the real messenger authorizer checks customer tokens, the local stand-in
for Cognito checks agent tokens, and the handlers run on moto. So "no token" and "expired token" are
refused where they would be in AWS, and everything else reaches the one authorization policy
(``helpdesk.domain.policy``) and the customers' ownership rules:

- customers see only their own things; someone else's is 404, never 403 (nothing tells them it exists);
- agents read and work their teams' conversations and tickets (403 for other teams'), hand them to
  another team, and open tickets for any team; leads also decide approvals; admins do everything;
- with ``agent_visibility: all`` every agent may *read* everything, and writes stay team-scoped;
- each API refuses the other kind of token (401).

The read routes run under both visibility settings; the writes under ``team`` (the default), plus a
check that ``all`` opens no write.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from helpdesk.auth.customer_tokens import issue_visitor_token, sign_customer_token
from helpdesk.auth.link_tokens import LinkPurpose, issue_link
from localrt.gateway import LocalGateway
from localrt.identities import sign_agent_token
from localrt.settings import Settings

from tests.conftest import MESSENGER_SECRET
from tests.support.events import FakeLambdaContext, Reply
from tests.support.mail import EMAIL_KEYS
from tests.support.workspaces import workspace_with

AGENT_SECRET = "matrix-agent-secret-for-tests-only"
JPEG_PHOTO = b"\xff\xd8\xff\xe0" + b"box-photo" * 10
OWNING_TEAM, OTHER_TEAM = "frontline", "returns"
CALLERS = (
    "owner",
    "other_customer",
    "visitor",
    "owning_team_agent",
    "other_team_agent",
    "owning_team_lead",
    "other_team_lead",
    "admin",
    "no_token",
    "expired_token",
)
AGENT_CALLERS = CALLERS[3:8]
VISIBILITIES = ("team", "all")

# Expected status per caller, in CALLERS order. "Allowed" answers are what the caller gets when they
# pass every check; a business refusal after the checks (409, 422) is noted where it applies.
_ = None
_CUSTOMER_READ = (200, 404, 404, 401, 401, 401, 401, 401, 401, 401)
_CUSTOMER_WRITE = (201, 404, 404, 401, 401, 401, 401, 401, 401, 401)
_ANY_CUSTOMER_READ = (200, 200, 200, 401, 401, 401, 401, 401, 401, 401)
_ANY_CUSTOMER_CREATE = (201, 201, 201, 401, 401, 401, 401, 401, 401, 401)
_PUBLIC = (200, 200, 200, 200, 200, 200, 200, 200, 200, 200)
_ANY_AGENT_READ = (401, 401, 401, 200, 200, 200, 200, 200, 401, 401)
_ANY_AGENT_CREATE = (401, 401, 401, 201, 201, 201, 201, 201, 401, 401)
_TEAM_READ = (401, 401, 401, 200, 403, 200, 403, 200, 401, 401)
_TEAM_WRITE = (401, 401, 401, 200, 403, 200, 403, 200, 401, 401)
_TEAM_CREATE = (401, 401, 401, 201, 403, 201, 403, 201, 401, 401)
_LEADS_READ = (401, 401, 401, 403, 403, 200, 200, 200, 401, 401)
_ADMINS_ACCEPT = (401, 401, 401, 403, 403, 403, 403, 202, 401, 401)
_ADMINS_READ = (401, 401, 401, 403, 403, 403, 403, 200, 401, 401)

EXPECTED: dict[str, tuple[int, ...]] = {
    # --- the messenger: customers and visitors -----------------------------------------------------
    "GET /messenger/openapi.json": _PUBLIC,
    "GET /messenger/docs": _PUBLIC,
    "POST /messenger/visitors": (201, 201, 201, 201, 201, 201, 201, 201, 201, 201),
    # Merging needs an identified customer: a visitor merging into a visitor is refused (422).
    "POST /messenger/identify": (200, 200, 422, 401, 401, 401, 401, 401, 401, 401),
    "POST /messenger/conversations": _ANY_CUSTOMER_CREATE,
    "GET /messenger/conversations": _ANY_CUSTOMER_READ,
    "GET /messenger/conversations/<conversation_id>": _CUSTOMER_READ,
    "POST /messenger/conversations/<conversation_id>/messages": _CUSTOMER_WRITE,
    "POST /messenger/conversations/<conversation_id>/close": (200, 404, 404, 401, 401, 401, 401, 401, 401, 401),
    # A visitor can't be vouched for at all: 422 whichever conversation they name (it reveals nothing).
    "POST /messenger/conversations/<conversation_id>/verify": (201, 404, 422, 401, 401, 401, 401, 401, 401, 401),
    "POST /messenger/attachments": _ANY_CUSTOMER_CREATE,
    "GET /messenger/attachments/<attachment_id>": _CUSTOMER_READ,
    "GET /messenger/tickets": _ANY_CUSTOMER_READ,
    "GET /messenger/tickets/<ticket_id>": _CUSTOMER_READ,
    "POST /messenger/tickets/<ticket_id>/replies": _CUSTOMER_WRITE,
    "POST /messenger/tickets/<ticket_id>/rating": _CUSTOMER_WRITE,
    "GET /messenger/preferences": _ANY_CUSTOMER_READ,
    # The home and what each customer hasn't read: their own, whoever asks.
    "GET /messenger/home": _ANY_CUSTOMER_READ,
    "GET /messenger/unread": _ANY_CUSTOMER_READ,
    "GET /messenger/articles/<article_id>": _ANY_CUSTOMER_READ,
    "POST /messenger/conversations/<conversation_id>/read": (200, 404, 404, 401, 401, 401, 401, 401, 401, 401),
    "POST /messenger/tickets/<ticket_id>/read": (200, 404, 404, 401, 401, 401, 401, 401, 401, 401),
    # Visitors hear only in the messenger: choosing email or SMS needs an identified customer (422).
    "PUT /messenger/preferences": (200, 200, 422, 401, 401, 401, 401, 401, 401, 401),
    # A link from an email is its own credential (signed, single-use, for one ticket of one customer):
    # whoever presents it gets that customer's email session, whatever token they send along.
    "POST /messenger/links": (201, 201, 201, 201, 201, 201, 201, 201, 201, 201),
    "POST /messenger/links/renewals": (202, 202, 202, 202, 202, 202, 202, 202, 202, 202),
    # --- the inbox: agents by team and role --------------------------------------------------------
    "GET /inbox/openapi.json": _PUBLIC,
    "GET /inbox/docs": _PUBLIC,
    "GET /inbox/me": _ANY_AGENT_READ,
    "PUT /inbox/me/availability": _ANY_AGENT_READ,
    "GET /inbox/teams": _ANY_AGENT_READ,
    "GET /inbox/teams/<team_id>/agents": _ANY_AGENT_READ,
    "GET /inbox/ticket-types": _ANY_AGENT_READ,
    "GET /inbox/conversations": _TEAM_READ,
    "GET /inbox/conversations/<conversation_id>": _TEAM_READ,
    # How the conversation is emailed (address, suppression): read by whoever may read the conversation.
    "GET /inbox/conversations/<conversation_id>/email": _TEAM_READ,
    "POST /inbox/conversations/<conversation_id>/replies": _TEAM_CREATE,
    "POST /inbox/conversations/<conversation_id>/assignment": _TEAM_WRITE,
    "POST /inbox/conversations/<conversation_id>/status": _TEAM_WRITE,
    "POST /inbox/conversations/<conversation_id>/verification-request": _TEAM_CREATE,
    "POST /inbox/conversations/<conversation_id>/ticket": _TEAM_CREATE,
    # A ticket drafted from the conversation (title, pre-filled attributes): read by whoever may read it.
    "GET /inbox/conversations/<conversation_id>/ticket-draft": _TEAM_READ,
    "GET /inbox/attachments/<attachment_id>": _TEAM_READ,
    "POST /inbox/attachments": _TEAM_CREATE,
    "POST /inbox/tickets": _ANY_AGENT_CREATE,
    "GET /inbox/tickets": _TEAM_READ,
    "GET /inbox/tickets/<ticket_id>": _TEAM_READ,
    # The transcript of the conversation the ticket came from: whoever may read the ticket (not the conversation).
    "GET /inbox/tickets/<ticket_id>/transcript": _TEAM_READ,
    "PATCH /inbox/tickets/<ticket_id>": _TEAM_WRITE,
    "POST /inbox/tickets/<ticket_id>/replies": _TEAM_CREATE,
    # Only leads (of the ticket's team) and admins decide; nothing awaits a decision, so they get 409.
    "POST /inbox/tickets/<ticket_id>/approval": (401, 401, 401, 403, 403, 409, 403, 409, 401, 401),
    "POST /inbox/tickets/<ticket_id>/links": _TEAM_WRITE,
    # Any agent may search; what each one finds is only what they may read (see FINDS below).
    "GET /inbox/search": _ANY_AGENT_READ,
    # A customer's profile: agents of a team Alice has work in (every agent reads it under "all"); her profile
    # actions (recent orders) run as her for those agents only, whatever the visibility.
    "GET /inbox/customers/<customer_id>": _TEAM_READ,
    "POST /inbox/customers/<customer_id>/actions/<action_id>": _TEAM_WRITE,
    # --- tags and macros: tags are work on the conversation; an agent's own macro is theirs alone -----
    "GET /inbox/tags": _ANY_AGENT_READ,
    "POST /inbox/conversations/<conversation_id>/tags": _TEAM_WRITE,
    "GET /inbox/macros": _ANY_AGENT_READ,
    "POST /inbox/macros": _ANY_AGENT_CREATE,
    # The owning-team agent's own macro: only they (and admins) delete it; nobody else, lead or not.
    "DELETE /inbox/macros/<macro_id>": (401, 401, 401, 204, 403, 403, 403, 204, 401, 401),
    # A workspace macro (it replies and resolves): applied by whoever works on the ticket.
    "POST /inbox/tickets/<ticket_id>/macros/<macro_id>/apply": _TEAM_WRITE,
    "POST /inbox/conversations/<conversation_id>/macros/<macro_id>/apply": _TEAM_WRITE,
    # A customer's data export and erasure: admins only, whatever the visibility (an agent of her team too).
    "POST /inbox/customers/<customer_id>/export": _ADMINS_ACCEPT,
    "GET /inbox/customers/<customer_id>/exports/<export_id>": _ADMINS_READ,
    "POST /inbox/customers/<customer_id>/erasure": _ADMINS_ACCEPT,
    "GET /inbox/customers/<customer_id>/erasures/<erasure_id>": _ADMINS_READ,
    # --- the reports: leads and admins, of any team; never agents, whatever the visibility ----------
    "GET /inbox/reports/openapi.json": _PUBLIC,
    "GET /inbox/reports/docs": _PUBLIC,
    "GET /inbox/reports/<section>": _LEADS_READ,
    "GET /inbox/reports/<section>/items": _LEADS_READ,
}


def expected(route: str, caller: str, visibility: str) -> int:
    status = EXPECTED[route][CALLERS.index(caller)]
    reads_everything = (
        visibility == "all"
        and route.startswith("GET /inbox/")
        and not route.startswith("GET /inbox/reports/")  # a report is no agent's read, whatever the setting
        and "/exports/" not in route  # nor a customer's export or erasure
        and "/erasures/" not in route
        and caller in AGENT_CALLERS
    )
    return 200 if reads_everything and status == 403 else status


def all_routes() -> list[str]:
    """``METHOD /path`` for every route of the APIs (the messenger's, the inbox's, the reports')."""
    from helpdesk.api import inbox as inbox_api
    from helpdesk.api import messenger as messenger_api
    from helpdesk.api import reports as reports_api

    routes = [
        *messenger_api.app._static_routes,
        *messenger_api.app._dynamic_routes,
        *inbox_api.app._static_routes,
        *inbox_api.app._dynamic_routes,
        *reports_api.app._static_routes,
        *reports_api.app._dynamic_routes,
    ]
    return sorted({f"{route.method} {route.path}" for route in routes})


@dataclass
class World:
    """Alice's conversation (with a shared photo) and her ticket on the owning team, a tracker there, a
    fresh conversation, and a ticket of the other team."""

    gateway: LocalGateway
    conversation_id: str
    fresh_conversation_id: str
    ticket_id: str
    ticket_version: int
    tracker_id: str
    other_team_ticket_id: str
    attachment_id: str
    tokens: dict[str, str | None]
    macro_id: str = ""
    """The owning-team agent's own macro (made before a route that needs it)."""
    export_id: str = "none"
    erasure_id: str = "none"

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> Reply:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else b""
        status, response_headers, raw = self.gateway.respond(method, path, headers, payload)
        text = raw.decode()
        is_json = "json" in response_headers.get("Content-Type", "")
        return Reply(status=status, body=json.loads(text) if is_json and text else text, headers=response_headers)

    def ok(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        reply = self.call(method, path, token, body)
        assert reply.status in (200, 201), (method, path, reply.status, reply.body)
        return reply.body


def _tokens() -> dict[str, str | None]:
    return {
        "owner": sign_customer_token(MESSENGER_SECRET, "alice", email="alice@example.com", name="Alice"),
        "other_customer": sign_customer_token(MESSENGER_SECRET, "bob", name="Bob"),
        "visitor": issue_visitor_token(MESSENGER_SECRET, "matrix-visitor"),
        "owning_team_agent": sign_agent_token(AGENT_SECRET, "agent-frank", [OWNING_TEAM]),
        "other_team_agent": sign_agent_token(AGENT_SECRET, "agent-rita", [OTHER_TEAM]),
        "owning_team_lead": sign_agent_token(AGENT_SECRET, "agent-lena", ["leads", OWNING_TEAM]),
        "other_team_lead": sign_agent_token(AGENT_SECRET, "agent-otto", ["leads", OTHER_TEAM]),
        "admin": sign_agent_token(AGENT_SECRET, "agent-ada", ["admins"]),
        "no_token": None,
    }


def _expired(surface: str) -> str:
    """The owner's customer token on the messenger, an owning-team agent's token on the inbox: both past."""
    if surface == "messenger":
        return sign_customer_token(MESSENGER_SECRET, "alice", ttl_seconds=-60)
    return sign_agent_token(AGENT_SECRET, "agent-frank", [OWNING_TEAM], ttl=-60)


@pytest.fixture(params=VISIBILITIES)
def visibility(request: pytest.FixtureRequest) -> Iterator[str]:
    """The workspace's ``agent_visibility``, for the functions the gateway runs."""
    from helpdesk import wiring

    before = os.environ["WORKSPACE_DIR"]
    os.environ["WORKSPACE_DIR"] = str(workspace_with(agent_visibility=request.param))
    wiring.reset()
    yield str(request.param)
    os.environ["WORKSPACE_DIR"] = before
    wiring.reset()


def build_world(tmp_path: Path) -> World:
    """Built through the APIs, as the owner and the owning team's agent would."""
    settings = Settings(
        port=0,
        moto_port=0,
        table_name="unused",
        workspace_dir=tmp_path,
        messenger_secret=MESSENGER_SECRET,
        agent_secret=AGENT_SECRET,
    )
    tokens = _tokens()
    world = World(LocalGateway(settings, {}), "", "", "", 0, "", "", "", tokens)
    owner, agent, other = tokens["owner"], tokens["owning_team_agent"], tokens["other_team_agent"]

    upload = world.ok(
        "POST",
        "/messenger/attachments",
        owner,
        {"filename": "box.jpg", "content_type": "image/jpeg", "size": len(JPEG_PHOTO)},
    )
    form = upload["upload"]
    assert requests.post(form["url"], data=form["fields"], files={"file": ("box.jpg", JPEG_PHOTO)}, timeout=10).ok
    conversation = world.ok("POST", "/messenger/conversations", owner, {"body": "My parcel arrived damaged"})
    world.ok(
        "POST",
        f"/messenger/conversations/{conversation['id']}/messages",
        owner,
        {"body": "Here is the box", "attachment_ids": [upload["attachment_id"]]},
    )
    fresh = world.ok("POST", "/messenger/conversations", owner, {"body": "Another question"})
    ticket = world.ok(
        "POST",
        f"/inbox/conversations/{conversation['id']}/ticket",
        agent,
        {
            "ticket_type_id": "damaged-item",
            "team_id": OWNING_TEAM,
            "attributes": {"order_id": "ORD-1001", "description": "crushed box"},
        },
    )
    tracker = world.ok("POST", "/inbox/tickets", agent, _tracker_body(OWNING_TEAM))
    elsewhere = world.ok(
        "POST",
        "/inbox/tickets",
        other,
        {
            "ticket_type_id": "damaged-item",
            "team_id": OTHER_TEAM,
            "customer_id": "bob",
            "attributes": {"order_id": "ORD-1002", "description": "dented"},
        },
    )
    assert ticket["team_id"] == tracker["team_id"] == OWNING_TEAM != elsewhere["team_id"]
    world.conversation_id, world.fresh_conversation_id = conversation["id"], fresh["id"]
    world.ticket_id, world.ticket_version, world.tracker_id = ticket["id"], ticket["version"], tracker["id"]
    world.other_team_ticket_id, world.attachment_id = elsewhere["id"], upload["attachment_id"]
    return world


def _tracker_body(team: str) -> dict[str, Any]:
    return {
        "ticket_type_id": "delivery-problem",
        "category": "tracker",
        "team_id": team,
        "title": "Carrier outage",
        "attributes": {"order_id": "many", "problem": "late"},
    }


@pytest.fixture
def world(
    messenger: Any, inbox: Any, email_channel: None, privacy_tasks: str, visibility: str, tmp_path: Path
) -> World:
    return build_world(tmp_path)


def _email_link(world: World) -> dict[str, Any]:
    """The link of a status email Alice got about her ticket (its own, signed credential)."""
    token = issue_link(
        EMAIL_KEYS, customer_id="alice", purpose=LinkPurpose.TICKET, subject_id=world.ticket_id, ttl_seconds=600
    )
    return {"ticket_id": world.ticket_id, "link": token}


def _resolve_ticket(world: World) -> None:
    """Ratings come after resolution: the owning team resolves Alice's ticket first."""
    body = {"version": world.ticket_version, "state_id": "replaced"}
    world.ok("PATCH", f"/inbox/tickets/{world.ticket_id}", world.tokens["owning_team_agent"], body)


BODIES: dict[str, Callable[[World], Any]] = {
    "POST /messenger/links": _email_link,
    "POST /messenger/links/renewals": _email_link,
    "POST /messenger/identify": lambda w: {"visitor_token": issue_visitor_token(MESSENGER_SECRET, "someone-new")},
    "POST /messenger/conversations": lambda w: {"body": "Hello"},
    "POST /messenger/conversations/<conversation_id>/messages": lambda w: {"body": "Any news?"},
    "POST /messenger/attachments": lambda w: {"filename": "a.pdf", "content_type": "application/pdf", "size": 9},
    "POST /messenger/tickets/<ticket_id>/replies": lambda w: {"body": "Any news?"},
    "POST /messenger/tickets/<ticket_id>/rating": lambda w: {"score": 5, "comment": "quick"},
    "PUT /messenger/preferences": lambda w: {"messenger": True, "email": False, "sms": False},
    "PUT /inbox/me/availability": lambda w: {"availability": "online"},
    "POST /inbox/conversations/<conversation_id>/replies": lambda w: {"body": "Looking into it"},
    "POST /inbox/conversations/<conversation_id>/assignment": lambda w: {"team_id": OTHER_TEAM},
    "POST /inbox/conversations/<conversation_id>/status": lambda w: {"status": "closed"},
    "POST /inbox/conversations/<conversation_id>/ticket": lambda w: {
        "ticket_type_id": "damaged-item",
        "attributes": {"order_id": "ORD-1002", "description": "dented"},
    },
    "POST /inbox/attachments": lambda w: {
        "ticket_id": w.ticket_id,
        "filename": "label.pdf",
        "content_type": "application/pdf",
        "size": 9,
    },
    "POST /inbox/tickets": lambda w: {
        "ticket_type_id": "damaged-item",
        "team_id": OWNING_TEAM,
        "customer_id": "alice",
        "attributes": {"order_id": "ORD-1003", "description": "scratched"},
    },
    "PATCH /inbox/tickets/<ticket_id>": lambda w: {"version": w.ticket_version, "priority": "high"},
    "POST /inbox/tickets/<ticket_id>/replies": lambda w: {"body": "A replacement is on its way"},
    "POST /inbox/tickets/<ticket_id>/approval": lambda w: {"decision": "approve"},
    "POST /inbox/tickets/<ticket_id>/links": lambda w: {"ticket_ids": [w.ticket_id]},
    "POST /inbox/customers/<customer_id>/actions/<action_id>": lambda w: {"inputs": {}},
    "POST /inbox/conversations/<conversation_id>/tags": lambda w: {"add_tags": ["vip"]},
    "POST /inbox/macros": lambda w: {"name": "Thanks", "body": "Thanks {customer.first_name|there}!"},
    "POST /inbox/tickets/<ticket_id>/macros/<macro_id>/apply": lambda w: {},
    "POST /inbox/conversations/<conversation_id>/macros/<macro_id>/apply": lambda w: {},
}


def _own_macro(world: World) -> None:
    """The owning team's agent saves a macro of their own."""
    body = {"name": "Photos received", "body": "Thanks {customer.first_name|there}!"}
    world.macro_id = world.ok("POST", "/inbox/macros", world.tokens["owning_team_agent"], body)["id"]


def _export(world: World) -> None:
    """An admin asked for Alice's data (the request each caller then asks about)."""
    world.export_id = world.call("POST", "/inbox/customers/alice/export", world.tokens["admin"]).body["id"]


def _erasure(world: World) -> None:
    world.erasure_id = world.call("POST", "/inbox/customers/alice/erasure", world.tokens["admin"]).body["id"]


PREPARE: dict[str, Callable[[World], None]] = {
    "POST /messenger/tickets/<ticket_id>/rating": _resolve_ticket,
    "DELETE /inbox/macros/<macro_id>": _own_macro,
    "GET /inbox/customers/<customer_id>/exports/<export_id>": _export,
    "GET /inbox/customers/<customer_id>/erasures/<erasure_id>": _erasure,
}
QUERIES = {
    "GET /inbox/conversations": "?team_id=" + OWNING_TEAM,
    "GET /inbox/tickets": "?team_id=" + OWNING_TEAM,
    "GET /inbox/search": "?q=ord-1001",
    "GET /inbox/conversations/<conversation_id>/ticket-draft": "?ticket_type_id=damaged-item",
}


def _path(route: str, world: World) -> str:
    path = route.split(" ", 1)[1]
    conversation = world.fresh_conversation_id if route.endswith("/ticket") else world.conversation_id
    ticket = world.tracker_id if route.endswith("/links") else world.ticket_id
    filled = (
        path.replace("<conversation_id>", conversation)
        .replace("<ticket_id>", ticket)
        .replace("<attachment_id>", world.attachment_id)
        .replace("<team_id>", OWNING_TEAM)
        .replace("<section>", "volumes")
        .replace("<article_id>", "return-policy")
        .replace("<customer_id>", "alice")
        .replace("<action_id>", "recent-orders")
        .replace("<macro_id>", world.macro_id or "thanks-and-close")
        .replace("<export_id>", world.export_id)
        .replace("<erasure_id>", world.erasure_id)
    )
    return filled + QUERIES.get(route, "")


def _groups(route: str, visibility: str, callers: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Callers that can share one world: all of them on a read; on a write, every caller it refuses
    (a refusal changes nothing), and each caller it lets through on a world of their own."""
    if route.startswith("GET "):
        return [callers]
    refused = tuple(c for c in callers if expected(route, c, visibility) >= 400)
    return ([refused] if refused else []) + [(c,) for c in callers if c not in refused]


def cases() -> list[Any]:
    """Every route with every caller; reads under both visibility settings, writes under ``team``."""
    generated = []
    for route in all_routes():
        for visibility in VISIBILITIES:
            if visibility == "all" and not route.startswith("GET /inbox/"):
                continue  # nothing else depends on it (writes under "all": see the test below)
            callers = CALLERS if visibility == "team" else AGENT_CALLERS
            for group in _groups(route, visibility, callers):
                name = "all callers" if group == callers else "+".join(group)
                generated.append(pytest.param(route, group, visibility, id=f"{route}-{name}-{visibility}"))
    return generated


@pytest.mark.parametrize(("route", "callers", "visibility"), cases(), indirect=["visibility"])
def test_every_caller_gets_the_right_answer_on_every_route(
    route: str, callers: tuple[str, ...], visibility: str, world: World
) -> None:
    # Given Alice's things, and a route someone has decided the rules for
    assert route in EXPECTED, f"nobody wrote down who may call {route}: add it to EXPECTED"
    if route in PREPARE:
        PREPARE[route](world)
    method, surface = route.split(" ", 1)[0], route.split("/")[1]
    wrong = []
    for caller in callers:
        status = expected(route, caller, visibility)
        token = _expired(surface) if caller == "expired_token" else world.tokens[caller]
        body = BODIES[route](world) if route in BODIES else None

        # When this caller calls it
        reply = world.call(method, _path(route, world), token, body)

        # Then the answer is the one the rules give, and a refusal says nothing about Alice's things
        if reply.status != status:
            wrong.append(f"{caller} on {route} ({visibility}): {reply.status}, not {status}: {reply.body}")
        elif status in (401, 403, 404):
            leaked = [word for word in ("Alice", "alice@", "damaged", "crushed") if word in json.dumps(reply.body)]
            if leaked:
                wrong.append(f"{caller} on {route} ({visibility}) was told {leaked}: {reply.body}")
    assert not wrong, "\n".join(wrong)


FINDS = {
    "owning_team_agent": {"ORD-1001"},
    "other_team_agent": {"ORD-1002"},
    "owning_team_lead": {"ORD-1001"},
    "other_team_lead": {"ORD-1002"},
    "admin": {"ORD-1001", "ORD-1002"},
}


def test_a_search_finds_exactly_the_tickets_and_customers_the_caller_may_read(visibility: str, world: World) -> None:
    # Given Alice's ticket (ORD-1001) on the owning team and Bob's (ORD-1002) on the other
    found = {}
    for caller in AGENT_CALLERS:
        # When each agent searches for the order ids' common start, and for Alice
        tickets = world.ok("GET", "/inbox/search?q=ord-100", world.tokens[caller])["tickets"]
        alice = world.ok("GET", "/inbox/search?q=alice", world.tokens[caller])
        found[caller] = (
            {t["attributes"]["order_id"] for t in tickets},
            [c["id"] for c in alice["customers"]],
            len(alice["conversations"]),
        )
    # Then they find the tickets they may read, and Alice (and her two conversations) only if they may
    # read her conversations
    wanted = {}
    for caller in AGENT_CALLERS:
        may_read_alice = visibility == "all" or "ORD-1001" in FINDS[caller]
        orders = {"ORD-1001", "ORD-1002"} if visibility == "all" else FINDS[caller]
        wanted[caller] = (orders, ["alice"] if may_read_alice else [], 2 if may_read_alice else 0)
    assert found == wanted


WRITES = sorted(r for r in EXPECTED if r.startswith(("POST /inbox/", "PATCH /inbox/", "PUT /inbox/", "DELETE /inbox/")))


@pytest.mark.parametrize("visibility", ["all"], indirect=True)
def test_reading_everything_opens_no_write_to_another_team(visibility: str, world: World) -> None:
    # Given a workspace where every agent may read everything
    for route in WRITES:
        if EXPECTED[route][CALLERS.index("other_team_agent")] != 403:
            continue
        # When an agent of another team tries each write on the owning team's things
        body = BODIES[route](world) if route in BODIES else None
        reply = world.call(route.split(" ", 1)[0], _path(route, world), world.tokens["other_team_agent"], body)
        # Then each is refused, as it would be under team visibility
        assert reply.status == 403, f"{route}: {reply.status} {reply.body}"


@pytest.mark.parametrize("visibility", ["team"], indirect=True)
@pytest.mark.parametrize("caller", ["owning_team_agent", "owning_team_lead", "other_team_agent"])
def test_a_tracker_links_only_tickets_its_agent_may_work_on(caller: str, visibility: str, world: World) -> None:
    # Given a tracker of the caller's own team, and a customer ticket of another team
    token = world.tokens[caller]
    own_team = OTHER_TEAM if caller == "other_team_agent" else OWNING_TEAM
    tracker = world.ok("POST", "/inbox/tickets", token, _tracker_body(own_team))
    foreign = world.other_team_ticket_id if own_team == OWNING_TEAM else world.ticket_id

    # When they link the other team's ticket to it
    reply = world.call("POST", f"/inbox/tickets/{tracker['id']}/links", token, {"ticket_ids": [foreign]})

    # Then it is refused, and the ticket follows no tracker
    assert reply.status == 403, reply.body
    admin_view = world.ok("GET", f"/inbox/tickets/{foreign}", world.tokens["admin"])
    assert admin_view.get("tracker_id") is None


@pytest.mark.parametrize("visibility", ["team"], indirect=True)
def test_an_admin_links_any_team_s_ticket_to_any_tracker(visibility: str, world: World) -> None:
    admin = world.tokens["admin"]
    tracker = world.ok("POST", "/inbox/tickets", admin, _tracker_body(OTHER_TEAM))

    linked = world.ok("POST", f"/inbox/tickets/{tracker['id']}/links", admin, {"ticket_ids": [world.ticket_id]})

    assert linked == {"linked": 1}


def test_the_expectation_table_names_only_routes_that_exist() -> None:
    stale = set(EXPECTED) - set(all_routes())
    assert not stale, f"EXPECTED lists routes the APIs no longer have: {sorted(stale)}"


# --- the live channel: who may connect, watch and type -------------------------------------------------
#
# Through the local gateway's pieces: its $connect authorizer (the real live authorizer for customers,
# the stand-in for Cognito for agents), then the live channel's function with the authorizer's context.
# "refused" means the connection itself was refused; otherwise the answer to the request over it.

_LIVE_WATCH = ("ok", "not_found", "not_found", "ok", "forbidden", "ok", "forbidden", "ok", "refused", "refused")
LIVE_EXPECTED: dict[str, tuple[str, ...]] = {
    "$connect": ("ok",) * 8 + ("refused", "refused"),
    "watch conversation": _LIVE_WATCH,
    "watch ticket": _LIVE_WATCH,
    # Typing is about to write: the rule for working on the conversation, whatever agents may read.
    "typing": _LIVE_WATCH,
}
LIVE_READS = ("watch conversation", "watch ticket")


def live_expected(route: str, caller: str, visibility: str) -> str:
    outcome = LIVE_EXPECTED[route][CALLERS.index(caller)]
    reads_everything = visibility == "all" and route in LIVE_READS and caller in AGENT_CALLERS
    return "ok" if reads_everything and outcome == "forbidden" else outcome


def live_call(world: World, caller: str, route: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from helpdesk import wiring
    from helpdesk.surfaces import LIVE
    from localrt.live import authorize_connect

    from tests.services.test_live import Screens

    screens = Screens()
    monkeypatch.setattr(wiring, "live_connections", lambda: screens)
    token = (
        _expired("messenger" if caller in CALLERS[:3] else "inbox")
        if caller == "expired_token"
        else world.tokens[caller]
    )
    headers = {"Sec-WebSocket-Protocol": f"helpdesk-live, {token}" if token else "helpdesk-live"}
    context = authorize_connect(world.gateway.handler, LIVE.authorizer, AGENT_SECRET, headers, {})
    if isinstance(context, str):
        return "refused"
    function = world.gateway.handler(LIVE.handler)
    request = {"connectionId": f"conn-{caller}", "stage": "local", "domainName": "127.0.0.1", "authorizer": context}
    context_of = FakeLambdaContext()
    connected = function({"headers": headers, "requestContext": request | {"routeKey": "$connect"}}, context_of)
    assert connected["statusCode"] == 200, connected
    if route == "$connect":
        return "ok"
    action, _, what = route.partition(" ")
    body: dict[str, Any] = {"action": action}
    if action == "typing" or what == "conversation":
        body["conversation_id"] = world.conversation_id
    else:
        body["ticket_id"] = world.ticket_id
    function({"body": json.dumps(body), "requestContext": request | {"routeKey": action}}, context_of)
    errors = screens.of(f"conn-{caller}", "error")
    return str(errors[0]["data"]["error"]) if errors else "ok"


def live_cases() -> list[Any]:
    """Every live route with every caller under ``team``; the reads also under ``all`` for the agents
    of the other team (the only ones it changes). Following and typing change nothing another caller
    sees, so one world serves all the callers of a case."""
    generated = []
    for route in LIVE_EXPECTED:
        generated.append(pytest.param(route, CALLERS, "team", id=f"live {route}-team"))
        if route in LIVE_READS:
            others = ("other_team_agent", "other_team_lead")
            generated.append(pytest.param(route, others, "all", id=f"live {route}-all"))
    return generated


@pytest.mark.parametrize(("route", "callers", "visibility"), live_cases(), indirect=["visibility"])
def test_every_caller_gets_the_right_answer_on_the_live_channel(
    route: str, callers: tuple[str, ...], visibility: str, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Alice's conversation and ticket on the owning team
    # When each caller connects and asks to follow (or type in) them
    outcomes = {caller: live_call(world, caller, route, monkeypatch) for caller in callers}

    # Then the answer is the rules', as over the API: someone else's is not found to a customer,
    # another team's is forbidden to an agent, and no token gets no connection at all
    assert outcomes == {caller: live_expected(route, caller, visibility) for caller in callers}


PAGES_WITH_FILES = ("GET /inbox/conversations/<conversation_id>", "GET /inbox/attachments/<attachment_id>")


@pytest.mark.parametrize("visibility", VISIBILITIES, indirect=True)
def test_links_to_a_shared_file_reach_exactly_the_agents_who_may_read_where_it_was_shared(
    visibility: str, world: World
) -> None:
    # Given Alice's photo, shared in her conversation with the owning team
    answers, wanted = {}, {}
    for route in PAGES_WITH_FILES:
        for caller in AGENT_CALLERS:
            may_read = expected(route, caller, visibility) == 200
            wanted[route, caller] = (200, 1, False) if may_read else (403, 0, False)

            # When an agent asks for the conversation (its files come with links) or for the file itself
            reply = world.call("GET", _path(route, world), world.tokens[caller])

            body = reply.body if isinstance(reply.body, dict) else {}
            files = [a for m in body.get("messages", []) for a in m["attachments"]] if "messages" in body else [body]
            links = [f.get("url") for f in files if f.get("id") == world.attachment_id and f.get("url")]
            signed_refusal = not may_read and "X-Amz-Signature" in json.dumps(reply.body)
            answers[route, caller] = (reply.status, len(links), signed_refusal)

    # Then whoever may read the conversation gets a signed link to the photo, and nobody else any
    assert answers == wanted
