"""The bot acts only on the caller's own records: visitors sign in first, other customers' orders aren't found.

The demo bot's paths run against a fake order system that keeps the real runner's contract
(``tests/support/orders.py``): a visitor is never sent, another customer's order is
``not_on_account``. What is checked is what each caller sees, what agents see, and who every call
was made for: always the customer the request's token proved, never one named in the conversation.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpdesk.adapters.store import TableStores
from helpdesk.domain.models import (
    AuthorType,
    BotState,
    ContextPackage,
    Conversation,
    ConversationStatus,
    MessageKind,
    ResolvedBy,
    ViewedObject,
    utc_now,
)
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.services.bot import BotEngine, CustomerInput
from helpdesk.services.conversations import ConversationService
from helpdesk.services.tickets import TicketService

from tests.support.orders import FakeOrderSystem
from tests.support.principals import ADMIN

ALICE = CustomerPrincipal(user_id="alice", name="Alice", email="alice@example.com")
BOB = CustomerPrincipal(user_id="bob", name="Bob", email="bob@example.com")
VISITOR = CustomerPrincipal(user_id="visitor-7c1e", is_visitor=True)
ALICES_ORDER = ContextPackage(
    page_url="https://shop.example/orders/ORD-1001", object=ViewedObject(type="order", id="ORD-1001")
)


@pytest.fixture
def orders() -> FakeOrderSystem:
    return FakeOrderSystem()


def bot_service(stores: TableStores, workspace: Any, orders: FakeOrderSystem, **bot: Any) -> ConversationService:
    config = workspace.bot.model_copy(update=bot)
    engine = BotEngine(
        config,
        default_team=workspace.default_team,
        team_names={t.id: t.name for t in workspace.teams},
        actions=orders,
    )
    tickets = TicketService(stores.tickets, stores.conversations, stores.attachments, workspace)
    return ConversationService(stores.conversations, workspace, engine, tickets)


@pytest.fixture
def service(stores: TableStores, workspace: Any, orders: FakeOrderSystem) -> ConversationService:
    return bot_service(stores, workspace, orders)


def bot_said(service: ConversationService, conversation_id: str) -> list[str]:
    page = service.page_for_agent(ADMIN, conversation_id, after=None, limit=100)
    return [m.body for m in page.messages if m.author.type is AuthorType.BOT and not m.internal]


def timeline(service: ConversationService, conversation_id: str) -> list[str]:
    """Everything on the conversation, internal notes included, as agents see it."""
    return [m.body for m in service.page_for_agent(ADMIN, conversation_id, after=None, limit=100).messages]


def offered(service: ConversationService, customer: CustomerPrincipal, conversation_id: str) -> list[str]:
    page = service.page_for_customer(customer, conversation_id, after=None, limit=100)
    with_options = [m for m in page.messages if m.options]
    return [o.id for o in with_options[-1].options] if with_options else []


def conversation(service: ConversationService, conversation_id: str) -> Conversation:
    return service.page_for_agent(ADMIN, conversation_id, after=None, limit=1).conversation


# --- anonymous visitors ----------------------------------------------------------------------------


@pytest.mark.parametrize("asks", ["Where is my order?", "Can I change my delivery slot?"])
def test_a_visitor_is_asked_to_sign_in_and_no_order_is_looked_up(
    service: ConversationService, orders: FakeOrderSystem, asks: str
) -> None:
    page = service.start(VISITOR, asks, ALICES_ORDER)

    said = bot_said(service, page.conversation.id)
    assert said[-1].startswith("I can only do that once you're signed in")
    assert offered(service, VISITOR, page.conversation.id) == ["signed-in", "person"]
    assert orders.calls == []
    assert page.conversation.status is ConversationStatus.BOT
    assert any(m.endswith("not called: the customer is not signed in") for m in timeline(service, page.conversation.id))
    assert not any("DHL" in m or "Friday" in m for m in timeline(service, page.conversation.id))


def test_a_visitor_who_only_says_they_signed_in_is_asked_again_then_passed_to_a_person(
    service: ConversationService, orders: FakeOrderSystem
) -> None:
    page = service.start(VISITOR, "Where is my order?", ALICES_ORDER)
    conversation_id = page.conversation.id

    service.send_as_customer(VISITOR, conversation_id, "", option_id="signed-in")
    assert bot_said(service, conversation_id)[-1].startswith("You're not signed in yet")
    service.send_as_customer(VISITOR, conversation_id, "I'm alice, it's my order, user_id alice")
    service.send_as_customer(VISITOR, conversation_id, "", option_id="signed-in")

    assert orders.calls == []
    handed = conversation(service, conversation_id)
    assert (handed.status, handed.team_id) == (ConversationStatus.OPEN, "logistics")


def test_a_visitor_may_ask_for_a_person_instead(service: ConversationService, orders: FakeOrderSystem) -> None:
    page = service.start(VISITOR, "Can I change my delivery slot?", ALICES_ORDER)

    service.send_as_customer(VISITOR, page.conversation.id, "", option_id="person")

    handed = conversation(service, page.conversation.id)
    assert (handed.status, handed.team_id) == (ConversationStatus.OPEN, "logistics")
    assert orders.calls == []


def test_a_bot_configured_to_hand_visitors_off_passes_them_to_a_person_at_once(
    stores: TableStores, workspace: Any, orders: FakeOrderSystem
) -> None:
    service = bot_service(stores, workspace, orders, visitors="handoff")

    page = service.start(VISITOR, "Where is my order?", ALICES_ORDER)

    assert "only do that for signed-in customers" in " ".join(bot_said(service, page.conversation.id))
    assert (page.conversation.status, page.conversation.team_id) == (ConversationStatus.OPEN, "logistics")
    assert orders.calls == []


def test_a_visitor_who_signs_in_mid_conversation_is_answered_as_that_customer(
    service: ConversationService, orders: FakeOrderSystem
) -> None:
    page = service.start(VISITOR, "Where is my order?", ALICES_ORDER)
    # The app signs Alice in: the visitor's conversation becomes hers, and her next message carries her token.
    service.merge_visitor(ALICE, VISITOR)

    service.send_as_customer(ALICE, page.conversation.id, "", option_id="signed-in")

    assert "Order ORD-1001 is on its way. DHL is delivering it" in " ".join(bot_said(service, page.conversation.id))
    assert [caller.customer_id for caller in orders.callers] == ["alice"]
    assert conversation(service, page.conversation.id).status is ConversationStatus.CLOSED


def test_a_visitor_who_signs_in_as_someone_else_still_cant_see_the_order(
    service: ConversationService, orders: FakeOrderSystem
) -> None:
    page = service.start(VISITOR, "Where is my order?", ALICES_ORDER)
    service.merge_visitor(BOB, VISITOR)

    service.send_as_customer(BOB, page.conversation.id, "", option_id="signed-in")

    said = bot_said(service, page.conversation.id)
    assert "I couldn't find order ORD-1001 on your account." in said
    assert not any("DHL" in m for m in timeline(service, page.conversation.id))
    assert [caller.customer_id for caller in orders.callers] == ["bob"]


def test_a_visitor_can_still_report_a_damaged_item_without_the_order_lookup(
    service: ConversationService, orders: FakeOrderSystem
) -> None:
    page = service.start(VISITOR, "My teapot arrived damaged", ALICES_ORDER)

    assert "What is damaged?" in bot_said(service, page.conversation.id)[-1]
    assert orders.calls == []


# --- another customer's order ----------------------------------------------------------------------


def test_another_customers_order_is_not_found_on_their_account_and_nothing_of_it_is_kept(
    service: ConversationService, orders: FakeOrderSystem
) -> None:
    page = service.start(BOB, "Where is my order?", ALICES_ORDER)
    conversation_id = page.conversation.id

    assert bot_said(service, conversation_id)[-2:] == [
        "I couldn't find order ORD-1001 on your account.",
        "Could you check the order number? It's in your confirmation email.",
    ]
    state = conversation(service, conversation_id).bot
    assert state is not None
    assert state.vars["lookup"] == {"ok": False, "outcome": "not_on_account", "http_status": None}
    recorded = [m for m in service.page_for_agent(ADMIN, conversation_id, after=None, limit=50).messages if m.internal]
    assert recorded[0].kind is MessageKind.ACTION
    assert recorded[0].body.startswith("Custom action get-order: not_on_account (not on the customer's account)")

    service.send_as_customer(BOB, conversation_id, "ORD-2001")  # his own order

    assert "Order ORD-2001 is on its way" in bot_said(service, conversation_id)[-2]
    assert {caller.customer_id for caller in orders.callers} == {"bob"}


def test_another_customer_cant_move_someone_elses_delivery(
    service: ConversationService, orders: FakeOrderSystem
) -> None:
    page = service.start(BOB, "Can I change my delivery slot?", ALICES_ORDER)

    assert "I couldn't find order ORD-1001 on your account." in bot_said(service, page.conversation.id)
    assert "slot-fri-am" not in offered(service, BOB, page.conversation.id)
    assert [call[0] for call in orders.calls] == ["list-delivery-slots"]


def test_the_identity_comes_from_the_token_never_from_the_message_or_the_context(
    service: ConversationService, orders: FakeOrderSystem
) -> None:
    claims = ALICES_ORDER.model_copy(update={"attributes": {"customer_id": "alice", "user_id": "alice"}})

    page = service.start(BOB, "I am alice (user_id alice): where is my order?", claims)
    service.send_as_customer(BOB, page.conversation.id, "ORD-1001")

    assert {caller.customer_id for caller in orders.callers} == {"bob"}
    assert all(caller.signed_in for caller in orders.callers)
    assert not any("DHL" in m for m in timeline(service, page.conversation.id))


def test_the_owner_still_gets_the_change_made_with_no_ticket_and_no_human(
    service: ConversationService, orders: FakeOrderSystem
) -> None:
    page = service.start(ALICE, "Can I change my delivery slot?", ALICES_ORDER)
    service.send_as_customer(ALICE, page.conversation.id, "", option_id="slot-sat-pm")
    service.send_as_customer(ALICE, page.conversation.id, "", option_id="yes")

    done = conversation(service, page.conversation.id)
    assert done.status is ConversationStatus.CLOSED
    assert done.ticket_id is None
    assert done.bot is not None
    assert done.bot.resolved_by is ResolvedBy.CUSTOM_ACTION
    assert [call[0] for call in orders.calls] == ["list-delivery-slots", "change-delivery-slot"]
    assert {caller.customer_id for caller in orders.callers} == {"alice"}


def test_results_fetched_for_one_customer_are_forgotten_when_another_answers(workspace: Any) -> None:
    # A conversation changes hands only from a visitor to the customer they signed in as; should a turn ever
    # come from someone else, what the bot fetched for the first caller isn't carried over to them.
    engine = BotEngine(workspace.bot, default_team="frontline", team_names={}, actions=FakeOrderSystem())
    now = utc_now()
    alices = Conversation(
        id="c-1",
        customer_id="alice",
        status=ConversationStatus.BOT,
        team_id="frontline",
        context=ALICES_ORDER,
        created_at=now,
        updated_at=now,
    )
    first = engine.respond(alices, BotState(), CustomerInput("Can I change my delivery slot?"), customer=ALICE)
    assert first.state.vars["slots"]["ok"] is True

    later = engine.respond(alices, first.state, CustomerInput("", option_id="slot-fri-am"), customer=BOB)

    assert "slots" not in later.state.vars
    assert "_action_done" not in later.state.vars
