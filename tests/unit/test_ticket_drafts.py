"""Drafting a ticket from a conversation: its title and the attributes found, each with where it came from."""

from __future__ import annotations

from typing import Any

from helpdesk.domain.models import (
    Author,
    AuthorType,
    BotState,
    Channel,
    Conversation,
    ConversationStatus,
    Message,
    utc_now,
)
from helpdesk.domain.ticket_drafts import Source, draft_ticket

CUSTOMER = Author(type=AuthorType.CUSTOMER, id="alice", name="Alice")
AGENT = Author(type=AuthorType.AGENT, id="agent-frank", name="Frank")


def conversation(**fields: Any) -> Conversation:
    now = utc_now()
    base: dict[str, Any] = {
        "id": "c1",
        "customer_id": "alice",
        "status": ConversationStatus.OPEN,
        "team_id": "frontline",
        "created_at": now,
        "updated_at": now,
    }
    return Conversation(**(base | fields))


def said(*lines: tuple[Author, str]) -> list[Message]:
    return [
        Message(id=f"m{n}", conversation_id="c1", author=who, body=text, created_at=utc_now())
        for n, (who, text) in enumerate(lines)
    ]


def test_the_title_is_the_first_thing_the_customer_said_and_the_order_they_mentioned_is_found(workspace: Any) -> None:
    messages = said(
        (CUSTOMER, "Hello, the teapot from my order ord-1002 arrived with a cracked lid and the spout is chipped too"),
        (AGENT, "Sorry to hear that! Which order was it, ORD-9999?"),
        (CUSTOMER, "The one I said"),
    )

    draft = draft_ticket(workspace.ticket_type("damaged-item"), conversation(), messages, workspace.bot)

    assert draft.title == "Hello, the teapot from my order ord-1002 arrived with a cracked lid and the…"
    assert draft.title_source is Source.CONVERSATION
    order = draft.attributes["order_id"]
    assert (order.value, order.source) == ("ORD-1002", Source.CONVERSATION)
    assert order.quote is not None
    assert "ord-1002" in order.quote


def test_what_the_bot_collected_fills_the_attributes_and_its_path_names_the_ticket(workspace: Any) -> None:
    state = BotState(
        path_id="damaged-item",
        vars={"order_id": "ORD-1001", "description": "The lid is cracked", "resolution": "refund"},
    )

    draft = draft_ticket(
        workspace.ticket_type("damaged-item"),
        conversation(bot=state),
        said((CUSTOMER, "my order ORD-1003 is damaged")),
        workspace.bot,
    )

    assert (draft.title, draft.title_source) == ("Damaged item in ORD-1001", Source.BOT)
    assert {name: (p.value, p.source) for name, p in draft.attributes.items()} == {
        "order_id": ("ORD-1001", Source.BOT),
        "description": ("The lid is cracked", Source.BOT),
        "resolution": ("refund", Source.BOT),
    }


def test_an_email_s_subject_is_its_title_and_nothing_is_guessed_from_nothing(workspace: Any) -> None:
    by_email = conversation(channel=Channel.EMAIL, email_subject="  Broken   mug in parcel ")

    draft = draft_ticket(workspace.ticket_type("damaged-item"), by_email, [], workspace.bot)
    plain = draft_ticket(workspace.ticket_type("damaged-item"), conversation(), [], None)

    assert (draft.title, draft.title_source) == ("Broken mug in parcel", Source.EMAIL_SUBJECT)
    assert draft.attributes == {}
    assert (plain.title, plain.title_source) == ("Damaged item", Source.TICKET_TYPE)
