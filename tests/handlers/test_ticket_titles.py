"""Ticket titles over the inbox handler: drafted from the conversation, converted with, and edited."""

from __future__ import annotations

from typing import Any

from tests.conftest import DynamoCalls
from tests.handlers.test_customer_profile import ALICE, FRONTLINE, LOGISTICS, Call
from tests.support.events import customised


def start(messenger: Call, who: dict[str, Any], body: str) -> str:
    """A conversation without a context package: only the customer's words say which order."""
    reply = messenger(customised("messenger_api/start_conversation", authorizer=who, body={"body": body}))
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def draft(inbox: Call, who: dict[str, Any], conversation_id: str) -> Any:
    return inbox(
        customised(
            "inbox_api/draft_ticket",
            path=f"/inbox/conversations/{conversation_id}/ticket-draft",
            authorizer=who,
            query={"ticket_type_id": "damaged-item"},
        )
    )


def test_converting_starts_from_a_draft_with_the_first_message_and_the_order_mentioned(
    messenger: Call, inbox: Call, dynamo_calls: DynamoCalls
) -> None:
    # Given Alice wrote about her order in her own words
    conversation_id = start(messenger, ALICE, "The teapot from order ORD-1002 arrived cracked")
    dynamo_calls.reset()

    # When a front-line agent drafts a damaged-item ticket from it
    drafted = draft(inbox, FRONTLINE, conversation_id)

    # Then the title is her first message, and the order she mentioned is offered for the agent to confirm
    assert drafted.status == 200, drafted.body
    assert (drafted.body["title"], drafted.body["title_source"]) == (
        "The teapot from order ORD-1002 arrived cracked",
        "conversation",
    )
    order = drafted.body["attributes"]["order_id"]
    assert (order["value"], order["source"]) == ("ORD-1002", "conversation")
    assert dynamo_calls.operations == ["Query"]

    # And converting with what the agent kept opens the ticket under that title
    converted = inbox(
        customised(
            "inbox_api/convert_conversation",
            path=f"/inbox/conversations/{conversation_id}/ticket",
            authorizer=FRONTLINE,
            body={
                "ticket_type_id": "damaged-item",
                "title": drafted.body["title"],
                "attributes": {"order_id": order["value"], "description": "cracked"},
            },
        )
    )
    assert converted.status == 201, converted.body
    assert converted.body["title"] == "The teapot from order ORD-1002 arrived cracked"
    assert converted.body["attributes"]["order_id"] == "ORD-1002"


def test_an_agent_of_another_team_can_t_draft_from_the_conversation(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger, ALICE, "The teapot from order ORD-1002 arrived cracked")

    refused = draft(inbox, LOGISTICS, conversation_id)

    assert refused.status == 403
    assert "ORD-1002" not in str(refused.body)


def test_an_agent_renames_a_ticket_and_an_empty_title_is_refused(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger, ALICE, "My lamp flickers")
    ticket = inbox(
        customised(
            "inbox_api/convert_conversation",
            path=f"/inbox/conversations/{conversation_id}/ticket",
            authorizer=FRONTLINE,
            body={
                "ticket_type_id": "damaged-item",
                "team_id": "frontline",
                "attributes": {"order_id": "ORD-1002", "description": "flickers"},
            },
        )
    ).body
    assert ticket["title"] == "Damaged item"  # no subject, no bot: the type's name

    def rename(title: str, version: int) -> Any:
        return inbox(
            customised(
                "inbox_api/update_ticket",
                path=f"/inbox/tickets/{ticket['id']}",
                authorizer=FRONTLINE,
                body={"version": version, "title": title},
            )
        )

    renamed = rename("  Desk lamp   flickers after a week ", ticket["version"])
    assert renamed.status == 200, renamed.body
    blank = rename("   ", renamed.body["version"])

    assert renamed.body["title"] == "Desk lamp flickers after a week"
    assert blank.status == 422
    assert blank.body["details"] == [{"field": "title", "message": "must not be empty"}]
