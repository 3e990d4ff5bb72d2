"""Who may call what: every route that takes an id, called by every kind of caller, gets the right answer.

The cases are generated from the routes the two resolvers register, so a new route with an id fails
here until someone writes down who may call it. Requests go through the local API Gateway in-process
(``LocalGateway.respond``): the real messenger authorizer checks customer tokens, the local stand-in
for Cognito checks agent tokens, and the handlers run on moto. So "no token" and "expired token" are
refused where they would be in AWS, and everything else reaches the services' own rules:

- customers see only their own things; someone else's is 404, never 403 (nothing tells them it exists);
- any agent may read anything and work any conversation; only agents of the ticket's team (or admins)
  change a ticket, reply on it, decide on it or link to it (403 for the others);
- each API refuses the other kind of token (401).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from helpdesk.auth.customer_tokens import issue_visitor_token, sign_customer_token
from localrt.gateway import LocalGateway
from localrt.identities import sign_agent_token
from localrt.settings import Settings

from tests.conftest import MESSENGER_SECRET
from tests.support.events import Reply

AGENT_SECRET = "matrix-agent-secret-for-tests-only"
OWNING_TEAM, OTHER_TEAM = "frontline", "returns"
CALLERS = (
    "owner",
    "other_customer",
    "visitor",
    "owning_team_agent",
    "other_team_agent",
    "admin",
    "no_token",
    "expired_token",
)

# Expected status per caller, in CALLERS order. "Allowed" answers are what the owner's request gets when
# the caller passes every check; a business refusal after the checks (409) is noted where it applies.
_CUSTOMER_READ = (200, 404, 404, 401, 401, 401, 401, 401)
_CUSTOMER_WRITE = (201, 404, 404, 401, 401, 401, 401, 401)
_AGENT_READ = (401, 401, 401, 200, 200, 200, 401, 401)
_AGENT_WRITE_ANY_TEAM = (401, 401, 401, 200, 200, 200, 401, 401)
_AGENT_CREATE_ANY_TEAM = (401, 401, 401, 201, 201, 201, 401, 401)
_TICKET_TEAM_WRITE = (401, 401, 401, 200, 403, 200, 401, 401)
EXPECTED: dict[str, tuple[int, ...]] = {
    "GET /messenger/conversations/<conversation_id>": _CUSTOMER_READ,
    "POST /messenger/conversations/<conversation_id>/messages": _CUSTOMER_WRITE,
    "POST /messenger/conversations/<conversation_id>/close": (200, 404, 404, 401, 401, 401, 401, 401),
    # A visitor can't be vouched for at all: 422 whichever conversation they name (it reveals nothing).
    "POST /messenger/conversations/<conversation_id>/verify": (201, 404, 422, 401, 401, 401, 401, 401),
    "GET /messenger/attachments/<attachment_id>": _CUSTOMER_READ,
    "GET /messenger/tickets/<ticket_id>": _CUSTOMER_READ,
    "POST /messenger/tickets/<ticket_id>/replies": _CUSTOMER_WRITE,
    "POST /messenger/tickets/<ticket_id>/rating": _CUSTOMER_WRITE,
    "GET /inbox/teams/<team_id>/agents": _AGENT_READ,
    "GET /inbox/conversations/<conversation_id>": _AGENT_READ,
    "POST /inbox/conversations/<conversation_id>/replies": _AGENT_CREATE_ANY_TEAM,
    "POST /inbox/conversations/<conversation_id>/assignment": _AGENT_WRITE_ANY_TEAM,
    "POST /inbox/conversations/<conversation_id>/status": _AGENT_WRITE_ANY_TEAM,
    "POST /inbox/conversations/<conversation_id>/verification-request": _AGENT_CREATE_ANY_TEAM,
    "POST /inbox/conversations/<conversation_id>/ticket": _AGENT_CREATE_ANY_TEAM,
    "GET /inbox/attachments/<attachment_id>": _AGENT_READ,
    "GET /inbox/tickets/<ticket_id>": _AGENT_READ,
    "PATCH /inbox/tickets/<ticket_id>": _TICKET_TEAM_WRITE,
    "POST /inbox/tickets/<ticket_id>/replies": (401, 401, 401, 201, 403, 201, 401, 401),
    # Nothing awaits approval on the ticket: the team's agents and admins pass the check and get 409.
    "POST /inbox/tickets/<ticket_id>/approval": (401, 401, 401, 409, 403, 409, 401, 401),
    "POST /inbox/tickets/<ticket_id>/links": _TICKET_TEAM_WRITE,
    # Reports: leads and admins only (until the policy names leads: admins); a team's agent gets 403.
    "GET /inbox/reports/<section>": (401, 401, 401, 403, 403, 200, 401, 401),
    "GET /inbox/reports/<section>/items": (401, 401, 401, 403, 403, 200, 401, 401),
}


def id_routes() -> list[str]:
    """``METHOD /path/<param>`` for every route of both APIs whose path takes a parameter."""
    from helpdesk.handlers import inbox_api, messenger_api, reports_api

    routes = [*messenger_api.app._dynamic_routes, *inbox_api.app._dynamic_routes, *reports_api.app._dynamic_routes]
    return sorted({f"{route.method} {route.path}" for route in routes if "<" in route.path})


@dataclass
class World:
    """Alice's conversation (with a shared photo), her ticket on the owning team, a tracker, a fresh conversation."""

    gateway: LocalGateway
    conversation_id: str
    fresh_conversation_id: str
    ticket_id: str
    ticket_version: int
    tracker_id: str
    attachment_id: str
    tokens: dict[str, str | None]

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
        "admin": sign_agent_token(AGENT_SECRET, "agent-ada", ["admins"]),
        "no_token": None,
    }


