"""The bot's waterfall on the demo workspace's paths, with the order system and knowledge base faked.

What the customer sees (the bot's words and quick replies), what agents get (status, team,
capsule, the recorded action calls) and what is stored (tickets, attributes, files) are checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from helpdesk.adapters.store import TableStores
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import (
    Attachment,
    AttachmentRef,
    Author,
    AuthorType,
    BotOutcome,
    ContextPackage,
    ConversationStatus,
    MessageKind,
    PartType,
    ResolvedBy,
    ViewedObject,
    new_id,
    utc_now,
)
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.services.bot import BotEngine
from helpdesk.services.conversations import ConversationService
from helpdesk.services.tickets import TicketService

from tests.support.orders import FakeOrderSystem, Result
from tests.support.principals import ADMIN

ALICE = CustomerPrincipal(user_id="alice", name="Alice", email="alice@example.com")
ORDER_CONTEXT = ContextPackage(
    page_url="https://shop.example/orders/ORD-1001", object=ViewedObject(type="order", id="ORD-1001")
)


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    body: str


@dataclass(frozen=True)
class Hit:
    article: Article


class FakeKnowledge:
    def best_answer(self, query: str, *, locale: str | None = None) -> Hit | None:
        if "return" in query.lower():
            return Hit(Article("returns-policy", "Returns", "You can return anything within 30 days."))
        return None


@pytest.fixture
def orders() -> FakeOrderSystem:
    return FakeOrderSystem()


@pytest.fixture
def bot_conversations(stores: TableStores, workspace: Any, orders: FakeOrderSystem) -> ConversationService:
    engine = BotEngine(
        workspace.bot,
        default_team=workspace.default_team,
        team_names={t.id: t.name for t in workspace.teams},
        knowledge=FakeKnowledge(),
        actions=orders,
    )
    return ConversationService(
        stores.conversations,
        workspace,
        engine,
        TicketService(stores.tickets, stores.conversations, stores.attachments, workspace),
    )


def bot_said(service: ConversationService, conversation_id: str) -> list[str]:
    page = service.page_for_agent(ADMIN, conversation_id, after=None, limit=100)
    return [m.body for m in page.messages if m.author.type is AuthorType.BOT and not m.internal]


def last_options(service: ConversationService, conversation_id: str) -> list[str]:
    page = service.page_for_customer(ALICE, conversation_id, after=None, limit=100)
    offered = [m for m in page.messages if m.options]
    return [o.id for o in offered[-1].options] if offered else []


def test_a_question_the_bot_cant_place_gets_the_greeting_menu_and_something_else_reaches_a_person(
    bot_conversations: ConversationService,
) -> None:
    page = bot_conversations.start(ALICE, "Hello there", None)

    assert page.conversation.status is ConversationStatus.BOT
    said = [m for m in page.messages if m.author.type is AuthorType.BOT]
    assert said[0].body.startswith("Hi Alice!")
    assert [o.id for o in said[-1].options] == [
        "where-is-my-order",
        "change-delivery-slot",
        "damaged-item",
        "something-else",
    ]

    bot_conversations.send_as_customer(ALICE, page.conversation.id, "", option_id="something-else")

    conversation = bot_conversations.page_for_agent(ADMIN, page.conversation.id, after=None, limit=50).conversation
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.team_id == "frontline"
    assert conversation.bot is not None
    assert conversation.bot.outcome is BotOutcome.HANDED_OFF
    assert conversation.capsule is not None
    assert conversation.capsule.open_questions == ["Hello there", "Something else"]
    assert "Frontline" in bot_said(bot_conversations, page.conversation.id)[-1]


def test_a_knowledge_base_answer_that_helped_resolves_the_conversation_without_a_person(
    bot_conversations: ConversationService,
) -> None:
    page = bot_conversations.start(ALICE, "How do returns work?", None)
    kinds = [m.kind for m in page.messages]
    assert MessageKind.KB_ANSWER in kinds
    assert "within 30 days" in next(m.body for m in page.messages if m.kind is MessageKind.KB_ANSWER)
    assert last_options(bot_conversations, page.conversation.id) == ["yes", "no"]

    bot_conversations.send_as_customer(ALICE, page.conversation.id, "yes")

    conversation = bot_conversations.page_for_agent(ADMIN, page.conversation.id, after=None, limit=5).conversation
    assert conversation.status is ConversationStatus.CLOSED
    assert conversation.bot is not None
    assert (conversation.bot.outcome, conversation.bot.resolved_by) == (BotOutcome.RESOLVED, ResolvedBy.KB)


def test_an_answer_that_didnt_help_goes_on_down_the_waterfall(bot_conversations: ConversationService) -> None:
    page = bot_conversations.start(ALICE, "Can I return a gift?", None)
    bot_conversations.send_as_customer(ALICE, page.conversation.id, "", option_id="no")
    assert last_options(bot_conversations, page.conversation.id)[-1] == "something-else"


def test_changing_the_delivery_slot_is_done_by_the_bot_after_the_customer_confirms(
    bot_conversations: ConversationService, orders: FakeOrderSystem, stores: TableStores
) -> None:
    page = bot_conversations.start(ALICE, "Can I change my delivery slot?", ORDER_CONTEXT)
    conversation_id = page.conversation.id
    # The order came from the page the customer was on: not asked again.
    assert last_options(bot_conversations, conversation_id) == ["slot-fri-am", "slot-sat-pm", "none-of-these"]
    assert orders.calls == [("list-delivery-slots", {"order_id": "ORD-1001"}, orders.calls[0][2])]

    bot_conversations.send_as_customer(ALICE, conversation_id, "Saturday 12-18")  # typing the label works too
    assert "Saturday 12-18" in bot_said(bot_conversations, conversation_id)[-1]
    assert [c[0] for c in orders.calls] == ["list-delivery-slots"], "nothing changes before the customer confirms"

    bot_conversations.send_as_customer(ALICE, conversation_id, "", option_id="yes")

    change = orders.calls[-1]
    assert change[:2] == ("change-delivery-slot", {"order_id": "ORD-1001", "slot_id": "slot-sat-pm"})
    assert change[2], "a write carries an idempotency key"
    conversation = bot_conversations.page_for_agent(ADMIN, conversation_id, after=None, limit=50).conversation
    assert conversation.status is ConversationStatus.CLOSED
    assert conversation.ticket_id is None
    assert conversation.bot is not None
    assert conversation.bot.resolved_by is ResolvedBy.CUSTOM_ACTION
    # Agents see every call and its outcome on the timeline; the customer doesn't.
    internal = [
        m for m in bot_conversations.page_for_agent(ADMIN, conversation_id, after=None, limit=50).messages if m.internal
    ]
    assert [m.body.split(":")[0] for m in internal if m.kind is MessageKind.ACTION] == [
        "Custom action list-delivery-slots",
        "Custom action change-delivery-slot",
    ]
    customer_view = bot_conversations.page_for_customer(ALICE, conversation_id, after=None, limit=50).messages
    assert not any(m.kind is MessageKind.ACTION for m in customer_view)


def test_declining_the_confirmation_changes_nothing(
    bot_conversations: ConversationService, orders: FakeOrderSystem
) -> None:
    page = bot_conversations.start(ALICE, "I need to reschedule the delivery", ORDER_CONTEXT)
    bot_conversations.send_as_customer(ALICE, page.conversation.id, "", option_id="slot-fri-am")
    bot_conversations.send_as_customer(ALICE, page.conversation.id, "no")

    assert "change-delivery-slot" not in [c[0] for c in orders.calls]
    assert "haven't changed anything" in " ".join(bot_said(bot_conversations, page.conversation.id))
    assert last_options(bot_conversations, page.conversation.id)[-1] == "something-else"


def test_an_invalid_answer_is_asked_again_and_too_many_hand_the_customer_to_a_person(
    bot_conversations: ConversationService,
) -> None:
    page = bot_conversations.start(ALICE, "Where is my order?", None)
    conversation_id = page.conversation.id
    assert "starts with ORD-" in bot_said(bot_conversations, conversation_id)[-1]

    bot_conversations.send_as_customer(ALICE, conversation_id, "the blue one")
    assert bot_said(bot_conversations, conversation_id)[-1].startswith("I couldn't read that order number")
    bot_conversations.send_as_customer(ALICE, conversation_id, "no idea")
    bot_conversations.send_as_customer(ALICE, conversation_id, "sorry?")

    conversation = bot_conversations.page_for_agent(ADMIN, conversation_id, after=None, limit=50).conversation
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.team_id == "logistics"


def test_an_order_lookup_answers_without_a_ticket_and_a_wrong_number_is_asked_again(
    bot_conversations: ConversationService, orders: FakeOrderSystem
) -> None:
    page = bot_conversations.start(ALICE, "where is my order", None)
    bot_conversations.send_as_customer(ALICE, page.conversation.id, "ord-9999")
    assert bot_said(bot_conversations, page.conversation.id)[-2:] == [
        "I couldn't find order ORD-9999 on your account.",
        "Could you check the order number? It's in your confirmation email.",
    ]
    bot_conversations.send_as_customer(ALICE, page.conversation.id, "ORD-1001")

    said = bot_said(bot_conversations, page.conversation.id)
    assert "Order ORD-1001 is on its way. DHL is delivering it (tracking number JD0001)" in said[-2]
    conversation = bot_conversations.page_for_agent(ADMIN, page.conversation.id, after=None, limit=50).conversation
    assert conversation.status is ConversationStatus.CLOSED
    assert conversation.ticket_id is None


def test_a_failing_order_system_never_leaves_the_customer_stuck(
    bot_conversations: ConversationService, orders: FakeOrderSystem
) -> None:
    orders.failing = True
    page = bot_conversations.start(ALICE, "Please change my delivery slot", ORDER_CONTEXT)

    assert any("couldn't reach our systems" in m.body for m in page.messages)
    conversation = page.conversation
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.team_id == "logistics"
    recorded = [
        m
        for m in bot_conversations.page_for_agent(ADMIN, conversation.id, after=None, limit=50).messages
        if m.kind is MessageKind.ACTION
    ]
    assert "timeout (no answer in 2 s) (3 attempts, 6000 ms)" in recorded[0].body


def photo(stores: TableStores, owner: str = "alice") -> AttachmentRef:
    attachment = Attachment(
        id=new_id(),
        filename="lid.jpg",
        content_type="image/jpeg",
        size=2048,
        customer_id=owner,
        uploaded_by=Author(type=AuthorType.CUSTOMER, id=owner),
        created_at=utc_now(),
    )
    stores.attachments.create_attachment(attachment)
    return AttachmentRef(id=attachment.id, filename="lid.jpg", content_type="image/jpeg", size=2048)


def test_a_damaged_item_ends_in_a_ticket_with_every_attribute_the_photo_and_the_context(
    bot_conversations: ConversationService, stores: TableStores, workspace: Any
) -> None:
    page = bot_conversations.start(ALICE, "My teapot arrived damaged", ORDER_CONTEXT)
    conversation_id = page.conversation.id
    assert "What is damaged?" in bot_said(bot_conversations, conversation_id)[-1]

    bot_conversations.send_as_customer(ALICE, conversation_id, "The lid is cracked in two")
    bot_conversations.send_as_customer(ALICE, conversation_id, "here it is")  # no photo attached
    assert "paperclip" in bot_said(bot_conversations, conversation_id)[-1]
    bot_conversations.send_as_customer(ALICE, conversation_id, "", [photo(stores)])
    bot_conversations.send_as_customer(ALICE, conversation_id, "", option_id="replacement")

    conversation = bot_conversations.page_for_agent(ADMIN, conversation_id, after=None, limit=50).conversation
    assert conversation.ticket_id is not None
    assert conversation.status is ConversationStatus.CLOSED
    ticket, timeline, _ = stores.tickets.ticket_page(conversation.ticket_id, before=None, limit=50)
    assert ticket is not None
    ticket_type = workspace.ticket_type("damaged-item")
    assert ticket.ticket_type_id == "damaged-item"
    assert ticket.team_id == "returns"
    assert set(ticket.attributes) == {a.id for a in ticket_type.attributes}
    ticket_type.validate_attributes(ticket.attributes, creating=True)
    assert ticket.attributes["order_id"] == "ORD-1001"
    assert ticket.attributes["carrier_ref"] == "DHL JD0001"
    assert ticket.context == ORDER_CONTEXT
    assert ticket.created_by.type is AuthorType.BOT
    files = [p for p in timeline if p.type is PartType.ATTACHMENT]
    assert [a.filename for p in files for a in p.attachments] == ["lid.jpg"]
    assert f"ticket #{ticket.number}" in bot_said(bot_conversations, conversation_id)[-1]


def test_only_an_offered_option_can_be_picked(bot_conversations: ConversationService) -> None:
    page = bot_conversations.start(ALICE, "Hi", None)
    with pytest.raises(InvalidInput) as refused:
        bot_conversations.send_as_customer(ALICE, page.conversation.id, "", option_id="refund-everything")
    assert refused.value.problems[0][0] == "option_id"
    assert "something-else" in refused.value.problems[0][1]


def test_after_the_hand_off_the_bot_stays_quiet(bot_conversations: ConversationService) -> None:
    page = bot_conversations.start(ALICE, "I want to speak to a human", None)
    before = bot_said(bot_conversations, page.conversation.id)
    bot_conversations.send_as_customer(ALICE, page.conversation.id, "Are you there?")
    assert bot_said(bot_conversations, page.conversation.id) == before


def test_an_agent_answering_takes_the_conversation_over_from_the_bot(bot_conversations: ConversationService) -> None:
    from helpdesk.domain.principals import AgentPrincipal

    page = bot_conversations.start(ALICE, "Hi", None)
    frank = AgentPrincipal(id="agent-frank", name="Frank", teams=frozenset({"frontline"}))
    bot_conversations.reply_as_agent(frank, page.conversation.id, "Hi Alice, Frank here.", internal=False)
    before = bot_said(bot_conversations, page.conversation.id)

    bot_conversations.send_as_customer(ALICE, page.conversation.id, "Thanks Frank")

    conversation = bot_conversations.page_for_agent(ADMIN, page.conversation.id, after=None, limit=50).conversation
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.assignee_id == "agent-frank"
    assert bot_said(bot_conversations, page.conversation.id) == before


@pytest.mark.parametrize("outcome", ["failed", "invalid_response", "unreachable", "timeout"])
def test_any_failing_call_is_said_and_handed_off_never_left_hanging(
    stores: TableStores, workspace: Any, outcome: str
) -> None:
    class Broken:
        def requires_signed_in_customer(self, action_id: str) -> bool:
            return True

        def run(self, action_id: str, inputs: dict[str, Any], *, caller: Any, idempotency_key: str | None) -> Result:
            return Result(action_id, outcome, status=503 if outcome == "failed" else None, error=f"{outcome} here")

    engine = BotEngine(
        workspace.bot,
        default_team=workspace.default_team,
        team_names={t.id: t.name for t in workspace.teams},
        actions=Broken(),
    )
    service = ConversationService(
        stores.conversations,
        workspace,
        engine,
        TicketService(stores.tickets, stores.conversations, stores.attachments, workspace),
    )
    page = service.start(ALICE, "I need a different delivery slot", ORDER_CONTEXT)
    assert page.conversation.status is ConversationStatus.OPEN
    assert page.conversation.team_id == "logistics"
    assert any("couldn't reach our systems" in m.body for m in page.messages)


SMALL_BOT = """
name: Helper
menu: [returns]
paths:
  - id: returns
    label: Returns
    match: [return]
    team: returns
    steps:
      - id: faq
        answer_from_kb: "{text}"
        if_not_helpful: amount
      - id: amount
        ask: How much was it?
        attribute: amount
        type: decimal
      - id: big
        branch:
          - when: {var: amount, one_of: ["250", "500"]}
            goto: person
        otherwise: ticket
      - id: ticket
        create_ticket: refund-request
        attributes: {order_id: ORD-1, amount: "{amount}", reason: changed-mind}
      - id: person
        handoff: billing
        when_nobody_online: ticket
        ticket_type: refund-request
