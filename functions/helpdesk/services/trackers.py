"""Tracker tickets: one incident, many customer tickets, every customer kept posted.

A state change or a customer-visible reply on a tracker becomes a fan-out job. The job is
processed one page of linked tickets at a time (each page a queue message), so any number of
linked tickets is handled without a long-running request. Each linked ticket gets a timeline part
whose id is derived from the job and the ticket, written only if absent: a page processed twice
(a retry after a crash, a duplicate delivery) changes nothing the second time.
"""

from __future__ import annotations

from helpdesk.domain.errors import ConditionFailed, Conflict, Forbidden, InvalidInput, NotFound
from helpdesk.domain.models import (
    FanOutJob,
    PartType,
    Ticket,
    TicketCategory,
    TicketPart,
    new_id,
    utc_now,
)
from helpdesk.domain.policy import Action, Resource, authorize, decide, scope
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.ticket_rules import category_change
from helpdesk.domain.workspace import Workspace
from helpdesk.services.ports import FanOutQueue, TicketRecords, TrackerRecords
from helpdesk.services.retries import retry_on_conflict

MAX_LINKS_PER_REQUEST = 50
FANOUT_PAGE_SIZE = 25
UPDATE_ATTEMPTS = 5


class TrackerService:
    def __init__(self, tickets: TicketRecords, links: TrackerRecords, workspace: Workspace, queue: FanOutQueue) -> None:
        self._store = tickets
        self._links = links
        self._workspace = workspace
        self._queue = queue

    def _tracker(self, agent: AgentPrincipal, tracker_id: str) -> Ticket:
        tracker = self._store.get_ticket(tracker_id)
        if tracker is None:
            raise NotFound(f"ticket {tracker_id} not found")
        if tracker.category is not TicketCategory.TRACKER:
            raise InvalidInput(
                f"ticket #{tracker.number} is not a tracker", [("ticket_id", "must be a tracker ticket")]
            )
        return tracker

    def link(self, agent: AgentPrincipal, tracker_id: str, ticket_ids: list[str]) -> int:
        """Link customer tickets to the tracker: the agent must be allowed to on the tracker and on every ticket."""
        tracker = self._tracker(agent, tracker_id)
        visibility = self._workspace.agent_visibility
        authorize(agent, Action.LINK, Resource.ticket(tracker), visibility)
        unique = list(dict.fromkeys(ticket_ids))
        if not unique or len(unique) > MAX_LINKS_PER_REQUEST:
            raise InvalidInput(
                "link between 1 and 50 tickets per request",
                [("ticket_ids", f"must list 1 to {MAX_LINKS_PER_REQUEST} distinct ticket ids")],
            )
        try:
            # Each linked ticket's team is checked inside the write: one request, and no race.
            self._links.link_to_tracker(tracker_id, unique, utc_now(), within=scope(agent, Action.LINK))
        except ConditionFailed as failure:
            for ticket in self._store.get_tickets(unique):
                if not decide(agent, Action.LINK, Resource.ticket(ticket), visibility).allowed:
                    raise Forbidden(
                        f"ticket #{ticket.number} belongs to team '{ticket.team_id}': only its agents "
                        "(or admins) can link it to a tracker"
                    ) from failure
            raise Conflict(
                "some tickets can't be linked: each must be an existing customer ticket not already on a tracker"
            ) from failure
        return len(unique)

    def announce(self, tracker: Ticket, author: AgentPrincipal, *, state_changed: bool, reply: str | None) -> None:
        """Queue the fan-out of what just happened on the tracker (called after it was committed)."""
        if tracker.category is not TicketCategory.TRACKER:
            return
        if state_changed:
            ticket_type = self._workspace.ticket_type(tracker.ticket_type_id)
            state = ticket_type.state(tracker.state_id) if ticket_type else None
            label = state.customer_label if state else tracker.state_category.value
            self._queue.send(
                FanOutJob(
                    id=new_id(),
                    tracker_id=tracker.id,
                    kind="state",
                    category=tracker.state_category,
                    body=f"Update on the issue affecting you: {label}",
                    author=author.author,
                )
            )
        if reply:
            self._queue.send(
                FanOutJob(id=new_id(), tracker_id=tracker.id, kind="reply", body=reply, author=author.author)
            )

    def run(self, job: FanOutJob) -> int:
        """Apply one page of the job, queue the next page; returns how many tickets this page covered."""
        ticket_ids, next_cursor = self._links.tracker_links(job.tracker_id, cursor=job.cursor, limit=FANOUT_PAGE_SIZE)
        for ticket_id in ticket_ids:
            self._apply(job, ticket_id)
        if next_cursor:
            self._queue.send(job.model_copy(update={"cursor": next_cursor}))
        return len(ticket_ids)

    def _apply(self, job: FanOutJob, ticket_id: str) -> None:
        part_id = f"{job.id}-{ticket_id}"

        def attempt() -> None:
            ticket = self._store.get_ticket(ticket_id)
            if ticket is None or self._store.has_part(ticket_id, part_id):
                return  # gone, or this page was already applied to it
            now = utc_now()
            updates: dict[str, object] = {"updated_at": now}
            changes: dict[str, object] = {"tracker_id": job.tracker_id}
            if job.kind == "state" and job.category is not None and ticket.state_category is not job.category:
                ticket_type = self._workspace.ticket_type(ticket.ticket_type_id)
                target = ticket_type.first_state_in(job.category) if ticket_type else None
                if target is not None:
                    updates |= {"state_id": target.id, "state_category": target.category}
                    updates |= category_change(ticket, target.category, now, self._workspace.business_calendar)
                    changes |= {"from": ticket.state_id, "to": target.id, "category": target.category.value}
            part = TicketPart(
                id=part_id,
                ticket_id=ticket_id,
                type=PartType.STATE_CHANGE if "to" in changes else PartType.REPLY,
                author=job.author,
                body=job.body,
                changes=changes,
                visible_to_customer=True,
                created_at=now,
            )
            try:
                self._store.update_ticket(
                    ticket.model_copy(update=updates), based_on_version=ticket.version, parts=[part]
                )
            except ConditionFailed:
                if self._store.has_part(ticket_id, part_id):
                    return  # applied by an earlier delivery of this page
                raise

        retry_on_conflict(
            attempt,
            attempts=UPDATE_ATTEMPTS,
            gave_up=lambda: Conflict(
                f"ticket {ticket_id} kept changing while the tracker update was applied; will retry"
            ),
        )