def _expired(surface: str) -> str:
    """The owner's customer token on the messenger, an owning-team agent's token on the inbox: both past."""
    if surface == "messenger":
        return sign_customer_token(MESSENGER_SECRET, "alice", ttl_seconds=-60)
    return sign_agent_token(AGENT_SECRET, "agent-frank", [OWNING_TEAM], ttl=-60)


@pytest.fixture
def world(messenger: Any, inbox: Any, tmp_path: Path) -> World:
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
    partial = World(LocalGateway(settings, {}), "", "", "", 0, "", "", tokens)
    owner, agent = tokens["owner"], tokens["owning_team_agent"]

    upload = partial.ok(
        "POST",
        "/messenger/attachments",
        owner,
        {"filename": "box.jpg", "content_type": "image/jpeg", "size": 4},
    )
    form = upload["upload"]
    assert requests.post(form["url"], data=form["fields"], files={"file": ("box.jpg", b"jpeg")}, timeout=10).ok
    conversation = partial.ok("POST", "/messenger/conversations", owner, {"body": "My parcel arrived damaged"})
    partial.ok(
        "POST",
        f"/messenger/conversations/{conversation['id']}/messages",
        owner,
        {"body": "Here is the box", "attachment_ids": [upload["attachment_id"]]},
    )
    fresh = partial.ok("POST", "/messenger/conversations", owner, {"body": "Another question"})
    ticket = partial.ok(
        "POST",
        f"/inbox/conversations/{conversation['id']}/ticket",
        agent,
        {
            "ticket_type_id": "damaged-item",
            "team_id": OWNING_TEAM,
            "attributes": {"order_id": "ORD-1001", "description": "crushed box"},
        },
    )
    tracker = partial.ok(
        "POST",
        "/inbox/tickets",
        agent,
        {
            "ticket_type_id": "delivery-problem",
            "category": "tracker",
            "team_id": OWNING_TEAM,
            "title": "Carrier outage",
            "attributes": {"order_id": "many", "problem": "late"},
        },
    )
    assert ticket["team_id"] == tracker["team_id"] == OWNING_TEAM
    partial.conversation_id, partial.fresh_conversation_id = conversation["id"], fresh["id"]
    partial.ticket_id, partial.ticket_version, partial.tracker_id = ticket["id"], ticket["version"], tracker["id"]
    partial.attachment_id = upload["attachment_id"]
    return partial


