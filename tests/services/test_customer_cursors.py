"""A customer's cursors never give away an internal note: each is the id of something the customer sees.

Ids are time-ordered, so a cursor equal to an internal note's id would tell the customer that a note was
written, and when. Paging and polling still move past any run of internal notes.
"""

from __future__ import annotations

from helpdesk.services.conversations import ConversationService
from helpdesk.services.tickets import NewTicket, TicketService

from tests.support.principals import ALICE, FRONTLINE_AGENT, ORDER_CONTEXT, RETURNS_AGENT

DAMAGED = NewTicket(ticket_type_id="damaged-item", team_id="returns", attributes={"description": "The lid is cracked"})


def test_polling_after_an_internal_note_hands_back_no_cursor_derived_from_it(
    conversations: ConversationService,
) -> None:
    # Given a conversation the customer has read
    started = conversations.start(ALICE, "Where is my parcel?", None)
    conversation_id = started.conversation.id
    cursor = started.next_cursor

    # When an agent writes internal notes and the customer polls
    notes = {
        conversations.reply_as_agent(FRONTLINE_AGENT, conversation_id, f"note {n}", internal=True).id for n in range(3)
    }
    polled = conversations.page_for_customer(ALICE, conversation_id, after=cursor, limit=50)

    # Then nothing new is shown and the cursor stays on what the customer saw
    assert polled.messages == []
    assert polled.next_cursor == cursor
    assert polled.next_cursor not in notes

    # And once the agent answers, the answer comes once and the cursor moves to it
    answer = conversations.reply_as_agent(FRONTLINE_AGENT, conversation_id, "It's on its way", internal=False)
    fresh = conversations.page_for_customer(ALICE, conversation_id, after=cursor, limit=50)
    assert [m.body for m in fresh.messages] == ["It's on its way"]
    assert fresh.next_cursor == answer.id
    assert conversations.page_for_customer(ALICE, conversation_id, after=fresh.next_cursor, limit=50).messages == []


def test_the_first_page_ends_on_the_last_message_the_customer_sees(conversations: ConversationService) -> None:
    started = conversations.start(ALICE, "Hello", None)
    note = conversations.reply_as_agent(FRONTLINE_AGENT, started.conversation.id, "checking", internal=True)

    page = conversations.page_for_customer(ALICE, started.conversation.id, after=None, limit=50)

    assert [m.body for m in page.messages] == ["Hello"]
    assert page.next_cursor == page.messages[-1].id != note.id


def test_polling_moves_past_more_internal_notes_than_a_page_holds(conversations: ConversationService) -> None:
    # Given more internal notes in a row than the customer's page size
    started = conversations.start(ALICE, "Hello", None)
    conversation_id = started.conversation.id
    notes = {
        conversations.reply_as_agent(FRONTLINE_AGENT, conversation_id, f"n{n}", internal=True).id for n in range(6)
    }
    conversations.reply_as_agent(FRONTLINE_AGENT, conversation_id, "first answer", internal=False)
    conversations.reply_as_agent(FRONTLINE_AGENT, conversation_id, "second answer", internal=False)

    # When the customer polls two messages at a time
    seen: list[str] = []
    cursor = started.next_cursor
    for _ in range(4):
        page = conversations.page_for_customer(ALICE, conversation_id, after=cursor, limit=2)
        seen += [m.body for m in page.messages]
        assert page.next_cursor not in notes
        cursor = page.next_cursor

    # Then both answers arrive, once each, in order
    assert seen == ["first answer", "second answer"]


def test_a_customers_ticket_pages_are_cursored_by_parts_they_see(
    conversations: ConversationService, tickets: TicketService
) -> None:
    # Given a ticket whose timeline mixes replies with runs of internal notes
    started = conversations.start(ALICE, "My parcel arrived damaged", ORDER_CONTEXT)
    ticket = tickets.convert_conversation(FRONTLINE_AGENT, started.conversation.id, DAMAGED)
    internal: set[str] = set()
    for n in range(4):
        internal |= {tickets.reply(RETURNS_AGENT, ticket.id, f"note {n}.{k}", internal=True).id for k in range(3)}
        tickets.reply(RETURNS_AGENT, ticket.id, f"reply {n}", internal=False)
    internal.add(tickets.reply(RETURNS_AGENT, ticket.id, "newest note", internal=True).id)

    # When the customer pages back through it two entries at a time
    shown: list[str] = []
    cursors: list[str] = []
    before: str | None = None
    while True:
        page = tickets.page_for_customer(ALICE, ticket.id, before=before, limit=2)
        shown = [p.body or p.type.value for p in page.timeline] + shown
        if page.next_cursor is None:
            break
        cursors.append(page.next_cursor)
        before = page.next_cursor

    # Then every cursor is a part they saw, and they saw every reply once, none of the notes
    assert cursors
    assert not set(cursors) & internal
    replies = [entry for entry in shown if entry.startswith("reply")]
    assert replies == ["reply 0", "reply 1", "reply 2", "reply 3"]
    assert not [entry for entry in shown if "note" in entry]
