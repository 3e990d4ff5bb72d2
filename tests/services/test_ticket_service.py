"""Tickets against moto's DynamoDB: convert, create, change, reply, views, versions."""

from __future__ import annotations

import threading

import pytest
from helpdesk.adapters.store import TableStores
from helpdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, VersionConflict
from helpdesk.domain.models import PartType, Priority
from helpdesk.domain.workspace import StateCategory
from helpdesk.services.conversations import ConversationService
from helpdesk.services.tickets import NewTicket, TicketChanges, TicketService

from tests.conftest import DynamoCalls
from tests.support.principals import ADMIN, ALICE, BOB, FRONTLINE_AGENT, ORDER_CONTEXT, RETURNS_AGENT, RETURNS_AGENT_2

DAMAGED = NewTicket(
    ticket_type_id="damaged-item",
    team_id="returns",
    attributes={"description": "The lid is cracked", "carrier_ref": "CLM-9"},
)


@pytest.fixture
def converted(conversations: ConversationService, tickets: TicketService):
    started = conversations.start(ALICE, "My parcel arrived damaged", ORDER_CONTEXT)
    ticket = tickets.convert_conversation(FRONTLINE_AGENT, started.conversation.id, DAMAGED)
    return started.conversation.id, ticket


def test_converting_a_conversation_opens_a_ticket_the_customer_is_told_about(
    conversations: ConversationService, tickets: TicketService, converted
) -> None:
    conversation_id, ticket = converted

    # The ticket is in its first submitted state, for the returns team, with the order from the context
    assert ticket.state_id == "received"
    assert ticket.state_category is StateCategory.SUBMITTED
    assert ticket.team_id == "returns"
    assert ticket.attributes["order_id"] == "ORD-1001"
    assert ticket.context == ORDER_CONTEXT
    assert ticket.conversation_id == conversation_id
    assert ticket.customer_id == "alice"
    assert ticket.number >= 1

    # The conversation links to it, and the customer reads its number there
    page = conversations.page_for_customer(ALICE, conversation_id, after=None, limit=50)
    assert page.conversation.ticket_id == ticket.id
    assert f"#{ticket.number}" in page.messages[-1].body

    # The customer sees it in their tickets, with a customer-visible "opened" entry
    mine = tickets.list_for_customer(ALICE, cursor=None, limit=10)
    assert [t.id for t in mine.items] == [ticket.id]
    detail = tickets.page_for_customer(ALICE, ticket.id, before=None, limit=50)
    assert [p.type for p in detail.timeline] == [PartType.CREATED]


def test_a_conversation_is_converted_only_once(tickets: TicketService, converted) -> None:
    conversation_id, _ = converted
    with pytest.raises(Conflict):
        tickets.convert_conversation(FRONTLINE_AGENT, conversation_id, DAMAGED)


@pytest.mark.usefixtures("serializable_moto")
def test_ticket_numbers_are_unique_and_increasing(tickets: TicketService) -> None:
    request = NewTicket(
        ticket_type_id="refund-request", attributes={"order_id": "O1", "amount": "9.99", "reason": "charged-twice"}
    )
    numbers: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        try:
            ticket = tickets.create(RETURNS_AGENT, request)
        except Exception as error:  # a thread's error would otherwise only be a warning
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
            return
        with lock:
            numbers.append(ticket.number)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + 8))


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({}, "attributes.description"),
        ({"description": 42}, "attributes.description"),
        ({"description": "ok", "resolution": "a-pony"}, "attributes.resolution"),
        ({"description": "ok", "photos": "not-a-list"}, "attributes.photos"),
        ({"description": "ok", "colour": "red"}, "attributes.colour"),
    ],
)
def test_invalid_attributes_are_refused_naming_the_field_and_nothing_is_stored(
    conversations: ConversationService, tickets: TicketService, attributes: dict, field: str
) -> None:
    started = conversations.start(ALICE, "broken", ORDER_CONTEXT)
    request = NewTicket(ticket_type_id="damaged-item", attributes=attributes)

    with pytest.raises(InvalidInput) as refused:
        tickets.convert_conversation(FRONTLINE_AGENT, started.conversation.id, request)

    assert field in [f for f, _ in refused.value.problems]
    assert tickets.list_for_customer(ALICE, cursor=None, limit=10).items == []
    page = conversations.page_for_customer(ALICE, started.conversation.id, after=None, limit=10)
    assert page.conversation.ticket_id is None


