"""The inbox's rules over the handlers: availability, hand-off capsules, statuses, views, notes, If-Match."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import DynamoCalls
from tests.support.events import Reply, agent_authorizer, customer_authorizer, customised, sample_event

Call = Callable[[dict[str, Any]], Reply]
FRONTLINE = agent_authorizer("agent-frank", "frontline")
RETURNS = agent_authorizer("agent-rita", "returns")
LOGISTICS = agent_authorizer("agent-lou", "logistics")
FRONTLINE_LEAD = agent_authorizer("agent-lena", "leads,frontline")
RETURNS_2 = agent_authorizer("agent-ravi", "returns")
ALICE = customer_authorizer("alice", "Alice")


def start(messenger: Call, body: str = "My parcel arrived damaged") -> str:
    sample = json.loads(sample_event("messenger_api/start_conversation")["body"])
    reply = messenger(customised("messenger_api/start_conversation", authorizer=ALICE, body=sample | {"body": body}))
    assert reply.status == 201
    return str(reply.body["id"])


def say(messenger: Call, conversation_id: str, body: str) -> None:
    path = f"/messenger/conversations/{conversation_id}/messages"
    assert (
        messenger(customised("messenger_api/send_message", path=path, authorizer=ALICE, body={"body": body})).status
        == 201
    )


def agent_call(inbox: Call, name: str, who: dict[str, Any], path: str, body: Any = None, query: Any = None) -> Reply:
    extra: dict[str, Any] = {"authorizer": who, "path": path}
    if body is not None:
        extra["body"] = body
    if query is not None:
        extra["query"] = query
    return inbox(customised(f"inbox_api/{name}", **extra))


def test_agents_go_online_and_live_routing_prefers_someone_present(messenger: Call, inbox: Call) -> None:
    me = agent_call(inbox, "list_ticket_types", RETURNS, "/inbox/me")
    assert me.status == 200
    assert me.body["teams"] == ["returns"]
    assert me.body["availability"] == "away"
    agent_call(inbox, "list_ticket_types", RETURNS_2, "/inbox/me")
    online = inbox(
        customised(
            "inbox_api/update_ticket",
            path="/inbox/me/availability",
            authorizer=RETURNS,
            body={"availability": "online"},
        )
        | {"httpMethod": "PUT"}
    )
    assert online.status == 200
    roster = agent_call(inbox, "list_ticket_types", FRONTLINE, "/inbox/teams/returns/agents").body["items"]
    assert {a["id"]: a["availability"] for a in roster} == {"agent-rita": "online", "agent-ravi": "away"}

    conversation_id = start(messenger)
    routed = agent_call(
        inbox,
        "reply_to_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/assignment",
        body={"team_id": "returns", "auto_assign": True},
    )

    assert routed.status == 200
    assert (routed.body["team_id"], routed.body["assignee_id"]) == ("returns", "agent-rita")
    mine = agent_call(inbox, "list_conversations", RETURNS, "/inbox/conversations", query={"assignee_id": "me"})
    assert [c["id"] for c in mine.body["items"]] == [conversation_id]


def test_a_hand_off_gives_the_receiver_a_capsule_with_everything_so_far(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger, "My parcel arrived damaged")
    agent_call(
        inbox,
        "reply_to_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/replies",
        body={"body": "Oh no! Which item?"},
    )
    say(messenger, conversation_id, "The teapot, its lid is cracked")
    say(messenger, conversation_id, "Can I get a replacement?")
    note = agent_call(
        inbox,
        "reply_to_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/replies",
        body={"body": "@agent-rita loyal customer, please prioritise", "internal": True},
    )
    assert note.body["mentions"] == ["agent-rita"]

    # An agent hands the conversation to another team; only a lead also picks the agent there
    picked_by_agent = agent_call(
        inbox,
        "reply_to_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/assignment",
        body={"team_id": "returns", "assignee_id": "agent-rita"},
    )
    assert picked_by_agent.status == 403, picked_by_agent.body
    handed = agent_call(
        inbox,
        "reply_to_conversation",
        FRONTLINE_LEAD,
        f"/inbox/conversations/{conversation_id}/assignment",
        body={"team_id": "returns", "assignee_id": "agent-rita"},
    )

    capsule = handed.body["capsule"]
    assert capsule["customer"]["id"] == "alice"
    assert capsule["context"]["object"] == {"type": "order", "id": "ORD-1001"}
    assert {"type": "order", "id": "ORD-1001"} in capsule["linked_objects"]
    assert capsule["open_questions"] == ["The teapot, its lid is cracked", "Can I get a replacement?"]
    assert capsule["last_customer_messages"][0] == "My parcel arrived damaged"
    assert capsule["notes"] == ["@agent-rita loyal customer, please prioritise"]
    assert capsule["handed_to"] == {"team_id": "returns", "assignee_id": "agent-rita"}
    detail = agent_call(inbox, "get_conversation", RETURNS, f"/inbox/conversations/{conversation_id}").body
    assert detail["capsule"] == capsule
    assert detail["messages"][-1]["kind"] == "handoff"
    customer_view = messenger(
        customised(
            "messenger_api/get_conversation", path=f"/messenger/conversations/{conversation_id}", authorizer=ALICE
        )
    )
    assert "loyal customer" not in str(customer_view.body)
    assert "handoff" not in str(customer_view.body)


def test_reassigning_a_ticket_records_a_capsule_on_its_timeline(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger)
    ticket = agent_call(
        inbox,
        "convert_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/ticket",
        body={"ticket_type_id": "damaged-item", "attributes": {"description": "Cracked lid"}},
    ).body

    moved = agent_call(
        inbox,
        "update_ticket",
        RETURNS,
        f"/inbox/tickets/{ticket['id']}",
        body={"version": ticket["version"], "team_id": "logistics"},
    )

    assert moved.status == 200
    assert moved.body["capsule"]["collected_attributes"]["description"] == "Cracked lid"
    timeline = agent_call(inbox, "get_ticket", LOGISTICS, f"/inbox/tickets/{ticket['id']}").body["timeline"]
    assert timeline[-1]["type"] == "handoff"
    assert timeline[-1]["visible_to_customer"] is False


def test_snooze_close_and_reopen_move_the_conversation_between_views(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger)
    path = f"/inbox/conversations/{conversation_id}/status"
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()

    past = agent_call(
        inbox,
        "reply_to_conversation",
        FRONTLINE,
        path,
        body={"status": "snoozed", "snoozed_until": "2020-01-01T00:00:00Z"},
    )
    snoozed = agent_call(
        inbox, "reply_to_conversation", FRONTLINE, path, body={"status": "snoozed", "snoozed_until": later}
    )

    def ids(status: str) -> list[str]:
        page = agent_call(inbox, "list_conversations", FRONTLINE, "/inbox/conversations", query={"status": status})
        return [c["id"] for c in page.body["items"]]

    assert past.status == 422
    assert snoozed.status == 200
    assert ids("snoozed") == [conversation_id]
    assert ids("open") == []
    agent_call(inbox, "reply_to_conversation", FRONTLINE, path, body={"status": "closed"})
    assert ids("closed") == [conversation_id]
    agent_call(inbox, "reply_to_conversation", FRONTLINE, path, body={"status": "open"})
    assert ids("open") == [conversation_id]


def test_ticket_views_by_state_priority_and_order_are_one_query_each(
    messenger: Call, inbox: Call, dynamo_calls: DynamoCalls
) -> None:
    ids = []
    for n in range(3):
        conversation_id = start(messenger, f"problem {n}")
        ticket = agent_call(
            inbox,
            "convert_conversation",
            FRONTLINE,
            f"/inbox/conversations/{conversation_id}/ticket",
            body={
                "ticket_type_id": "damaged-item",
                "attributes": {"description": f"d{n}"},
                "priority": "high" if n else "low",
            },
        ).body
        ids.append(ticket["id"])
    first = agent_call(inbox, "get_ticket", RETURNS, f"/inbox/tickets/{ids[0]}").body
    agent_call(
        inbox,
        "update_ticket",
        RETURNS,
        f"/inbox/tickets/{ids[0]}",
        body={"version": first["version"], "state_id": "assessing"},
    )

    views = {
        "state": {"team_id": "returns", "ticket_type_id": "damaged-item", "state_id": "assessing"},
        "priority": {"team_id": "returns", "priority": "high"},
        "oldest": {"team_id": "returns", "category": "submitted", "order": "oldest"},
    }
    results = {}
    for name, query in views.items():
        dynamo_calls.reset()
        page = agent_call(inbox, "list_tickets", RETURNS, "/inbox/tickets", query=query)
        assert page.status == 200, page.body
        assert dynamo_calls.operations == ["Query"], name
        results[name] = [t["id"] for t in page.body["items"]]

    assert results["state"] == [ids[0]]
    assert results["priority"] == [ids[2], ids[1]]
    assert results["oldest"] == [ids[1], ids[2]]
    bad = agent_call(inbox, "list_tickets", RETURNS, "/inbox/tickets", query={"state_id": "assessing"})
    assert bad.status == 422


def test_if_match_carries_the_version_and_a_stale_one_is_409(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger)
    ticket = agent_call(
        inbox,
        "convert_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/ticket",
        body={"ticket_type_id": "damaged-item", "attributes": {"description": "x"}},
    ).body
    path = f"/inbox/tickets/{ticket['id']}"

    def patch(body: dict[str, Any], if_match: str | None) -> Reply:
        event = customised("inbox_api/update_ticket", path=path, authorizer=RETURNS, body=body)
        if if_match is not None:
            event["headers"]["If-Match"] = if_match
            event["multiValueHeaders"]["If-Match"] = [if_match]
        return inbox(event)

    fresh = patch({"priority": "high"}, f'"{ticket["version"]}"')
    stale = patch({"priority": "low"}, str(ticket["version"]))
    neither = patch({"priority": "low"}, None)

    assert fresh.status == 200
    assert stale.status == 409
    assert stale.body["current_version"] == fresh.body["version"]
    assert neither.status == 422
    assert neither.body["details"][0]["field"] == "version"


@pytest.mark.parametrize("team", ["frontline", "billing"])
def test_agents_of_other_teams_get_403_on_replies_and_changes(messenger: Call, inbox: Call, team: str) -> None:
    conversation_id = start(messenger)
    ticket = agent_call(
        inbox,
        "convert_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/ticket",
        body={"ticket_type_id": "damaged-item", "attributes": {"description": "x"}},
    ).body
    outsider = agent_authorizer(f"agent-{team}", team)

    change = agent_call(
        inbox, "update_ticket", outsider, f"/inbox/tickets/{ticket['id']}", body={"version": 1, "priority": "low"}
    )
    reply = agent_call(
        inbox, "reply_to_ticket", outsider, f"/inbox/tickets/{ticket['id']}/replies", body={"body": "hi"}
    )

    assert (change.status, reply.status) == (403, 403)


def test_agents_attach_files_shared_with_the_customer_or_kept_internal(messenger: Call, inbox: Call) -> None:
    import requests

    conversation_id = start(messenger)
    ticket = agent_call(
        inbox,
        "convert_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/ticket",
        body={"ticket_type_id": "damaged-item", "attributes": {"description": "x"}},
    ).body

    def upload(internal: bool) -> str:
        started = agent_call(
            inbox,
            "reply_to_ticket",
            RETURNS,
            "/inbox/attachments",
            body={
                "ticket_id": ticket["id"],
                "filename": "label.pdf",
                "content_type": "application/pdf",
                "size": 8,
                "internal": internal,
            },
        )
        assert started.status == 201, started.body
        post = started.body["upload"]
        assert requests.post(
            post["url"], data=post["fields"], files={"file": ("label.pdf", b"%PDF-1.4")}, timeout=10
        ).ok
        return str(started.body["attachment_id"])

    shared, internal = upload(False), upload(True)
    sent = agent_call(
        inbox,
        "reply_to_ticket",
        RETURNS,
        f"/inbox/tickets/{ticket['id']}/replies",
        body={"body": "Return label attached", "attachment_ids": [shared]},
    )
    noted = agent_call(
        inbox,
        "reply_to_ticket",
        RETURNS,
        f"/inbox/tickets/{ticket['id']}/replies",
        body={"body": "Carrier report", "internal": True, "attachment_ids": [internal]},
    )
    wrong_kind = agent_call(
        inbox,
        "reply_to_ticket",
        RETURNS,
        f"/inbox/tickets/{ticket['id']}/replies",
        body={"body": "again", "attachment_ids": [internal]},
    )
    outsider = agent_call(
        inbox,
        "reply_to_ticket",
        FRONTLINE,
        "/inbox/attachments",
        body={"ticket_id": ticket["id"], "filename": "x.pdf", "content_type": "application/pdf", "size": 8},
    )

    assert (sent.status, noted.status, wrong_kind.status, outsider.status) == (201, 201, 422, 403)
    timeline = messenger(
        customised("messenger_api/get_ticket", path=f"/messenger/tickets/{ticket['id']}", authorizer=ALICE)
    ).body["timeline"]
    assert [a["id"] for p in timeline for a in p["attachments"]] == [shared]

    def download(attachment_id: str) -> int:
        path = f"/messenger/attachments/{attachment_id}"
        return messenger(customised("messenger_api/download_attachment", path=path, authorizer=ALICE)).status

    assert download(shared) == 200
    assert download(internal) == 404


def test_a_customer_writing_to_a_snoozed_conversation_wakes_it(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    agent_call(
        inbox,
        "reply_to_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/status",
        body={"status": "snoozed", "snoozed_until": later},
    )

    say(messenger, conversation_id, "Any news?")

    open_view = agent_call(inbox, "list_conversations", FRONTLINE, "/inbox/conversations", query={"status": "open"})
    assert [c["id"] for c in open_view.body["items"]] == [conversation_id]
    assert open_view.body["items"][0]["snoozed_until"] is None


def test_unassigned_lists_only_open_conversations_waiting_for_someone(messenger: Call, inbox: Call) -> None:
    # Given three unassigned conversations: one open, one closed, one snoozed
    waiting, closed, snoozed = start(messenger), start(messenger), start(messenger)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for conversation_id, body in (
        (closed, {"status": "closed"}),
        (snoozed, {"status": "snoozed", "snoozed_until": later}),
    ):
        changed = agent_call(
            inbox, "reply_to_conversation", FRONTLINE, f"/inbox/conversations/{conversation_id}/status", body=body
        )
        assert changed.status == 200, changed.body

    # When the agent opens "Unassigned"
    view = agent_call(
        inbox, "list_conversations", FRONTLINE, "/inbox/conversations", query={"assignee_id": "unassigned"}
    )

    # Then only the open one waits there
    assert [c["id"] for c in view.body["items"]] == [waiting]


def test_conversation_views_are_one_query_per_page(messenger: Call, inbox: Call, dynamo_calls: DynamoCalls) -> None:
    start(messenger)
    for query in ({"status": "open"}, {"assignee_id": "unassigned"}, {"status": "open", "order": "oldest"}):
        dynamo_calls.reset()
        page = agent_call(inbox, "list_conversations", FRONTLINE, "/inbox/conversations", query=query)
        assert page.status == 200
        assert len(page.body["items"]) == 1
        assert dynamo_calls.operations == ["Query"], query


def test_the_sla_view_lists_a_teams_unresolved_tickets_soonest_deadline_first(
    messenger: Call, inbox: Call, dynamo_calls: DynamoCalls
) -> None:
    def ticket(type_id: str, attributes: dict[str, Any], team: str = "returns") -> dict[str, Any]:
        conversation_id = start(messenger, f"about {type_id}")
        reply = agent_call(
            inbox,
            "convert_conversation",
            FRONTLINE,
            f"/inbox/conversations/{conversation_id}/ticket",
            body={"ticket_type_id": type_id, "team_id": team, "attributes": attributes},
        )
        assert reply.status == 201, reply.body
        return dict(reply.body)

    # resolution SLAs in the demo workspace: damaged-item 2 days, delivery-problem 1 day, refund 3 days
    refund = ticket("refund-request", {"amount": "5", "reason": "charged-twice"})
    damaged = ticket("damaged-item", {"description": "cracked"})
    late = ticket("delivery-problem", {"problem": "late"})
    done = ticket("damaged-item", {"description": "fixed already"})
    agent_call(
        inbox,
        "update_ticket",
        RETURNS,
        f"/inbox/tickets/{done['id']}",
        body={"version": done["version"], "state_id": "replaced"},
    )

    dynamo_calls.reset()
    page = agent_call(
        inbox, "list_tickets", RETURNS, "/inbox/tickets", query={"team_id": "returns", "order": "sla_due"}
    )

    assert dynamo_calls.operations == ["Query"]
    assert [t["id"] for t in page.body["items"]] == [late["id"], damaged["id"], refund["id"]]
    assert page.body["items"][0]["sla_due_at"] < page.body["items"][1]["sla_due_at"]
