"""The conversation transcript on a ticket: the team that works a ticket reads the conversation it came from.

Through the inbox handler on moto, with the demo workspace (``agent_visibility: team``): the front line
converts Alice's conversation into a ticket for the returns team, who may then read that conversation's
messages through the ticket though not the conversation itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import DynamoCalls
from tests.support.events import Reply, agent_authorizer, customer_authorizer, customised, sample_event

Call = Callable[[dict[str, Any]], Reply]
ALICE = customer_authorizer("alice", "Alice")
FRONTLINE = agent_authorizer("agent-frank", "frontline")
RETURNS = agent_authorizer("agent-rita", "returns")
LOGISTICS = agent_authorizer("agent-lou", "logistics")


def transcript(inbox: Call, who: dict[str, Any], ticket_id: str, query: dict[str, str] | None = None) -> Reply:
    return inbox(
        customised(
            "inbox_api/get_ticket_transcript",
            path=f"/inbox/tickets/{ticket_id}/transcript",
            authorizer=who,
            query=query or {"limit": "50"},
        )
    )


def reply(inbox: Call, conversation_id: str, body: str, *, internal: bool = False) -> None:
    path = f"/inbox/conversations/{conversation_id}/replies"
    event = customised(
        "inbox_api/reply_to_conversation", path=path, authorizer=FRONTLINE, body={"body": body, "internal": internal}
    )
    answer = inbox(event)
    assert answer.status == 201, answer.body


def create_ticket(inbox: Call, who: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    answer = inbox(customised("inbox_api/create_ticket", authorizer=who, body=body))
    assert answer.status == 201, answer.body
    return dict(answer.body)


@pytest.fixture
def converted(messenger: Call, inbox: Call) -> dict[str, str]:
    """Alice's conversation with the front line (a reply and an internal note), converted into a returns ticket."""
    sample = json.loads(sample_event("messenger_api/start_conversation")["body"])
    started = messenger(
        customised(
            "messenger_api/start_conversation",
            authorizer=ALICE,
            body=sample | {"body": "I want to return the lamp"},
        )
    )
    assert started.status == 201, started.body
    conversation_id = str(started.body["id"])
    reply(inbox, conversation_id, "Sorry to hear that, I'll pass this on")
    reply(inbox, conversation_id, "Order ORD-1002, she was charged twice", internal=True)
    converting = inbox(
        customised(
            "inbox_api/convert_conversation",
            path=f"/inbox/conversations/{conversation_id}/ticket",
            authorizer=FRONTLINE,
            body={
                "ticket_type_id": "damaged-item",
                "team_id": "returns",
                "attributes": {"order_id": "ORD-1002", "description": "lamp shade torn"},
            },
        )
    )
    assert converting.status == 201, converting.body
    return {"conversation": conversation_id, "ticket": str(converting.body["id"])}


def test_the_returns_team_reads_the_front_line_conversation_through_the_ticket_in_two_reads(
    inbox: Call, converted: dict[str, str], dynamo_calls: DynamoCalls
) -> None:
    # Given a ticket the returns team now holds, opened from the front line's conversation
    dynamo_calls.reset()

    # When a returns agent opens its transcript
    answer = transcript(inbox, RETURNS, converted["ticket"])

    # Then they read the customer's message, the front line's reply and its internal note, oldest first
    assert answer.status == 200, answer.body
    assert answer.body["conversation_id"] == converted["conversation"]
    messages = answer.body["messages"]
    texts = [m["body"] for m in messages]
    assert texts[0] == "I want to return the lamp"
    reply_at = texts.index("Sorry to hear that, I'll pass this on")
    assert texts[reply_at + 1] == "Order ORD-1002, she was charged twice"
    note = messages[reply_at + 1]
    assert note["internal"] is True
    assert (note["author"]["type"], note["author"]["id"]) == ("agent", "agent-frank")
    stamps = [m["created_at"] for m in messages]
    assert stamps == sorted(stamps)
    assert answer.body["next_cursor"] is None
    # And it took the ticket read and one Query of the conversation's messages
    assert dynamo_calls.operations == ["GetItem", "Query"]