def test_unknown_type_or_team_is_refused(conversations: ConversationService, tickets: TicketService) -> None:
    started = conversations.start(ALICE, "hi", None)
    with pytest.raises(InvalidInput) as unknown_type:
        tickets.convert_conversation(FRONTLINE_AGENT, started.conversation.id, NewTicket(ticket_type_id="nope"))
    assert unknown_type.value.problems[0][0] == "ticket_type_id"

    bad_team = DAMAGED.model_copy(update={"team_id": "marketing"})
    with pytest.raises(InvalidInput) as unknown_team:
        tickets.convert_conversation(FRONTLINE_AGENT, started.conversation.id, bad_team)
    assert unknown_team.value.problems[0][0] == "team_id"


def test_the_customer_never_sees_internal_attributes_notes_or_other_customers_tickets(
    tickets: TicketService, converted
) -> None:
    _, ticket = converted
    tickets.reply(RETURNS_AGENT, ticket.id, "NOTE-MARKER check the carrier", internal=True)
    tickets.reply(RETURNS_AGENT, ticket.id, "Sorry about that! A replacement is coming.", internal=False)

    detail = tickets.page_for_customer(ALICE, ticket.id, before=None, limit=50)

    bodies = [p.body for p in detail.timeline]
    assert "Sorry about that! A replacement is coming." in bodies
    assert all("NOTE-MARKER" not in (b or "") for b in bodies)
    with pytest.raises(NotFound):
        tickets.page_for_customer(BOB, ticket.id, before=None, limit=50)
    agent_detail = tickets.page_for_agent(ADMIN, ticket.id, before=None, limit=50)
    assert any(p.body == "NOTE-MARKER check the carrier" for p in agent_detail.timeline)


def test_changing_state_records_who_and_moves_the_ticket_between_views(tickets: TicketService, converted) -> None:
    _, ticket = converted

    updated = tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(state_id="assessing"), version=ticket.version)

    assert updated.state_category is StateCategory.IN_PROGRESS
    assert updated.version == ticket.version + 1
    submitted = tickets.inbox(
        RETURNS_AGENT,
        team_id="returns",
        category=StateCategory.SUBMITTED,
        assignee_id=None,
        ticket_type_id=None,
        cursor=None,
        limit=10,
    )
    in_progress = tickets.inbox(
        RETURNS_AGENT,
        team_id="returns",
        category=StateCategory.IN_PROGRESS,
        assignee_id=None,
        ticket_type_id=None,
        cursor=None,
        limit=10,
    )
    assert ticket.id not in [t.id for t in submitted.items]
    assert [t.id for t in in_progress.items] == [ticket.id]
    timeline = tickets.page_for_agent(ADMIN, ticket.id, before=None, limit=50).timeline
    change = timeline[-1]
    assert change.type is PartType.STATE_CHANGE
    assert change.author.id == RETURNS_AGENT.id
    assert change.changes == {"from": "received", "to": "assessing", "category": "in_progress"}


def test_a_state_of_another_type_is_refused(tickets: TicketService, converted) -> None:
    _, ticket = converted
    with pytest.raises(InvalidInput) as refused:
        tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(state_id="need-info"), version=ticket.version)
    assert refused.value.problems[0][0] == "state_id"
    assert tickets.page_for_agent(ADMIN, ticket.id, before=None, limit=5).ticket.state_id == "received"


def test_assignment_priority_and_attributes_are_validated_and_recorded(tickets: TicketService, converted) -> None:
    _, ticket = converted

    updated = tickets.update(
        RETURNS_AGENT,
        ticket.id,
        TicketChanges(assignee_id=RETURNS_AGENT.id, priority=Priority.HIGH, attributes={"resolution": "refund"}),
        version=ticket.version,
    )

    assert updated.assignee_id == RETURNS_AGENT.id
    assert updated.priority is Priority.HIGH
    assert updated.attributes["resolution"] == "refund"
    mine = tickets.inbox(
        RETURNS_AGENT, team_id=None, category=None, assignee_id="me", ticket_type_id=None, cursor=None, limit=10
    )
    assert [t.id for t in mine.items] == [ticket.id]
    with pytest.raises(InvalidInput):
        tickets.update(
            RETURNS_AGENT, ticket.id, TicketChanges(attributes={"description": None}), version=updated.version
        )


