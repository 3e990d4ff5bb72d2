"""What every message written to a conversation shares: a non-empty body, a preview, ids in order."""

from __future__ import annotations

from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import AttachmentRef, new_id

PREVIEW_LENGTH = 140


def clean_body(body: str, *, attachments: list[AttachmentRef] | None = None) -> str:
    text = body.strip()
    if not text and not attachments:
        raise InvalidInput("message body can't be empty", [("body", "must contain some text")])
    return text


def preview(body: str, attachments: list[AttachmentRef]) -> str:
    """The line an inbox list shows for a conversation: its latest words, or the files sent."""
    text = body or ", ".join(f"📎 {a.filename}" for a in attachments)
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def ordered_ids(count: int) -> list[str]:
    """Ids for messages written together: sorted, so they read back in the order they were said."""
    return sorted(new_id() for _ in range(count))
