"""Many people acting on one ticket and one conversation at once: nothing lost, nothing doubled,
every sender's messages in the order they were sent. moto's writes are serialized the way DynamoDB
serializes them (``serializable_moto``); our code must do the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from helpdesk.adapters.store import TableStores
from helpdesk.domain.errors import VersionConflict
from helpdesk.domain.models import PartType, Priority
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.services.conversations import ConversationService
from helpdesk.services.tickets import NewTicket, TicketChanges, TicketService

from tests.support.principals import ADMIN

ALICE = CustomerPrincipal(user_id="alice", name="Alice")
AGENTS = [AgentPrincipal(id=f"agent-{i}", teams=frozenset({"returns"})) for i in range(4)]


def together(*work: Callable[[], Any]) -> list[BaseException]:
    """Run every callable in its own thread, all released at once; returns what they raised."""
    gate = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        gate.wait()
        try:
            job()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_agents_and_the_customer_on_one_ticket_lose_nothing_and_double_nothing(
    tickets: TicketService, stores: TableStores, serializable_moto: None
) -> None:
    ticket = tickets.create(
        AGENTS[0],
        NewTicket(
            ticket_type_id="damaged-item", customer_id="alice", attributes={"order_id": "O-1", "description": "x"}
        ),
    )
    replies = [lambda i=i: tickets.reply(AGENTS[i], ticket.id, f"agent reply {i}", internal=False) for i in range(4)]
    customer = [lambda i=i: tickets.reply_as_customer(ALICE, ticket.id, f"customer reply {i}") for i in range(2)]
    raise_it = [
        lambda: tickets.update(AGENTS[1], ticket.id, TicketChanges(priority=Priority.HIGH), version=ticket.version)
    ]

    errors = together(*replies, *customer, *raise_it)

    assert all(isinstance(e, VersionConflict) for e in errors), errors
    _, timeline, _ = stores.tickets.ticket_page(ticket.id, before=None, limit=100)
    said = sorted(p.body or "" for p in timeline if p.type is PartType.REPLY)
    assert said == sorted([f"agent reply {i}" for i in range(4)] + [f"customer reply {i}" for i in range(2)])
    assert len({p.id for p in timeline}) == len(timeline)
    stored = stores.tickets.get_ticket(ticket.id)
    assert stored is not None
    priority_changed = not errors
    assert (stored.priority is Priority.HIGH) == priority_changed
    # Every write that went through moved the version by exactly one: none overwrote another.
    assert stored.version == ticket.version + 6 + int(priority_changed)


def test_messages_sent_at_once_are_all_kept_each_sender_in_order(
    conversations: ConversationService, stores: TableStores, serializable_moto: None
) -> None:
    page = conversations.start(ALICE, "first", None)
    conversation_id = page.conversation.id
    agent = AgentPrincipal(id="agent-frank", teams=frozenset({"frontline"}))  # new conversations go to frontline

    def customer_burst() -> None:
        for n in range(12):
            conversations.send_as_customer(ALICE, conversation_id, f"customer {n}")

    def agent_burst() -> None:
        for n in range(12):
            conversations.reply_as_agent(agent, conversation_id, f"agent {n}", internal=False)

    assert together(customer_burst, agent_burst) == []

    messages = conversations.page_for_agent(ADMIN, conversation_id, after=None, limit=100).messages
    bodies = [m.body for m in messages]
    for who in ("customer", "agent"):
        mine = [b for b in bodies if b.startswith(who)]
        assert mine == [f"{who} {n}" for n in range(12)], f"{who}'s messages lost, doubled or out of order"
    assert len({m.id for m in messages}) == len(messages) == 25
