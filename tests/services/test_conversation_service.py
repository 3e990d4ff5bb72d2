"""Conversations against moto's DynamoDB: start, send, poll, agents reply, customers stay apart."""

from __future__ import annotations

import pytest
from helpdesk.domain.errors import Conflict, InvalidInput, NotFound
from helpdesk.domain.models import AuthorType, ConversationStatus
from helpdesk.services.conversations import ConversationService

from tests.conftest import DynamoCalls
from tests.support.principals import ADMIN, ALICE, BOB, FRONTLINE_AGENT, ORDER_CONTEXT


def test_a_started_conversation_lands_in_the_default_teams_inbox_with_its_context(
    conversations: ConversationService,
) -> None:
    # Given Alice starts a conversation from her order page
    started = conversations.start(ALICE, "  My parcel arrived damaged  ", ORDER_CONTEXT)

    # When a frontline agent opens the inbox
    inbox = conversations.inbox(FRONTLINE_AGENT, "frontline", ConversationStatus.OPEN, cursor=None, limit=10)

    # Then the conversation is there, with who she is and what she was looking at
    assert [c.id for c in inbox.items] == [started.conversation.id]
    listed = inbox.items[0]
    assert listed.customer_id == "alice"
    assert listed.customer_name == "Alice"
    assert listed.context == ORDER_CONTEXT
    assert listed.preview == "My parcel arrived damaged"
    assert started.messages[0].body == "My parcel arrived damaged"
    assert started.messages[0].author.type is AuthorType.CUSTOMER


def test_an_empty_message_is_refused_and_nothing_is_stored(conversations: ConversationService) -> None:
    with pytest.raises(InvalidInput) as refused:
        conversations.start(ALICE, "   ", None)

    assert refused.value.problems == [("body", "must contain some text")]
    assert conversations.list_for_customer(ALICE, cursor=None, limit=10).items == []


def test_polling_returns_only_messages_after_the_cursor_in_one_query(
    conversations: ConversationService, dynamo_calls: DynamoCalls
) -> None:
    # Given a long conversation the customer has already read
    started = conversations.start(ALICE, "hello", None)
    conversation_id = started.conversation.id
    for n in range(30):
        conversations.send_as_customer(ALICE, conversation_id, f"message {n}")
    seen = conversations.page_for_customer(ALICE, conversation_id, after=None, limit=50)
    cursor = seen.next_cursor

    # When an agent replies and the messenger polls with its cursor
    conversations.reply_as_agent(FRONTLINE_AGENT, conversation_id, "We're on it", internal=False)
    dynamo_calls.reset()
    fresh = conversations.page_for_customer(ALICE, conversation_id, after=cursor, limit=50)

    # Then only the reply comes back, and it took one Query
    assert [m.body for m in fresh.messages] == ["We're on it"]
    assert dynamo_calls.operations == ["Query"]

    # And polling again with the new cursor finds nothing new
    again = conversations.page_for_customer(ALICE, conversation_id, after=fresh.next_cursor, limit=50)
    assert again.messages == []
    assert again.next_cursor == fresh.next_cursor


def test_the_latest_messages_come_oldest_first_and_in_the_order_sent(conversations: ConversationService) -> None:
    started = conversations.start(ALICE, "first", None)
    for n in range(5):
        conversations.send_as_customer(ALICE, started.conversation.id, f"m{n}")

    page = conversations.page_for_customer(ALICE, started.conversation.id, after=None, limit=3)

    assert [m.body for m in page.messages] == ["m2", "m3", "m4"]


def test_internal_notes_are_never_shown_to_the_customer(conversations: ConversationService) -> None:
    started = conversations.start(ALICE, "hello", None)
    conversations.reply_as_agent(FRONTLINE_AGENT, started.conversation.id, "NOTE-MARKER vip?", internal=True)
    conversations.reply_as_agent(FRONTLINE_AGENT, started.conversation.id, "Hi Alice", internal=False)

    customer_page = conversations.page_for_customer(ALICE, started.conversation.id, after=None, limit=50)
    agent_page = conversations.page_for_agent(ADMIN, started.conversation.id, after=None, limit=50)

    assert [m.body for m in customer_page.messages] == ["hello", "Hi Alice"]
    assert "NOTE-MARKER vip?" in [m.body for m in agent_page.messages]
    assert customer_page.conversation.preview == "Hi Alice"