def test_the_returns_agent_may_not_open_the_conversation_itself(inbox: Call, converted: dict[str, str]) -> None:
    # When the returns agent asks for the front line's conversation directly
    path = f"/inbox/conversations/{converted['conversation']}"
    answer = inbox(customised("inbox_api/get_conversation", path=path, authorizer=RETURNS))

    # Then it is refused: the ticket is their way in, not the conversation
    assert answer.status == 403, answer.body


def test_another_team_s_agent_can_t_read_the_transcript(inbox: Call, converted: dict[str, str]) -> None:
    # When a logistics agent, whose team has nothing to do with the ticket, asks for its transcript
    answer = transcript(inbox, LOGISTICS, converted["ticket"])

    # Then they are refused, and read none of Alice's messages
    assert answer.status == 403, answer.body
    assert "messages" not in answer.body


def test_the_transcript_pages_oldest_first_with_a_cursor(inbox: Call, converted: dict[str, str]) -> None:
    # Given the full transcript
    whole = [m["id"] for m in transcript(inbox, RETURNS, converted["ticket"]).body["messages"]]

    # When the returns agent reads it two messages at a time
    seen: list[str] = []
    query = {"limit": "2"}
    while True:
        page = transcript(inbox, RETURNS, converted["ticket"], query)
        assert page.status == 200, page.body
        seen += [m["id"] for m in page.body["messages"]]
        if page.body["next_cursor"] is None:
            break
        query = {"limit": "2", "cursor": page.body["next_cursor"]}

    # Then the pages add up to the whole transcript, in order, each message once
    assert len(whole) >= 3
    assert seen == whole


def test_a_ticket_opened_without_a_conversation_has_an_empty_transcript(inbox: Call, aws: None) -> None:
    # Given a ticket the returns team opened directly for Alice
    ticket = create_ticket(
        inbox,
        RETURNS,
        {
            "ticket_type_id": "damaged-item",
            "team_id": "returns",
            "customer_id": "alice",
            "attributes": {"order_id": "ORD-1003", "description": "scratched"},
        },
    )

    # When its transcript is asked for
    answer = transcript(inbox, RETURNS, ticket["id"])

    # Then there is none, and no conversation to link to
    assert answer.status == 200, answer.body
    assert (answer.body["conversation_id"], answer.body["messages"]) == (None, [])


def test_a_back_office_ticket_names_the_ticket_it_serves(inbox: Call, converted: dict[str, str]) -> None:
    # Given logistics working a back-office ticket that serves the returns team's ticket
    served = converted["ticket"]
    back_office = create_ticket(
        inbox,
        RETURNS,
        {
            "ticket_type_id": "delivery-problem",
            "category": "back_office",
            "team_id": "logistics",
            "linked_ticket_id": served,
            "attributes": {"order_id": "ORD-1002", "problem": "lost"},
        },
    )

    # When a logistics agent opens its transcript
    answer = transcript(inbox, LOGISTICS, back_office["id"])

    # Then it names the ticket it serves, for the page to link to
    assert answer.status == 200, answer.body
    assert answer.body["served_ticket_id"] == served


def test_an_unknown_ticket_has_no_transcript(inbox: Call, aws: None) -> None:
    answer = transcript(inbox, RETURNS, "01KAXZ0000TICKET000000404")

    assert answer.status == 404, answer.body


@pytest.mark.parametrize(
    ("query", "field"),
    [({"cursor": "x" * 1100}, "cursor"), ({"cursor": "MSG#01 OR 1"}, "cursor"), ({"limit": "0"}, "limit")],
)
def test_a_bad_cursor_or_limit_is_refused_naming_the_field(
    inbox: Call, converted: dict[str, str], query: dict[str, str], field: str, dynamo_calls: DynamoCalls
) -> None:
    dynamo_calls.reset()

    answer = transcript(inbox, RETURNS, converted["ticket"], query)

    assert answer.status in (400, 422), answer.body
    assert field in json.dumps(answer.body["details"])
    assert dynamo_calls.operations == []
