"""The messenger's home and the bot's manners: greeting, menu, when to expect a reply, unread counts;
asking for a person wins, a photo can be skipped, a menu option starts its path, a KB answer links on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from helpdesk.adapters.store import TableStores
from helpdesk.domain.errors import NotFound
from helpdesk.domain.models import AuthorType, ConversationStatus, MessageKind
from helpdesk.services.bot import BotEngine
from helpdesk.services.conversations import ConversationService
from helpdesk.services.home import MessengerHome
from helpdesk.services.tickets import TicketService

from tests.services.test_bot import ALICE, FakeKnowledge, FakeOrderSystem, bot_said, last_options
from tests.services.test_live import LiveWorld, build_world
from tests.support.principals import BOB, FRONTLINE_AGENT

# A Tuesday: the demo shop is open 08:00-18:00 (Europe/London), and closed on Sundays.
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SUNDAY_NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def home_at(stores: TableStores, workspace: Any, now: datetime) -> MessengerHome:
    return MessengerHome(workspace, stores.live, stores.conversations, stores.tickets, clock=lambda: now)


def test_the_home_greets_by_name_and_offers_the_bot_s_menu(stores: TableStores, workspace: Any) -> None:
    home = home_at(stores, workspace, TUESDAY_NOON).home(ALICE)

    assert home.greeting == "Hi Alice! I'm the Demo Shop assistant."
    assert [o.id for o in home.menu] == ["where-is-my-order", "change-delivery-slot", "damaged-item", "something-else"]
    assert home.reply.open_now
    assert home.reply.text == "We're here now and reply as soon as we can."


def test_out_of_hours_the_home_says_when_the_team_is_back(stores: TableStores, workspace: Any) -> None:
    reply = home_at(stores, workspace, SUNDAY_NOON).home(ALICE).reply

    assert not reply.open_now
    assert reply.next_open_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert reply.text == "We're away right now and back tomorrow at 08:00 (Europe/London); leave us a message."


def test_the_expected_reply_time_comes_from_recent_first_replies(stores: TableStores, workspace: Any) -> None:
    for minutes in (4, 6, 8):
        stores.live.record_first_reply(f"c{minutes}", "frontline", minutes * 60, TUESDAY_NOON - timedelta(hours=1))
    stores.live.record_first_reply("c4", "frontline", 3600, TUESDAY_NOON)  # a later reply isn't a first one
    stores.live.record_first_reply("old", "frontline", 9999, TUESDAY_NOON - timedelta(days=9))

    reply = home_at(stores, workspace, TUESDAY_NOON).home(ALICE).reply

    assert reply.typical_reply_seconds == 360
    assert reply.text == "We usually reply in about 6 minutes."


def test_an_agent_s_first_reply_is_timed_by_the_fan_out(table: str, workspace: Any) -> None:
    world: LiveWorld = build_world(TableStores(), workspace)
    page = world.conversations.start(ALICE, "Hello", None)
    world.conversations.reply_as_agent(FRONTLINE_AGENT, page.conversation.id, "Hi!", internal=False)
    world.conversations.reply_as_agent(FRONTLINE_AGENT, page.conversation.id, "Anything else?", internal=False)
    world.pump()

    today = datetime.now(UTC).strftime("%Y-%m-%d")
    replies, seconds = world.stores.live.reply_times("frontline", [today])
    assert replies == 1
    assert 0 <= seconds < 60


def test_reading_a_conversation_resets_its_count_and_only_its_customer_may(table: str, workspace: Any) -> None:
    world = build_world(TableStores(), workspace)
    page = world.conversations.start(ALICE, "Hello", None)
    world.conversations.reply_as_agent(FRONTLINE_AGENT, page.conversation.id, "Hi!", internal=False)
    world.pump()
    home = home_at(world.stores, workspace, TUESDAY_NOON)
    assert [c.unread for c in home.unread(ALICE)] == [1]

    with pytest.raises(NotFound):
        home.mark_read(BOB, "conversation", page.conversation.id)
    home.mark_read(ALICE, "conversation", page.conversation.id)

    assert home.unread(ALICE) == []


def test_a_status_update_in_a_closed_conversation_counts_as_unread(table: str, workspace: Any) -> None:
    world = build_world(TableStores(), workspace)
    page = world.conversations.start(ALICE, "Hello", None)
    world.conversations.set_status(FRONTLINE_AGENT, page.conversation.id, ConversationStatus.CLOSED)
    world.pump()
    from helpdesk.domain.models import Author, Message, new_id, utc_now

    update = Message(
        id=new_id(),
        conversation_id=page.conversation.id,
        author=Author(type=AuthorType.BOT, id="notifier", name="Demo Shop"),
        body="Your ticket #12 is now: Resolved",
        kind=MessageKind.STATUS_CHANGE,
        created_at=utc_now(),
    )
    world.stores.conversations.add_message("alice", update, preview=None, owner="alice", must_be_open=False)
    world.pump()

    assert [(c.thread_id, c.unread) for c in world.stores.live.unread_counts("alice")] == [(page.conversation.id, 1)]


# --- the bot's manners -------------------------------------------------------------------------------


@pytest.fixture
def bot(stores: TableStores, workspace: Any) -> ConversationService:
    """The demo's bot, its order system and knowledge base faked as in the bot's own tests."""
    engine = BotEngine(
        workspace.bot,
        default_team=workspace.default_team,
        team_names={t.id: t.name for t in workspace.teams},
        knowledge=FakeKnowledge(),
        actions=FakeOrderSystem(),
    )
    tickets = TicketService(stores.tickets, stores.conversations, stores.attachments, workspace)
    return ConversationService(stores.conversations, workspace, engine, tickets)


def test_asking_for_a_person_wins_over_another_path_s_words(bot: ConversationService) -> None:
    page = bot.start(ALICE, "My parcel arrived damaged, I want to talk to a person", None)

    conversation = page.conversation
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.bot is not None
    assert conversation.bot.path_id == "something-else"


def test_asking_for_a_person_mid_path_hands_over_instead_of_failing_the_question(bot: ConversationService) -> None:
    page = bot.start(ALICE, "My parcel arrived damaged", None)
    assert bot_said(bot, page.conversation.id)[-1].startswith("I'm sorry to hear that. Which order")

    bot.send_as_customer(ALICE, page.conversation.id, "talk to a person")

    said = bot_said(bot, page.conversation.id)
    assert "Frontline" in said[-1]
    assert not any("couldn't read that order number" in s for s in said)


def test_the_photo_step_offers_to_go_on_without_one(bot: ConversationService) -> None:
    page = bot.start(ALICE, "My parcel arrived damaged", None)
    conversation_id = page.conversation.id
    bot.send_as_customer(ALICE, conversation_id, "ORD-1001")
    bot.send_as_customer(ALICE, conversation_id, "The lid is cracked")
    assert last_options(bot, conversation_id) == ["skip"]

    bot.send_as_customer(ALICE, conversation_id, "", option_id="skip")

    assert bot_said(bot, conversation_id)[-1] == "Would you like a replacement or a refund?"


def test_a_menu_option_on_the_home_starts_its_path(bot: ConversationService) -> None:
    page = bot.start(ALICE, "My item arrived damaged", None, option_id="damaged-item")

    assert page.conversation.bot is not None
    assert page.conversation.bot.path_id == "damaged-item"


def test_a_knowledge_base_answer_links_to_the_whole_article(bot: ConversationService) -> None:
    page = bot.start(ALICE, "How do returns work?", None)

    answer = next(m for m in page.messages if m.kind is MessageKind.KB_ANSWER)
    assert answer.body.endswith("[Read the full article](article:returns-policy)")
