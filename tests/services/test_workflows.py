"""The workflow's rules: clocks, breach escalation, reminders, auto-resolution and approvals.

Time is passed in, so days of SLA pass in a test; the state machine's own timing is tested on moto
in ``tests/e2e``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from helpdesk.adapters.store import TableStores
from helpdesk.domain.errors import Conflict, Forbidden
from helpdesk.domain.models import ApprovalStatus, PartType, Priority, Ticket, utc_now
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.roles import Role
from helpdesk.domain.workspace import StateCategory, Workspace
from helpdesk.services.tickets import NewTicket, TicketChanges, TicketService
from helpdesk.services.workflows import TicketWorkflowService

RITA = AgentPrincipal(id="agent-rita", name="Rita", teams=frozenset({"returns"}))
BEA = AgentPrincipal(id="agent-bea", name="Bea", teams=frozenset({"billing"}), role=Role.LEAD)
BILL = AgentPrincipal(id="agent-bill", name="Bill", teams=frozenset({"billing"}))


@dataclass
class FakeEngine:
    started: list[tuple[str, str]] = field(default_factory=list)
    completed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    heartbeats: list[str] = field(default_factory=list)
    waiting: set[str] | None = None
    """Tokens still waiting (None: every token is)."""

    def start(self, workflow: str, execution_name: str, payload: dict[str, Any]) -> bool:
        if any(name == execution_name for _, name in self.started):
            return False
        self.started.append((workflow, execution_name))
        return True

    def complete(self, token: str, output: dict[str, Any]) -> bool:
        self.completed.append((token, output))
        return True

    def heartbeat(self, token: str) -> bool:
        self.heartbeats.append(token)
        return self.waiting is None or token in self.waiting


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def flows(stores: TableStores, workspace: Workspace, tickets: TicketService, engine: FakeEngine) -> Any:
    return TicketWorkflowService(stores.tickets, workspace, tickets, engine, stores.parked_workflows)


def damaged(tickets: TicketService) -> Ticket:
    return tickets.create(
        RITA,
        NewTicket(
            ticket_type_id="damaged-item",
            customer_id="alice",
            attributes={"order_id": "ORD-1001", "description": "Lid cracked"},
        ),
    )


def parts(stores: TableStores, ticket_id: str) -> list[Any]:
    return stores.tickets.ticket_page(ticket_id, before=None, limit=100)[1]


def test_a_ticket_starts_one_workflow_of_its_type_however_often_asked(
    flows: TicketWorkflowService, tickets: TicketService, engine: FakeEngine
) -> None:
    ticket = damaged(tickets)
    assert flows.start_for(ticket.id) is True
    assert flows.start_for(ticket.id) is False
    assert engine.started == [("standard", ticket.id)]


def test_the_check_waits_for_the_next_deadline_and_a_breach_raises_the_priority_once(
    flows: TicketWorkflowService, tickets: TicketService, stores: TableStores
) -> None:
    ticket = damaged(tickets)
    first = flows.check(ticket.id, now=ticket.created_at)
    assert first["resolved"] is False
    assert first["wait_seconds"] > 0
    wake = datetime.fromisoformat(first["wake_at"].replace("Z", "+00:00"))
    assert wake > ticket.created_at

    much_later = ticket.created_at + timedelta(days=30)
    flows.check(ticket.id, now=much_later)
    flows.check(ticket.id, now=much_later + timedelta(minutes=1))

    after = stores.tickets.get_ticket(ticket.id)
    assert after is not None
    assert after.priority is Priority.HIGH
    breaches = [p for p in parts(stores, ticket.id) if p.type is PartType.SLA_BREACHED]
    assert sorted(p.changes["clock"] for p in breaches) == ["first_response", "resolution"]
    assert not any(p.visible_to_customer for p in breaches)
    clocks = tickets.clocks(after)
    assert clocks is not None
    assert clocks.clock("first_response").breached_at is not None  # type: ignore[union-attr]


def test_waiting_on_the_customer_pauses_the_resolution_clock_and_their_reply_resumes_it(
    tickets: TicketService, stores: TableStores
) -> None:
    from helpdesk.domain.principals import CustomerPrincipal

    ticket = damaged(tickets)
    assert ticket.sla_due_at is not None
    waiting = tickets.update(RITA, ticket.id, TicketChanges(state_id="awaiting-photos"), version=ticket.version)
    assert waiting.sla_due_at is None, "paused: nothing is due while we wait on the customer"
    assert waiting.waiting_since is not None

    tickets.reply_as_customer(CustomerPrincipal(user_id="alice"), ticket.id, "Photos attached")

    resumed = stores.tickets.get_ticket(ticket.id)
    assert resumed is not None
    assert resumed.state_category is StateCategory.IN_PROGRESS
    assert resumed.sla_due_at is not None
    assert resumed.sla_due_at >= ticket.sla_due_at


def test_a_silent_customer_is_reminded_once_then_the_ticket_closes(
    flows: TicketWorkflowService, tickets: TicketService, stores: TableStores
) -> None:
    ticket = damaged(tickets)
    waiting = tickets.update(RITA, ticket.id, TicketChanges(state_id="awaiting-photos"), version=ticket.version)
    assert waiting.waiting_since is not None
    since = waiting.waiting_since

    flows.check(ticket.id, now=since + timedelta(days=2, minutes=1))
    flows.check(ticket.id, now=since + timedelta(days=3))
    reminders = [p for p in parts(stores, ticket.id) if p.type is PartType.REMINDER]
    assert len(reminders) == 1
    assert reminders[0].visible_to_customer
    assert f"#{ticket.number}" in (reminders[0].body or "")

    result = flows.check(ticket.id, now=since + timedelta(days=7, minutes=1))

    closed = stores.tickets.get_ticket(ticket.id)
    assert closed is not None
    assert closed.state_id == "closed-no-reply"
    assert result["resolved"] is True


def refund(tickets: TicketService, amount: str) -> Ticket:
    return tickets.create(
        BEA,
        NewTicket(
            ticket_type_id="refund-request",
            customer_id="alice",
            attributes={"order_id": "ORD-1002", "amount": amount, "reason": "charged-twice"},
        ),
    )


def test_a_refund_above_the_limit_waits_for_a_specialist_whose_decision_the_workflow_applies(
    flows: TicketWorkflowService, tickets: TicketService, stores: TableStores, engine: FakeEngine
) -> None:
    small, large = refund(tickets, "40"), refund(tickets, "250.00")
    assert flows.check(small.id)["approval_needed"] is False
    assert flows.check(large.id)["approval_needed"] is True

    flows.request_approval(large.id, "token-approval")
    with pytest.raises(Forbidden):
        flows.decide(RITA, large.id, approve=True, note=None)  # another team's lead or agent: no
    with pytest.raises(Forbidden):
        flows.decide(BILL, large.id, approve=True, note=None)  # the team's agent, not its lead: no
    decided = flows.decide(BEA, large.id, approve=True, note="Double charge confirmed")
    assert decided.approval is not None
    assert decided.approval.status is ApprovalStatus.APPROVED
    assert engine.completed == [("token-approval", {"decision": "approved"})]
    with pytest.raises(Conflict):
        flows.decide(BEA, large.id, approve=False, note=None)

    flows.apply_decision(large.id, "approved")
    flows.apply_decision(large.id, "approved")  # a redelivered task changes nothing more

    after = stores.tickets.get_ticket(large.id)
    assert after is not None
    assert after.state_id == "approved"
    assert flows.check(large.id)["approval_needed"] is False
    changes = [p for p in parts(stores, large.id) if p.type is PartType.STATE_CHANGE]
    assert len(changes) == 1


def test_parking_keeps_the_token_unless_the_ticket_moved_since_the_check(
    flows: TicketWorkflowService, tickets: TicketService, stores: TableStores, engine: FakeEngine
) -> None:
    ticket = damaged(tickets)
    checked = flows.check(ticket.id, now=utc_now())
    flows.park(ticket.id, "token-1", checked["version"])
    parked = stores.tickets.get_ticket(ticket.id)
    assert parked is not None
    assert parked.workflow_token == "token-1"
    assert parked.version == ticket.version, "keeping the token is not a change to the ticket"

    tickets.update(RITA, ticket.id, TicketChanges(priority=Priority.HIGH), version=parked.version)
    flows.park(ticket.id, "token-2", checked["version"])
    assert engine.completed == [("token-2", {"woken_by": "a change during the check"})]


def test_a_long_wait_gets_heartbeats_until_its_workflow_no_longer_waits_on_the_token(
    flows: TicketWorkflowService, tickets: TicketService, stores: TableStores, engine: FakeEngine
) -> None:
    # Given two tickets parked on long waits (heartbeats expected) and one on a short wait
    long_waits = [damaged(tickets) for _ in range(2)]
    short_wait = damaged(tickets)
    for number, ticket in enumerate(long_waits):
        flows.park(ticket.id, f"long-{number}", ticket.version, watched=True)
    flows.park(short_wait.id, "short", short_wait.version, watched=False)

    # When the scheduled round runs, Then each long wait's token gets its heartbeat, the short one none
    assert flows.keep_parked_alive() == (0, None)
    assert sorted(engine.heartbeats) == ["long-0", "long-1"]

    # When one workflow no longer waits on its token (it was woken, or it ended)
    engine.waiting, engine.heartbeats = {"long-1"}, []
    assert flows.keep_parked_alive() == (1, None)
    # Then that token is forgotten, and the next round leaves it alone
    gone = stores.tickets.get_ticket(long_waits[0].id)
    assert gone is not None
    assert gone.workflow_token is None
    assert gone.version == long_waits[0].version, "forgetting a token is not a change to the ticket"
    engine.heartbeats = []
    flows.keep_parked_alive()
    assert engine.heartbeats == ["long-1"]


def test_a_parked_ticket_moved_to_a_short_wait_leaves_the_heartbeat_round(
    flows: TicketWorkflowService, tickets: TicketService, engine: FakeEngine
) -> None:
    ticket = damaged(tickets)
    flows.park(ticket.id, "long", ticket.version, watched=True)
    flows.park(ticket.id, "short", ticket.version, watched=False)
    flows.keep_parked_alive()
    assert engine.heartbeats == []


def test_a_round_bigger_than_one_task_says_where_to_go_on(
    flows: TicketWorkflowService, tickets: TicketService, engine: FakeEngine
) -> None:
    parked = [damaged(tickets) for _ in range(5)]
    for number, ticket in enumerate(parked):
        flows.park(ticket.id, f"token-{number}", ticket.version, watched=True)

    rounds, cursor = 0, None
    while True:
        _, cursor = flows.keep_parked_alive(cursor, budget=2)
        rounds += 1
        if cursor is None:
            break
    assert sorted(engine.heartbeats) == [f"token-{n}" for n in range(5)], "each token once"
    assert rounds >= 3