def test_two_agents_updating_from_the_same_version_one_wins_one_gets_a_conflict(
    tickets: TicketService, converted
) -> None:
    _, ticket = converted

    first = tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(priority=Priority.URGENT), version=ticket.version)
    with pytest.raises(VersionConflict) as conflict:
        tickets.update(RETURNS_AGENT_2, ticket.id, TicketChanges(state_id="assessing"), version=ticket.version)

    assert conflict.value.current_version == first.version
    current = tickets.page_for_agent(ADMIN, ticket.id, before=None, limit=50).ticket
    assert current.priority is Priority.URGENT
    assert current.state_id == "received"


@pytest.mark.usefixtures("serializable_moto")
def test_concurrent_updates_never_lose_a_write(tickets: TicketService, converted) -> None:
    _, ticket = converted
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def attempt(agent, changes) -> None:
        barrier.wait()
        try:
            tickets.update(agent, ticket.id, changes, version=ticket.version)
            result = "ok"
        except VersionConflict:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=attempt, args=(RETURNS_AGENT, TicketChanges(priority=Priority.HIGH))),
        threading.Thread(target=attempt, args=(RETURNS_AGENT_2, TicketChanges(state_id="assessing"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict", "ok"]
    current = tickets.page_for_agent(ADMIN, ticket.id, before=None, limit=50)
    assert current.ticket.version == ticket.version + 1
    assert len([p for p in current.timeline if p.type is not PartType.CREATED]) == 1


def test_agents_of_other_teams_cannot_change_the_ticket_but_admins_can(tickets: TicketService, converted) -> None:
    _, ticket = converted
    with pytest.raises(Forbidden):
        tickets.update(FRONTLINE_AGENT, ticket.id, TicketChanges(priority=Priority.LOW), version=ticket.version)
    with pytest.raises(Forbidden):
        tickets.reply(FRONTLINE_AGENT, ticket.id, "hi", internal=False)

    updated = tickets.update(ADMIN, ticket.id, TicketChanges(priority=Priority.LOW), version=ticket.version)
    assert updated.priority is Priority.LOW


def test_a_reply_is_kept_even_when_the_ticket_changed_meanwhile(tickets: TicketService, converted) -> None:
    _, ticket = converted
    tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(priority=Priority.HIGH), version=ticket.version)

    tickets.reply(RETURNS_AGENT_2, ticket.id, "On it", internal=False)

    timeline = tickets.page_for_customer(ALICE, ticket.id, before=None, limit=50).timeline
    assert timeline[-1].body == "On it"


def test_inbox_views_are_one_query_per_page(tickets: TicketService, converted, dynamo_calls: DynamoCalls) -> None:
    for view in (
        {"team_id": "returns", "category": StateCategory.SUBMITTED},
        {"assignee_id": "unassigned"},
        {"ticket_type_id": "damaged-item"},
    ):
        dynamo_calls.reset()
        arguments = {"team_id": None, "category": None, "assignee_id": None, "ticket_type_id": None} | view
        page = tickets.inbox(RETURNS_AGENT, cursor=None, limit=10, **arguments)  # type: ignore[arg-type]
        assert [t.id for t in page.items] == [converted[1].id]
        assert dynamo_calls.operations == ["Query"], view


def test_a_ticket_created_directly_without_customer_is_back_office(tickets: TicketService) -> None:
    ticket = tickets.create(
        RETURNS_AGENT,
        NewTicket(ticket_type_id="delivery-problem", attributes={"order_id": "O-7", "problem": "lost"}),
    )
    assert ticket.customer_id is None
    assert ticket.team_id == "logistics"
    assert tickets.list_for_customer(ALICE, cursor=None, limit=10).items == []


def test_rating_a_ticket_moves_its_version_on_never_back(tickets: TicketService, stores: TableStores) -> None:
    from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
    from helpdesk.services.tickets import NewTicket, TicketChanges

    agent = AgentPrincipal(id="agent-rita", teams=frozenset({"returns"}))
    ticket = tickets.create(
        agent,
        NewTicket(
            ticket_type_id="damaged-item", customer_id="alice", attributes={"order_id": "O-1", "description": "x"}
        ),
    )
    resolved = tickets.update(agent, ticket.id, TicketChanges(state_id="replaced"), version=ticket.version)
    tickets.rate(CustomerPrincipal(user_id="alice"), ticket.id, 5, None)
    rated = stores.tickets.get_ticket(ticket.id)
    assert rated is not None
    assert rated.version == resolved.version + 1
