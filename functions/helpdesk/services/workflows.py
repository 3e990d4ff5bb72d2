"""The specialist workflow's work: what each step of a ticket's state machine does to the ticket.

The state machine (``workflows/*.asl.json``) owns the timing; this service owns the rules. Each
task reaches it through the workflow-tasks queue with a task token and answers through it:

- ``check``: bring the clocks up to date (warning, breach: priority up and an ``SlaBreached``
  event via the stream), remind a silent customer and later auto-resolve, and say what comes next
  (resolved, an approval needed, or the next deadline to wait for);
- ``park``: keep the token on the ticket so a change that matters wakes the workflow early;
- ``request_approval`` / ``apply_decision``: a specialist's decision, then its follow-up state;
- on a schedule, ``keep_parked_alive``: a heartbeat for every token a long wait keeps on a ticket.
  The state machine expects one within ``HeartbeatSeconds``; a token that was lost (its park task
  never stored it, or it was dropped) gets none, so its wait fails over to a new check and a new
  park instead of sleeping to a deadline a change may have moved. A token its workflow no longer
  waits on is forgotten.

Transitions are owned once: agents move tickets in the inbox; the workflow only applies breach
escalation, reminders, auto-resolution and the approval's follow-up, each guarded by the ticket's
version, so the two never contradict each other.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from helpdesk.domain.errors import Conflict, InvalidInput, NotFound
from helpdesk.domain.models import (
    Approval,
    ApprovalStatus,
    Author,
    AuthorType,
    PartType,
    Priority,
    Ticket,
    TicketPart,
    new_id,
    utc_now,
)
from helpdesk.domain.policy import Action, Resource, authorize
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.workspace import StateCategory, TicketType, Workspace
from helpdesk.services.ports import ParkedWorkflowStore, TicketRecords, WorkflowEngine
from helpdesk.services.retries import retry_on_conflict
from helpdesk.services.tickets import TicketService, clock_fields

WORKFLOW_AUTHOR = Author(type=AuthorType.BOT, id="workflow", name="Workflow")
IDLE_WAIT = timedelta(days=30)
"""With no deadline ahead, the workflow still looks again this often (a change wakes it sooner)."""
MAX_WAIT = timedelta(days=300)
CHECK_ATTEMPTS = 3
HEARTBEATS_PER_TASK = 500
"""Heartbeats one worker invocation sends before it queues the rest as another task (well within its timeout)."""
HEARTBEAT_PAGE = 100
ESCALATION = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH, Priority.HIGH: Priority.URGENT}
CLOCK_WORDS = {"first_response": "first response", "next_response": "next response", "resolution": "resolution"}


def step_functions_time(moment: datetime) -> str:
    """The timestamp format Step Functions' Wait/Timestamp fields accept."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TicketWorkflowService:
    def __init__(
        self,
        store: TicketRecords,
        workspace: Workspace,
        tickets: TicketService,
        engine: WorkflowEngine,
        parked: ParkedWorkflowStore,
    ) -> None:
        self._store = store
        self._workspace = workspace
        self._tickets = tickets
        self._engine = engine
        self._parked = parked

    def _ticket(self, ticket_id: str) -> tuple[Ticket, TicketType]:
        ticket = self._store.get_ticket(ticket_id)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        ticket_type = self._workspace.ticket_type(ticket.ticket_type_id)
        if ticket_type is None:
            raise NotFound(f"ticket type {ticket.ticket_type_id} is no longer configured")
        return ticket, ticket_type

    # --- starting --------------------------------------------------------------------------------

    def start_for(self, ticket_id: str) -> bool:
        """Start the ticket's workflow, named after it: a second start for the same ticket is a no-op."""
        ticket = self._store.get_ticket(ticket_id)
        if ticket is None:
            return False
        ticket_type = self._workspace.ticket_type(ticket.ticket_type_id)
        if ticket_type is None or ticket_type.workflow is None:
            return False
        return self._engine.start(ticket_type.workflow.name, ticket.id, {"ticket_id": ticket.id})

    # --- check -----------------------------------------------------------------------------------

    def check(self, ticket_id: str, now: datetime | None = None) -> dict[str, Any]:
        moment = now or utc_now()

        def attempt() -> dict[str, Any]:
            try:
                ticket, ticket_type = self._ticket(ticket_id)
            except NotFound:
                return {"resolved": True, "reason": "gone"}
            if ticket.state_category is StateCategory.RESOLVED:
                return {"resolved": True, "version": ticket.version}
            ticket = self._bring_up_to_date(ticket, ticket_type, moment)  # a change meanwhile: look again
            if ticket.state_category is StateCategory.RESOLVED:
                return {"resolved": True, "version": ticket.version}
            return self._next(ticket, ticket_type, moment)

        return retry_on_conflict(
            attempt,
            attempts=CHECK_ATTEMPTS,
            gave_up=lambda: Conflict(f"ticket {ticket_id} kept changing during the workflow's check"),
        )

    def _bring_up_to_date(self, ticket: Ticket, ticket_type: TicketType, now: datetime) -> Ticket:
        updates: dict[str, Any] = {}
        parts: list[TicketPart] = []

        def part(kind: PartType, body: str, changes: dict[str, Any], visible: bool) -> None:
            parts.append(
                TicketPart(
                    id=new_id(),
                    ticket_id=ticket.id,
                    type=kind,
                    author=WORKFLOW_AUTHOR,
                    body=body,
                    changes=changes,
                    visible_to_customer=visible,
                    created_at=now,
                )
            )

        clocks = self._tickets.clocks(ticket)
        if clocks is not None:
            for name in clocks.warnings_due(now):
                clocks = clocks.mark_warned(name, now)
                part(PartType.SLA_WARNING, f"The {CLOCK_WORDS[name]} SLA is about to run out", {"clock": name}, False)
            overdue = clocks.overdue(now)
            for name in overdue:
                clocks = clocks.mark_breached(name, now)
                part(PartType.SLA_BREACHED, f"The {CLOCK_WORDS[name]} SLA was breached", {"clock": name}, False)
            if overdue and ticket.priority in ESCALATION:
                raised = ESCALATION[ticket.priority]
                updates["priority"] = raised
                part(
                    PartType.PRIORITY_CHANGE,
                    f"Priority raised to {raised.value}: SLA breached",
                    {"from": ticket.priority.value, "to": raised.value},
                    False,
                )
            if parts:
                updates |= clock_fields(clocks)
        policy = ticket_type.workflow
        if policy is not None and ticket.state_category is StateCategory.WAITING_ON_CUSTOMER and ticket.waiting_since:
            silence = now - ticket.waiting_since
            if policy.auto_resolve_after and silence >= policy.auto_resolve_after:
                state = (
                    ticket_type.state(policy.auto_resolve_state)
                    if policy.auto_resolve_state
                    else ticket_type.first_state_in(StateCategory.RESOLVED)
                )
                if state is not None:
                    moved = ticket.model_copy(update=updates)
                    updates |= {"state_id": state.id, "state_category": state.category}
                    updates |= self._tickets.category_change(moved, state.category, now)
                    part(
                        PartType.STATE_CHANGE,
                        f"State changed to {state.customer_label}: closed after no reply",
                        {"from": ticket.state_id, "to": state.id, "category": state.category.value},
                        True,
                    )
            elif policy.remind_after and silence >= policy.remind_after and ticket.reminded_at is None:
                updates["reminded_at"] = now
                waiting = ticket_type.state(ticket.state_id)
                label = waiting.customer_label if waiting else "waiting for your reply"
                part(
                    PartType.REMINDER,
                    f"A reminder: ticket #{ticket.number} is {label.lower()}. Reply here when you can.",
                    {},
                    True,
                )
        if not parts:
            return ticket
        updated = ticket.model_copy(update={**updates, "updated_at": now})
        return self._store.update_ticket(updated, based_on_version=ticket.version, parts=parts)

    def _next(self, ticket: Ticket, ticket_type: TicketType, now: datetime) -> dict[str, Any]:
        policy = ticket_type.workflow
        candidates: list[datetime] = []
        clocks = self._tickets.clocks(ticket)
        if clocks is not None and (deadline := clocks.next_deadline()) is not None:
            candidates.append(deadline)
        if policy is not None and ticket.state_category is StateCategory.WAITING_ON_CUSTOMER and ticket.waiting_since:
            if policy.remind_after and ticket.reminded_at is None:
                candidates.append(ticket.waiting_since + policy.remind_after)
            if policy.auto_resolve_after:
                candidates.append(ticket.waiting_since + policy.auto_resolve_after)
        wake = min(candidates, default=now + IDLE_WAIT)
        wait = min(max(1, math.ceil((wake - now).total_seconds())), int(MAX_WAIT.total_seconds()))
        return {
            "resolved": False,
            "approval_needed": self._needs_approval(ticket, ticket_type),
            "wake_at": step_functions_time(now + timedelta(seconds=wait)),
            "wait_seconds": wait,
            "version": ticket.version,
        }

    def _needs_approval(self, ticket: Ticket, ticket_type: TicketType) -> bool:
        policy = ticket_type.workflow.approval if ticket_type.workflow else None
        if policy is None or ticket.approval is not None:
            return False
        try:
            amount = Decimal(str(ticket.attributes.get(policy.attribute)))
        except InvalidOperation:
            return False
        return amount.is_finite() and amount > policy.above

    # --- waiting for a deadline or a change ------------------------------------------------------

    def park(self, ticket_id: str, token: str, version: int, *, watched: bool = False) -> None:
        """Keep the token on the ticket; if it changed since the check, wake the workflow right away.

        ``watched``: the wait expects heartbeats (a long one), which ``keep_parked_alive`` sends.
        """
        if not self._parked.park(ticket_id, token, version, watched=watched):
            self._engine.complete(token, {"woken_by": "a change during the check"})

    def keep_parked_alive(self, after: str | None = None, budget: int = HEARTBEATS_PER_TASK) -> tuple[int, str | None]:
        """A heartbeat for each watched token, from ``after`` on, at most ``budget``.

        Returns how many tokens were forgotten (their workflow no longer waits on them) and where to
        go on (None: every watched token had its heartbeat).
        """
        forgotten, sent = 0, 0
        while sent < budget:
            page, after = self._parked.watched(after, min(HEARTBEAT_PAGE, budget - sent))
            for ticket_id, token in page:
                if not self._engine.heartbeat(token):
                    forgotten += self._parked.forget(ticket_id, token)
            sent += len(page)
            if after is None:
                break
        return forgotten, after

    # --- approvals -------------------------------------------------------------------------------

    def request_approval(self, ticket_id: str, token: str) -> None:
        ticket, ticket_type = self._ticket(ticket_id)
        if ticket.approval is not None and ticket.approval.status is not ApprovalStatus.PENDING:
            self._engine.complete(token, {"decision": ticket.approval.status.value})
            return
        policy = ticket_type.workflow.approval if ticket_type.workflow else None
        now = utc_now()
        approval = Approval(status=ApprovalStatus.PENDING, requested_at=now, token=token)
        amount = ticket.attributes.get(policy.attribute) if policy else None
        part = TicketPart(
            id=new_id(),
            ticket_id=ticket.id,
            type=PartType.APPROVAL,
            author=WORKFLOW_AUTHOR,
            body=f"Approval needed: {policy.attribute if policy else 'value'} {amount} is above "
            f"{policy.above if policy else ''}",
            changes={"status": ApprovalStatus.PENDING.value},
            visible_to_customer=False,
            created_at=now,
        )
        self._store.update_ticket(
            ticket.model_copy(update={"approval": approval, "updated_at": now}),
            based_on_version=ticket.version,
            parts=[part],
        )

    def decide(self, agent: AgentPrincipal, ticket_id: str, *, approve: bool, note: str | None) -> Ticket:
        """A specialist's decision in the inbox: recorded on the ticket, then the workflow goes on."""
        ticket, _ = self._ticket(ticket_id)
        authorize(agent, Action.DECIDE, Resource.ticket(ticket), self._workspace.agent_visibility)
        approval = ticket.approval
        if approval is None or approval.status is not ApprovalStatus.PENDING:
            raise Conflict(f"ticket #{ticket.number} has no approval waiting for a decision")
        now = utc_now()
        status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        decided = approval.model_copy(
            update={"status": status, "decided_by": agent.id, "decided_at": now, "note": (note or "").strip() or None}
        )
        part = TicketPart(
            id=new_id(),
            ticket_id=ticket.id,
            type=PartType.APPROVAL,
            author=agent.author,
            body=f"{'Approved' if approve else 'Rejected'}" + (f": {decided.note}" if decided.note else ""),
            changes={"status": status.value},
            visible_to_customer=False,
            created_at=now,
        )
        saved = self._store.update_ticket(
            ticket.model_copy(update={"approval": decided, "updated_at": now}),
            based_on_version=ticket.version,
            parts=[part],
        )
        if approval.token:
            self._engine.complete(approval.token, {"decision": status.value})
        return saved

    def apply_decision(self, ticket_id: str, decision: str) -> None:
        """The decision's follow-up: the ticket moves to the type's approved or rejected state."""
        ticket, ticket_type = self._ticket(ticket_id)
        policy = ticket_type.workflow.approval if ticket_type.workflow else None
        if policy is None or ticket.approval is None or ticket.approval.applied:
            return
        target = policy.approved_state if decision == ApprovalStatus.APPROVED.value else policy.rejected_state
        state = ticket_type.state(target)
        if state is None:
            raise InvalidInput(f"state '{target}' is not configured", [("workflow.approval", "unknown state")])
        now = utc_now()
        updates: dict[str, Any] = {
            "state_id": state.id,
            "state_category": state.category,
            "approval": ticket.approval.model_copy(update={"applied": True, "token": None}),
            "updated_at": now,
        }
        updates |= self._tickets.category_change(ticket, state.category, now)
        part = TicketPart(
            id=new_id(),
            ticket_id=ticket.id,
            type=PartType.STATE_CHANGE,
            author=WORKFLOW_AUTHOR,
            body=f"State changed to {state.customer_label}",
            changes={"from": ticket.state_id, "to": state.id, "category": state.category.value},
            visible_to_customer=True,
            created_at=now,
        )
        self._store.update_ticket(ticket.model_copy(update=updates), based_on_version=ticket.version, parts=[part])
