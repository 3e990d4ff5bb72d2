"""What the messenger's home answers besides conversations and tickets: unread counts and articles.

The response models of ``GET /messenger/unread``, the read marks and ``GET /messenger/articles/<id>``
(the other views are in ``api/views.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from helpdesk.domain.live import UnreadCount


class ArticleView(BaseModel):
    id: str
    title: str
    body: str = Field(description="Markdown: paragraphs, lists, **bold**, *italic*, `code` and links.")
    url: str | None = Field(description="The article on the business's help site, if it has one.")


class UnreadView(BaseModel):
    thread_type: Literal["conversation", "ticket"]
    thread_id: str
    unread: int = Field(description="Messages (or ticket updates) not read yet.")
    updated_at: datetime


class UnreadList(BaseModel):
    items: list[UnreadView]
    total: int = Field(description="How many conversations and tickets have something unread.")


def unread_view(count: UnreadCount) -> UnreadView:
    return UnreadView(
        thread_type=count.thread_type, thread_id=count.thread_id, unread=count.unread, updated_at=count.updated_at
    )
