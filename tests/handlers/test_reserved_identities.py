"""Ids the system keeps for what isn't a customer can't be claimed by a customer's token.

An internal note's files belong to ``internal:<ticket id>``: a token whose ``user_id`` is that id must
not reach them. The authorizer refuses it with a clear reason, and the API refuses it again if such an
identity ever reached it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from helpdesk.auth.customer_tokens import sign_customer_token
from helpdesk.handlers.messenger_authorizer import authorize

from tests.support.events import Reply, agent_authorizer, customer_authorizer, customised, sample_event

Call = Callable[[dict[str, Any]], Reply]
ALICE = customer_authorizer("alice", "Alice")
RETURNS = agent_authorizer("agent-rita", "returns")
FRONTLINE = agent_authorizer("agent-frank", "frontline")


@pytest.fixture
def internal_file(messenger: Call, inbox: Call) -> tuple[str, str]:
    """A file an agent attached to an internal note on Alice's ticket: (ticket id, attachment id)."""
    # (the sample's context names the order, which a damaged-item ticket needs)
    conversation = messenger(customised("messenger_api/start_conversation", authorizer=ALICE)).body
    ticket = inbox(
        customised(
            "inbox_api/convert_conversation",
            path=f"/inbox/conversations/{conversation['id']}/ticket",
            authorizer=FRONTLINE,  # the conversation's team hands it to returns as a ticket
            body={"ticket_type_id": "damaged-item", "team_id": "returns", "attributes": {"description": "x"}},
        )
    ).body
    upload = {"ticket_id": ticket["id"], "filename": "report.pdf", "content_type": "application/pdf", "size": 8}
    started = inbox(
        customised(
            "inbox_api/reply_to_ticket", path="/inbox/attachments", authorizer=RETURNS, body=upload | {"internal": True}
        )
    ).body
    post = started["upload"]
    assert requests.post(post["url"], data=post["fields"], files={"file": ("r.pdf", b"%PDF-1.4")}, timeout=10).ok
    noted = inbox(
        customised(
            "inbox_api/reply_to_ticket",
            path=f"/inbox/tickets/{ticket['id']}/replies",
            authorizer=RETURNS,
            body={"body": "Carrier report", "internal": True, "attachment_ids": [started["attachment_id"]]},
        )
    )
    assert noted.status == 201, noted.body
    return ticket["id"], started["attachment_id"]


@pytest.mark.parametrize("prefix", ["internal:", "INTERNAL:", " internal:"])
def test_a_token_claiming_an_internal_owner_is_refused_by_the_authorizer(
    internal_file: tuple[str, str], messenger_secret: str, prefix: str
) -> None:
    ticket_id, _ = internal_file
    event = sample_event("messenger_authorizer/request")
    event["headers"]["Authorization"] = f"Bearer {sign_customer_token(messenger_secret, prefix + ticket_id)}"

    policy = authorize(event, messenger_secret)

    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "may not start with 'internal:'" in policy["context"]["reason"]


def test_an_internal_owner_that_got_past_the_authorizer_still_reaches_nothing(
    messenger: Call, internal_file: tuple[str, str]
) -> None:
    ticket_id, attachment_id = internal_file
    forged = customer_authorizer(f"internal:{ticket_id}")

    reply = messenger(
        customised(
            "messenger_api/download_attachment", path=f"/messenger/attachments/{attachment_id}", authorizer=forged
        )
    )

    assert reply.status == 401
    assert "reserved" in reply.body["message"]
    # (and its owner, the customer, doesn't see it either: it is internal)
    mine = messenger(
        customised(
            "messenger_api/download_attachment", path=f"/messenger/attachments/{attachment_id}", authorizer=ALICE
        )
    )
    assert mine.status == 404