def test_another_customer_can_neither_read_nor_write_the_conversation(conversations: ConversationService) -> None:
    started = conversations.start(ALICE, "private", None)

    with pytest.raises(NotFound):
        conversations.page_for_customer(BOB, started.conversation.id, after=None, limit=10)
    with pytest.raises(NotFound):
        conversations.page_for_customer(BOB, started.conversation.id, after=started.next_cursor, limit=10)
    with pytest.raises(NotFound):
        conversations.send_as_customer(BOB, started.conversation.id, "let me in")

    page = conversations.page_for_customer(ALICE, started.conversation.id, after=None, limit=10)
    assert [m.body for m in page.messages] == ["private"]


def test_unknown_conversations_are_not_found(conversations: ConversationService) -> None:
    with pytest.raises(NotFound):
        conversations.page_for_customer(ALICE, "01JUNKNOWN", after=None, limit=10)
    with pytest.raises(NotFound):
        conversations.reply_as_agent(FRONTLINE_AGENT, "01JUNKNOWN", "hello?", internal=False)


def test_customer_lists_only_their_own_conversations_newest_first(conversations: ConversationService) -> None:
    first = conversations.start(ALICE, "one", None)
    conversations.start(BOB, "bob's", None)
    second = conversations.start(ALICE, "two", None)

    page = conversations.list_for_customer(ALICE, cursor=None, limit=1)
    rest = conversations.list_for_customer(ALICE, cursor=page.next_cursor, limit=1)

    assert [c.id for c in page.items] == [second.conversation.id]
    assert [c.id for c in rest.items] == [first.conversation.id]


def test_a_cursor_from_another_list_is_refused(conversations: ConversationService) -> None:
    conversations.start(ALICE, "one", None)
    conversations.start(ALICE, "two", None)
    alices_cursor = conversations.list_for_customer(ALICE, cursor=None, limit=1).next_cursor
    assert alices_cursor is not None

    with pytest.raises(InvalidInput):
        conversations.list_for_customer(BOB, cursor=alices_cursor, limit=1)
    with pytest.raises(InvalidInput):
        conversations.list_for_customer(ALICE, cursor="not-a-cursor", limit=1)


def test_sending_to_a_closed_conversation_is_a_conflict(conversations: ConversationService, stores: object) -> None:
    from helpdesk.adapters.mapping import META, conversation_pk
    from helpdesk.adapters.table import ConversationItem

    started = conversations.start(ALICE, "hello", None)
    ConversationItem(pk=conversation_pk(started.conversation.id), sk=META).update(
        actions=[ConversationItem.status.set("closed")]
    )

    with pytest.raises(Conflict):
        conversations.send_as_customer(ALICE, started.conversation.id, "are you there?")


def test_snoozed_conversations_wake_when_their_time_comes(conversations: ConversationService) -> None:
    from datetime import timedelta

    from helpdesk.domain.models import utc_now

    soon, later = conversations.start(ALICE, "soon", None), conversations.start(ALICE, "later", None)
    now = utc_now()
    conversations.set_status(
        FRONTLINE_AGENT, soon.conversation.id, ConversationStatus.SNOOZED, snoozed_until=now + timedelta(minutes=5)
    )
    conversations.set_status(
        FRONTLINE_AGENT, later.conversation.id, ConversationStatus.SNOOZED, snoozed_until=now + timedelta(days=2)
    )

    assert conversations.wake_due(now + timedelta(minutes=1)) == 0
    assert conversations.wake_due(now + timedelta(minutes=6)) == 1
    assert conversations.wake_due(now + timedelta(minutes=7)) == 0  # already awake: nothing twice

    open_now = conversations.inbox(FRONTLINE_AGENT, "frontline", ConversationStatus.OPEN, cursor=None, limit=10)
    snoozed = conversations.inbox(FRONTLINE_AGENT, "frontline", ConversationStatus.SNOOZED, cursor=None, limit=10)
    assert [c.id for c in open_now.items] == [soon.conversation.id]
    assert [c.id for c in snoozed.items] == [later.conversation.id]
    woken = conversations.page_for_agent(ADMIN, soon.conversation.id, after=None, limit=10)
    assert woken.conversation.snoozed_until is None
    assert woken.messages[-1].internal
