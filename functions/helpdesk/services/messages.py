"""What every message written to a conversation shares: a non-empty body, a preview, ids in order."""

from __future__ import annotations

import re
from datetime import datetime

from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import (
    AttachmentRef,
    Author,
    Channel,
    Message,
    MessageKind,
    PartType,
    TicketPart,
    new_id,
    utc_now,
)

PREVIEW_LENGTH = 140
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][\w.-]{0,127})")


def clean_body(body: str, *, attachments: list[AttachmentRef] | None = None) -> str:
    text = body.strip()
    if not text and not attachments:
        raise InvalidInput("message body can't be empty", [("body", "must contain some text")])
    return text


def preview(body: str, attachments: list[AttachmentRef]) -> str:
    """The line an inbox list shows for a conversation: its latest words, or the files sent."""
    text = body or ", ".join(f"📎 {a.filename}" for a in attachments)
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def mentioned(text: str) -> list[str]:
    """The agent ids an internal note @mentions, each once, sorted."""
    return sorted(set(MENTION.findall(text)))


def internal_note(
    conversation_id: str,
    author: Author,
    body: str,
    at: datetime,
    *,
    kind: MessageKind = MessageKind.TEXT,
    message_id: str | None = None,
) -> Message:
    """A note agents see and the customer never does: what someone did to the conversation, or why."""
    return Message(
        id=new_id() if message_id is None else message_id,
        conversation_id=conversation_id,
        author=author,
        body=body,
        kind=kind,
        internal=True,
        created_at=at,
    )


def ordered_ids(count: int) -> list[str]:
    """Ids for messages written together: sorted, so they read back in the order they were said."""
    return sorted(new_id() for _ in range(count))


def new_message(
    conversation_id: str,
    author: Author,
    text: str,
    attachments: list[AttachmentRef],
    *,
    internal: bool = False,
    kind: MessageKind = MessageKind.TEXT,
    ticket_id: str | None = None,
    mentions: list[str] | None = None,
    channel: Channel | None = None,
) -> tuple[Message, TicketPart | None]:
    """A message, and (files sent in a conversation that became a ticket) the ticket's part with them."""
    now = utc_now()
    message = Message(
        id=new_id(),
        conversation_id=conversation_id,
        author=author,
        body=text,
        kind=kind,
        attachments=attachments,
        mentions=mentions or [],
        internal=internal,
        channel=channel,
        created_at=now,
    )
    if not (ticket_id and attachments):
        return message, None
    part = TicketPart(
        id=new_id(),
        ticket_id=ticket_id,
        type=PartType.ATTACHMENT,
        author=author,
        body=text or None,
        attachments=attachments,
        visible_to_customer=True,
        created_at=now,
    )
    return message, part
