"""Agents see the files on a conversation or ticket where they read it: name, type, size and short-lived links.

Each file on the page carries a link that shows it in the page (only a checked image, video or PDF,
and always with its declared type) and one that saves it; the page still takes at most two DynamoDB
calls (its Query, and one BatchGet of the files' records). Who may not read the page gets no link.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from tests.conftest import DynamoCalls
from tests.handlers.test_attachment_uploads import PNG, declare, post_file, send
from tests.handlers.test_messenger_features import ALICE, convert, start
from tests.support.events import Reply, agent_authorizer, customised

Call = Callable[[dict[str, Any]], Reply]
RETURNS = agent_authorizer("agent-returns", "returns")
LOGISTICS = agent_authorizer("agent-lou", "logistics")
PDF = b"%PDF-1.4\n" + b"label" * 40


def shared_photo(messenger: Call) -> tuple[str, str]:
    """Alice sends a photo of the damage in her conversation: (conversation id, attachment id)."""
    conversation_id = start(messenger, ALICE).body["id"]
    declared = declare(messenger, content_type="image/png", size=len(PNG))
    post_file(declared, PNG)
    assert send(messenger, conversation_id, declared["attachment_id"]).status == 201
    return conversation_id, declared["attachment_id"]


def response_headers(url: str) -> dict[str, str]:
    query = parse_qs(urlsplit(url).query)
    return {name: values[0] for name, values in query.items() if name.startswith("response-")}


def test_a_photo_in_the_conversation_comes_with_a_link_that_shows_it_as_the_declared_image(
    messenger: Call, inbox: Call, dynamo_calls: DynamoCalls
) -> None:
    # Given Alice shared a photo in her conversation
    conversation_id, attachment_id = shared_photo(messenger)

    # When the agent opens the conversation
    dynamo_calls.reset()
    page = inbox(customised("inbox_api/get_conversation", path=f"/inbox/conversations/{conversation_id}"))

    # Then the photo is there with its name, type and size, and links to show it and to save it
    assert page.status == 200, page.body
    [photo] = [a for m in page.body["messages"] for a in m["attachments"]]
    assert {k: photo[k] for k in ("id", "content_type", "size")} == {
        "id": attachment_id,
        "content_type": "image/png",
        "size": len(PNG),
    }
    assert response_headers(photo["url"]) == {
        "response-content-disposition": f'inline; filename="{photo["filename"]}"',
        "response-content-type": "image/png",
    }
    assert response_headers(photo["download_url"])["response-content-disposition"].startswith("attachment;")
    assert photo["expires_in"] == 300
    shown = requests.get(photo["url"], timeout=10)
    assert (shown.status_code, shown.content, shown.headers["Content-Type"]) == (200, PNG, "image/png")
    # in no more than two DynamoDB calls: the page's Query and the files' BatchGet
    assert dynamo_calls.operations == ["Query", "BatchGetItem"]


def test_a_pdf_on_the_ticket_is_shown_in_the_page_and_an_unchecked_upload_never_is(
    messenger: Call, inbox: Call, dynamo_calls: DynamoCalls
) -> None:
    # Given Alice's conversation became a ticket, and she replied to it with a PDF
    conversation_id = start(messenger, ALICE).body["id"]
    ticket = convert(inbox, conversation_id)
    declared = declare(messenger, content_type="application/pdf", size=len(PDF))
    post_file(declared, PDF)
    replied = messenger(
        customised(
            "messenger_api/reply_to_ticket",
            path=f"/messenger/tickets/{ticket['id']}/replies",
            authorizer=ALICE,
            body={"body": "The receipt", "attachment_ids": [declared["attachment_id"]]},
        )
    )
    assert replied.status == 201, replied.body

    # When the ticket's team opens the ticket
    dynamo_calls.reset()
    page = inbox(customised("inbox_api/get_ticket", path=f"/inbox/tickets/{ticket['id']}", authorizer=RETURNS))

    # Then the PDF can be read in the page, as a PDF, in two DynamoDB calls
    assert page.status == 200, page.body
    [receipt] = [a for p in page.body["timeline"] for a in p["attachments"]]
    assert response_headers(receipt["url"])["response-content-disposition"].startswith("inline;")
    assert response_headers(receipt["url"])["response-content-type"] == "application/pdf"
    assert dynamo_calls.count() <= 2
    # and an upload never sent (never checked) is only ever a download, for its owner alone
    unsent = declare(messenger, content_type="image/png", size=len(PNG))
    post_file(unsent, PNG)
    mine = messenger(
        customised(
            "messenger_api/download_attachment",
            path=f"/messenger/attachments/{unsent['attachment_id']}",
            authorizer=ALICE,
        )
    )
    assert response_headers(mine.body["url"])["response-content-disposition"].startswith("attachment;")


def test_an_agent_of_another_team_gets_no_link_to_the_team_s_files(messenger: Call, inbox: Call) -> None:
    # Given Alice's photo on her conversation, with the frontline team
    conversation_id, attachment_id = shared_photo(messenger)

    # When an agent of logistics asks for the conversation, or for the file itself
    page = inbox(
        customised("inbox_api/get_conversation", path=f"/inbox/conversations/{conversation_id}", authorizer=LOGISTICS)
    )
    direct = inbox(
        customised("inbox_api/download_attachment", path=f"/inbox/attachments/{attachment_id}", authorizer=LOGISTICS)
    )

    # Then both are refused, and nothing signed reaches them
    assert (page.status, direct.status) == (403, 403)
    assert "X-Amz-Signature" not in str(page.body) + str(direct.body)