def _resolve_ticket(world: World) -> None:
    """Ratings come after resolution: the owning team resolves Alice's ticket first."""
    body = {"version": world.ticket_version, "state_id": "replaced"}
    world.ok("PATCH", f"/inbox/tickets/{world.ticket_id}", world.tokens["owning_team_agent"], body)


BODIES: dict[str, Callable[[World], Any]] = {
    "POST /messenger/conversations/<conversation_id>/messages": lambda w: {"body": "Any news?"},
    "POST /messenger/tickets/<ticket_id>/replies": lambda w: {"body": "Any news?"},
    "POST /messenger/tickets/<ticket_id>/rating": lambda w: {"score": 5, "comment": "quick"},
    "POST /inbox/conversations/<conversation_id>/replies": lambda w: {"body": "Looking into it"},
    "POST /inbox/conversations/<conversation_id>/assignment": lambda w: {"team_id": OTHER_TEAM},
    "POST /inbox/conversations/<conversation_id>/status": lambda w: {"status": "closed"},
    "POST /inbox/conversations/<conversation_id>/ticket": lambda w: {
        "ticket_type_id": "damaged-item",
        "attributes": {"order_id": "ORD-1002", "description": "dented"},
    },
    "PATCH /inbox/tickets/<ticket_id>": lambda w: {"version": w.ticket_version, "priority": "high"},
    "POST /inbox/tickets/<ticket_id>/replies": lambda w: {"body": "A replacement is on its way"},
    "POST /inbox/tickets/<ticket_id>/approval": lambda w: {"decision": "approve"},
    "POST /inbox/tickets/<ticket_id>/links": lambda w: {"ticket_ids": [w.ticket_id]},
}
PREPARE: dict[str, Callable[[World], None]] = {"POST /messenger/tickets/<ticket_id>/rating": _resolve_ticket}


def _path(route: str, world: World) -> str:
    path = route.split(" ", 1)[1]
    conversation = world.fresh_conversation_id if route.endswith("/ticket") else world.conversation_id
    ticket = world.tracker_id if route.endswith("/links") else world.ticket_id
    return (
        path.replace("<conversation_id>", conversation)
        .replace("<ticket_id>", ticket)
        .replace("<attachment_id>", world.attachment_id)
        .replace("<team_id>", OWNING_TEAM)
        .replace("<section>", "volumes")
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", id_routes())
def test_every_caller_gets_the_right_answer_on_every_route_with_an_id(route: str, caller: str, world: World) -> None:
    # Given Alice's things, and a route someone has decided the rules for
    assert route in EXPECTED, f"{route} takes an id but nobody wrote down who may call it: add it to EXPECTED"
    expected = EXPECTED[route][CALLERS.index(caller)]
    if route in PREPARE:
        PREPARE[route](world)
    method, surface = route.split(" ", 1)[0], route.split("/")[1]
    token = _expired(surface) if caller == "expired_token" else world.tokens[caller]
    body = BODIES[route](world) if route in BODIES else None

    # When this caller calls it
    reply = world.call(method, _path(route, world), token, body)

    # Then the answer is the one the rules give, and a refusal says nothing about Alice's things
    assert reply.status == expected, f"{caller} on {route}: {reply.status} {reply.body}"
    if expected in (401, 403, 404):
        leaked = json.dumps(reply.body)
        assert not [word for word in ("Alice", "alice@", "damaged", "crushed") if word in leaked]


def test_the_expectation_table_names_only_routes_that_exist() -> None:
    stale = set(EXPECTED) - set(id_routes())
    assert not stale, f"EXPECTED lists routes the APIs no longer have: {sorted(stale)}"
