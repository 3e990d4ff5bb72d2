"""Tags and macros over the inbox's handlers: tag views, one-step macros, agents' own macros and who can't."""

from __future__ import annotations

from typing import Any

from tests.conftest import DynamoCalls
from tests.handlers.test_inbox_features import ALICE, FRONTLINE, RETURNS, RETURNS_2, Call, agent_call, start
from tests.support.events import Reply, agent_authorizer, customised

LOGISTICS = agent_authorizer("agent-lou", "logistics")


def ticket_for_alice(messenger: Call, inbox: Call, first_words: str = "My parcel arrived damaged") -> dict[str, Any]:
    """Alice's conversation, converted by frontline into a damaged-item ticket for the returns team."""
    assert ALICE["name"] == "Alice"
    conversation_id = start(messenger, first_words)
    reply = agent_call(
        inbox,
        "convert_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/ticket",
        body={
            "ticket_type_id": "damaged-item",
            "team_id": "returns",
            "attributes": {"order_id": "ORD-1001", "description": "The lid is cracked"},
        },
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


def patch(inbox: Call, who: dict[str, Any], ticket: dict[str, Any], body: dict[str, Any]) -> Reply:
    return agent_call(
        inbox, "update_ticket", who, f"/inbox/tickets/{ticket['id']}", body={"version": ticket["version"], **body}
    )


def apply(inbox: Call, who: dict[str, Any], path: str, *, preview: bool = False) -> Reply:
    return agent_call(inbox, "apply_macro", who, path, body={"preview": preview})


def timeline(inbox: Call, ticket_id: str) -> list[dict[str, Any]]:
    return list(agent_call(inbox, "get_ticket", RETURNS, f"/inbox/tickets/{ticket_id}").body["timeline"])


def own_macro(inbox: Call, who: dict[str, Any], definition: dict[str, Any]) -> str:
    """An agent's own macro, made through the API; its id."""
    made = agent_call(inbox, "create_macro", who, "/inbox/macros", body=definition)
    assert made.status == 201, made.body
    return str(made.body["id"])


def tagged(inbox: Call, who: dict[str, Any], what: str, tag: str) -> list[str]:
    name = "list_tickets" if what == "tickets" else "list_conversations"
    reply = agent_call(inbox, name, who, f"/inbox/{what}", query={"tag": tag})
    assert reply.status == 200, reply.body
    return [item["id"] for item in reply.body["items"]]


# --- tags ----------------------------------------------------------------------------------------


def test_a_tagged_ticket_is_in_its_tag_s_view_until_the_tag_is_removed(
    messenger: Call, inbox: Call, dynamo_calls: DynamoCalls
) -> None:
    ticket = ticket_for_alice(messenger, inbox)

    tagging = patch(inbox, RETURNS, ticket, {"add_tags": ["VIP", "refund"]})

    assert tagging.status == 200, tagging.body
    assert tagging.body["tags"] == ["vip", "refund"]
    dynamo_calls.reset()
    assert tagged(inbox, RETURNS, "tickets", "vip") == [ticket["id"]]
    assert dynamo_calls.operations == ["Query", "BatchGetItem"]
    untagging = patch(inbox, RETURNS, tagging.body, {"remove_tags": ["vip"]})
    assert untagging.body["tags"] == ["refund"]
    assert tagged(inbox, RETURNS, "tickets", "vip") == []
    assert tagged(inbox, RETURNS, "tickets", "refund") == [ticket["id"]]


def test_a_tag_the_workspace_doesn_t_list_is_refused_naming_it_and_nothing_changes(
    messenger: Call, inbox: Call
) -> None:
    ticket = ticket_for_alice(messenger, inbox)

    refused = patch(inbox, RETURNS, ticket, {"add_tags": ["refund", "angry customer"], "priority": "high"})

    assert refused.status == 422
    assert [d["field"] for d in refused.body["details"]] == ["add_tags.1"]
    current = agent_call(inbox, "get_ticket", RETURNS, f"/inbox/tickets/{ticket['id']}").body
    assert (current["tags"], current["priority"], current["version"]) == ([], "normal", ticket["version"])


def test_a_tag_s_view_leaves_out_what_the_agent_may_not_read(messenger: Call, inbox: Call) -> None:
    ticket = ticket_for_alice(messenger, inbox)
    patch(inbox, RETURNS, ticket, {"add_tags": ["complaint"]})

    assert tagged(inbox, RETURNS_2, "tickets", "complaint") == [ticket["id"]]
    assert tagged(inbox, LOGISTICS, "tickets", "complaint") == []


def test_agents_tag_a_conversation_and_find_it_by_tag(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger, "Where is my order?")
    path = f"/inbox/conversations/{conversation_id}/tags"

    tagging = agent_call(inbox, "reply_to_conversation", FRONTLINE, path, body={"add_tags": ["follow-up"]})
    refused = agent_call(inbox, "reply_to_conversation", RETURNS, path, body={"add_tags": ["vip"]})

    assert tagging.status == 200, tagging.body
    assert tagging.body["tags"] == ["follow-up"]
    assert refused.status == 403
    assert tagged(inbox, FRONTLINE, "conversations", "follow-up") == [conversation_id]
    assert tagged(inbox, RETURNS, "conversations", "follow-up") == []
    listed = agent_call(inbox, "get_conversation", FRONTLINE, f"/inbox/conversations/{conversation_id}")
    assert listed.body["tags"] == ["follow-up"]


# --- macros --------------------------------------------------------------------------------------


def test_a_macro_replies_with_the_customer_s_first_name_and_resolves_the_ticket_in_one_step(
    messenger: Call, inbox: Call, dynamo_calls: DynamoCalls
) -> None:
    ticket = ticket_for_alice(messenger, inbox)
    path = f"/inbox/tickets/{ticket['id']}/macros/replacement-sent-resolve/apply"

    dynamo_calls.reset()
    applied = apply(inbox, RETURNS, path)

    assert applied.status == 200, applied.body
    assert dynamo_calls.operations == ["BatchGetItem", "TransactWriteItems"]
    assert applied.body["reply"]["body"].startswith("Hi Alice, your replacement is on its way")
    assert f"#{ticket['number']}" in applied.body["reply"]["body"]
    assert applied.body["ticket"]["state"]["category"] == "resolved"
    assert applied.body["ticket"]["tags"] == ["resolved-by-macro"]
    assert applied.body["ticket"]["version"] == ticket["version"] + 1
    assert tagged(inbox, RETURNS, "tickets", "resolved-by-macro") == [ticket["id"]]
    seen_by_alice = customised("messenger_api/get_ticket", path=f"/messenger/tickets/{ticket['id']}", authorizer=ALICE)
    bodies = [p["body"] for p in messenger(seen_by_alice).body["timeline"]]
    assert applied.body["reply"]["body"] in bodies


def test_a_preview_renders_the_macro_and_stores_nothing(messenger: Call, inbox: Call) -> None:
    ticket = ticket_for_alice(messenger, inbox)
    path = f"/inbox/tickets/{ticket['id']}/macros/replacement-sent-resolve/apply"

    preview = apply(inbox, RETURNS, path, preview=True)

    assert preview.status == 200
    assert preview.body["stored"] is False
    assert preview.body["reply"]["body"].startswith("Hi Alice")
    assert preview.body["ticket"]["state"]["category"] == "resolved"
    current = agent_call(inbox, "get_ticket", RETURNS, f"/inbox/tickets/{ticket['id']}").body
    assert (current["version"], current["state"]["category"]) == (ticket["version"], "submitted")


def test_a_macro_whose_placeholder_has_no_value_is_refused_and_stores_nothing(messenger: Call, inbox: Call) -> None:
    ticket = ticket_for_alice(messenger, inbox)
    mine = agent_call(
        inbox,
        "create_macro",
        RETURNS,
        "/inbox/macros",
        body={"name": "Carrier", "body": "Carrier ref {ticket.attributes.carrier_ref}", "state": "resolved"},
    )
    assert mine.status == 201, mine.body
    before = len(timeline(inbox, ticket["id"]))

    refused = apply(inbox, RETURNS, f"/inbox/tickets/{ticket['id']}/macros/{mine.body['id']}/apply")

    assert refused.status == 422
    assert "{ticket.attributes.carrier_ref}" in refused.body["message"]
    current = agent_call(inbox, "get_ticket", RETURNS, f"/inbox/tickets/{ticket['id']}").body
    assert (current["version"], current["state"]["category"]) == (ticket["version"], "submitted")
    assert len(timeline(inbox, ticket["id"])) == before


def test_an_agent_s_own_macro_is_theirs_alone(messenger: Call, inbox: Call) -> None:
    ticket = ticket_for_alice(messenger, inbox)
    macro_id = own_macro(
        inbox,
        RETURNS,
        {"name": "Photos received", "body": "Thanks {customer.first_name}, got the photos.", "priority": "high"},
    )

    mine = agent_call(inbox, "list_conversations", RETURNS, "/inbox/macros", query={"q": "phot"}).body["items"]
    theirs = agent_call(inbox, "list_conversations", RETURNS_2, "/inbox/macros", query={"q": "phot"}).body["items"]
    applied_by_other = apply(inbox, RETURNS_2, f"/inbox/tickets/{ticket['id']}/macros/{macro_id}/apply")
    deleted_by_other = agent_call(inbox, "delete_macro", RETURNS_2, f"/inbox/macros/{macro_id}")

    assert [(m["name"], m["personal"]) for m in mine] == [("Photos received", True), ("Ask for photos", False)]
    assert "Photos received" not in [m["name"] for m in theirs]
    assert applied_by_other.status == 403
    assert deleted_by_other.status == 403
    applied = apply(inbox, RETURNS, f"/inbox/tickets/{ticket['id']}/macros/{macro_id}/apply")
    assert applied.body["reply"]["body"] == "Thanks Alice, got the photos."
    assert applied.body["ticket"]["priority"] == "high"
    assert agent_call(inbox, "delete_macro", RETURNS, f"/inbox/macros/{macro_id}").status == 204
    gone = apply(inbox, RETURNS, f"/inbox/tickets/{ticket['id']}/macros/{macro_id}/apply")
    assert gone.status == 404


def test_workspace_macros_can_t_be_deleted_through_the_api(inbox: Call) -> None:
    refused = agent_call(inbox, "delete_macro", RETURNS, "/inbox/macros/thanks-and-close")

    assert refused.status == 403
    assert "macros/*.yaml" in refused.body["message"]


def test_a_macro_naming_an_unknown_placeholder_or_tag_is_refused_naming_the_field(inbox: Call) -> None:
    placeholder = agent_call(
        inbox, "create_macro", RETURNS, "/inbox/macros", body={"name": "Oops", "body": "Hi {customer.nickname}"}
    )
    tag = agent_call(
        inbox, "create_macro", RETURNS, "/inbox/macros", body={"name": "Oops", "add_tags": ["not-a-listed-tag"]}
    )

    assert placeholder.status == 422
    assert [d["field"] for d in placeholder.body["details"]] == ["body"]
    assert tag.status == 422
    assert [d["field"] for d in tag.body["details"]] == ["add_tags.0"]


def test_a_macro_applied_to_another_team_s_ticket_is_refused(messenger: Call, inbox: Call) -> None:
    ticket = ticket_for_alice(messenger, inbox)

    refused = apply(inbox, LOGISTICS, f"/inbox/tickets/{ticket['id']}/macros/thanks-and-close/apply")

    assert refused.status == 403
    current = agent_call(inbox, "get_ticket", RETURNS, f"/inbox/tickets/{ticket['id']}").body
    assert current["version"] == ticket["version"]


def test_a_macro_replies_in_a_conversation_and_closes_it(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger, "Thanks, all sorted now")
    agent_call(
        inbox,
        "reply_to_conversation",
        FRONTLINE,
        f"/inbox/conversations/{conversation_id}/replies",
        body={"body": "Glad to hear it"},
    )

    applied = apply(inbox, FRONTLINE, f"/inbox/conversations/{conversation_id}/macros/thanks-and-close/apply")
    ticket_only = apply(inbox, FRONTLINE, f"/inbox/conversations/{conversation_id}/macros/escalate-to-billing/apply")

    assert applied.status == 200, applied.body
    assert applied.body["message"]["body"].startswith("Thanks Alice!")
    assert applied.body["conversation"]["status"] == "closed"
    assert ticket_only.status == 422
    closed = agent_call(inbox, "list_conversations", FRONTLINE, "/inbox/conversations", query={"status": "closed"})
    assert conversation_id in [c["id"] for c in closed.body["items"]]


def test_a_macro_that_moves_a_ticket_to_another_team_hands_it_off_with_a_summary(
    messenger: Call, inbox: Call, dynamo_calls: DynamoCalls
) -> None:
    # Given Alice's ticket with returns, and a returns agent's macro that sends tickets to logistics
    ticket = ticket_for_alice(messenger, inbox)
    macro_id = own_macro(
        inbox,
        RETURNS,
        {"name": "To the warehouse", "body": "Passing this on, {customer.first_name}.", "team_id": "logistics"},
    )
    # When the agent applies it
    dynamo_calls.reset()
    applied = apply(inbox, RETURNS, f"/inbox/tickets/{ticket['id']}/macros/{macro_id}/apply")
    # Then logistics has it, with the hand-off summary on top and in the timeline, as any move to a team
    assert applied.status == 200, applied.body
    assert dynamo_calls.count() <= 2  # still one read and one write
    moved = agent_call(inbox, "get_ticket", LOGISTICS, f"/inbox/tickets/{ticket['id']}").body
    assert moved["team_id"] == "logistics"
    assert moved["capsule"]["handed_to"] == {"team_id": "logistics", "assignee_id": None}
    assert moved["capsule"]["handed_off_by"] == "agent-rita"
    assert moved["capsule"]["collected_attributes"]["order_id"] == "ORD-1001"
    assert [p["body"] for p in moved["timeline"] if p["type"] == "handoff"] == ["Hand-off summary"]
