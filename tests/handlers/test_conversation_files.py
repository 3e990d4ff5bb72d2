"""Agents attach files to conversation replies and notes (POST /inbox/attachments with a conversation_id)."""

from __future__ import annotations

from typing import Any

import requests

from tests.conftest import DynamoCalls
from tests.handlers.test_inbox_features import ALICE, FRONTLINE, RETURNS, Call, agent_call, start
from tests.support.events import Reply, customised


def upload(inbox: Call, who: dict[str, Any], conversation_id: str, *, internal: bool, name: str = "label.pdf") -> Reply:
    """Start an upload for the conversation and, when it was allowed, post the file to the presigned form."""
    started = agent_call(
        inbox,
        "reply_to_conversation",
        who,
        "/inbox/attachments",
        body={
            "conversation_id": conversation_id,
            "filename": name,
            "content_type": "application/pdf",
            "size": 8,
            "internal": internal,
        },
    )
    if started.status == 201:
        form = started.body["upload"]
        stored = requests.post(form["url"], data=form["fields"], files={"file": (name, b"%PDF-1.4")}, timeout=10)
        assert stored.ok, stored.text
    return started


def reply(inbox: Call, who: dict[str, Any], conversation_id: str, **body: Any) -> Reply:
    path = f"/inbox/conversations/{conversation_id}/replies"
    return agent_call(inbox, "reply_to_conversation", who, path, body=body)


def test_an_agent_shares_a_file_in_a_conversation_and_keeps_a_notes_file_from_the_customer(
    messenger: Call, inbox: Call
) -> None:
    conversation_id = start(messenger)
    shared = upload(inbox, FRONTLINE, conversation_id, internal=False).body["attachment_id"]
    internal = upload(inbox, FRONTLINE, conversation_id, internal=True, name="notes.pdf").body["attachment_id"]

    sent = reply(inbox, FRONTLINE, conversation_id, body="", attachment_ids=[shared])
    noted = reply(inbox, FRONTLINE, conversation_id, body="Carrier report", internal=True, attachment_ids=[internal])

    assert (sent.status, noted.status) == (201, 201)
    assert [a["filename"] for a in sent.body["attachments"]] == ["label.pdf"]
    page = messenger(
        customised(
            "messenger_api/get_conversation", path=f"/messenger/conversations/{conversation_id}", authorizer=ALICE
        )
    ).body
    assert [a["id"] for m in page["messages"] for a in m["attachments"]] == [shared]

    def download(attachment_id: str) -> int:
        path = f"/messenger/attachments/{attachment_id}"
        return messenger(customised("messenger_api/download_attachment", path=path, authorizer=ALICE)).status

    assert (download(shared), download(internal)) == (200, 404)
    agents_page = agent_call(inbox, "get_conversation", FRONTLINE, f"/inbox/conversations/{conversation_id}").body
    files = {a["filename"]: a for m in agents_page["messages"] for a in m["attachments"]}
    assert set(files) == {"label.pdf", "notes.pdf"}
    assert "response-content-disposition=attachment" in files["notes.pdf"]["download_url"]


def test_a_file_uploaded_for_a_note_cant_go_out_as_a_reply_nor_be_sent_twice(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger)
    internal = upload(inbox, FRONTLINE, conversation_id, internal=True).body["attachment_id"]
    shared = upload(inbox, FRONTLINE, conversation_id, internal=False).body["attachment_id"]

    as_reply = reply(inbox, FRONTLINE, conversation_id, body="here", attachment_ids=[internal])
    first = reply(inbox, FRONTLINE, conversation_id, body="here", attachment_ids=[shared])
    again = reply(inbox, FRONTLINE, conversation_id, body="again", attachment_ids=[shared])
    empty = reply(inbox, FRONTLINE, conversation_id, body=" ")

    assert (as_reply.status, first.status, empty.status) == (422, 201, 422)
    assert again.status in (409, 422), again.body
    assert as_reply.body["details"][0]["field"] == "attachment_ids"
    assert empty.body["details"][0]["field"] == "body"


def test_an_agent_of_another_team_can_neither_upload_to_nor_send_files_in_the_conversation(
    messenger: Call, inbox: Call
) -> None:
    conversation_id = start(messenger)  # frontline's
    shared = upload(inbox, FRONTLINE, conversation_id, internal=False).body["attachment_id"]

    started = upload(inbox, RETURNS, conversation_id, internal=False)
    sent = reply(inbox, RETURNS, conversation_id, body="mine now", attachment_ids=[shared])

    assert (started.status, sent.status) == (403, 403)


def test_an_upload_names_exactly_one_of_a_ticket_and_a_conversation(messenger: Call, inbox: Call) -> None:
    conversation_id = start(messenger)
    file = {"filename": "a.pdf", "content_type": "application/pdf", "size": 8}

    def started(**where: str) -> Reply:
        return agent_call(inbox, "reply_to_conversation", FRONTLINE, "/inbox/attachments", body=file | where)

    neither = started()
    both = started(ticket_id="01JTICKET", conversation_id=conversation_id)

    assert (neither.status, both.status) == (422, 422)
    assert neither.body["details"][0]["field"] == "ticket_id"


def test_a_reply_with_files_is_one_read_and_one_write(messenger: Call, inbox: Call, dynamo_calls: DynamoCalls) -> None:
    conversation_id = start(messenger)
    shared = upload(inbox, FRONTLINE, conversation_id, internal=False).body["attachment_id"]
    agent_call(inbox, "get_conversation", FRONTLINE, f"/inbox/conversations/{conversation_id}")  # not a bot turn

    dynamo_calls.reset()
    sent = reply(inbox, FRONTLINE, conversation_id, body="label", attachment_ids=[shared])

    assert sent.status == 201
    assert dynamo_calls.operations == ["BatchGetItem", "TransactWriteItems"]