"""


def small_bot(stores: TableStores, workspace: Any) -> ConversationService:
    import yaml
    from helpdesk.domain.bot import BotConfig

    config = BotConfig.model_validate(yaml.safe_load(SMALL_BOT))
    engine = BotEngine(
        config,
        default_team=workspace.default_team,
        team_names={t.id: t.name for t in workspace.teams},
        knowledge=FakeKnowledge(),
    )
    return ConversationService(
        stores.conversations,
        workspace,
        engine,
        TicketService(stores.tickets, stores.conversations, stores.attachments, workspace),
    )


def test_a_path_can_answer_from_the_kb_then_collect_branch_and_open_a_ticket(
    stores: TableStores, workspace: Any
) -> None:
    service = small_bot(stores, workspace)
    page = service.start(ALICE, "How do I return this?", None)
    assert any(m.kind is MessageKind.KB_ANSWER for m in page.messages)
    service.send_as_customer(ALICE, page.conversation.id, "no")
    assert bot_said(service, page.conversation.id)[-1] == "How much was it?"
    service.send_as_customer(ALICE, page.conversation.id, "a lot")
    assert bot_said(service, page.conversation.id)[-1].startswith("Please answer with a number")
    service.send_as_customer(ALICE, page.conversation.id, "12,50")

    conversation = service.page_for_agent(ADMIN, page.conversation.id, after=None, limit=50).conversation
    assert conversation.ticket_id is not None
    ticket = stores.tickets.get_ticket(conversation.ticket_id)
    assert ticket is not None
    assert ticket.attributes["amount"] == "12.50"


def test_with_nobody_of_the_team_online_a_hand_off_opens_a_ticket(stores: TableStores, workspace: Any) -> None:
    service = small_bot(stores, workspace)
    page = service.start(ALICE, "I want to return my order", None)
    service.send_as_customer(ALICE, page.conversation.id, "no")
    service.send_as_customer(ALICE, page.conversation.id, "250")

    conversation = service.page_for_agent(ADMIN, page.conversation.id, after=None, limit=50).conversation
    assert conversation.bot is not None
    assert conversation.bot.resolved_by is ResolvedBy.TICKET


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("office_hours: true", "goto: nowhere", "goes to 'nowhere', which is not a step"),
        ("office_hours: true", "say: hi", "exactly one of"),
        ("handoff: frontline", "handoff: nobody", "team 'nobody' is not one of the workspace's teams"),
        ("custom_action: get-order", "custom_action: launch-rocket", "custom action 'launch-rocket' is not declared"),
    ],
)
def test_a_broken_bot_file_is_refused_naming_the_problem(tmp_path: Any, old: str, new: str, problem: str) -> None:
    import re
    import shutil

    from helpdesk.adapters.workspace_files import WorkspaceConfigError, load_workspace

    from tests.support.workspaces import DEMO_WORKSPACE

    target = tmp_path / "demo"
    shutil.copytree(DEMO_WORKSPACE, target)
    bot = (target / "bot.yaml").read_text()
    assert old in bot
    (target / "bot.yaml").write_text(bot.replace(old, new, 1))
    with pytest.raises(WorkspaceConfigError, match=re.escape(problem)):
        load_workspace(target)
