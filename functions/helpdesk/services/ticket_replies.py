"""Replies on a ticket: the customer's answers, agents' replies and internal notes (with files), and the
customer's rating. Each appends a part to the ticket's timeline in the write that moves its clocks; a busy
ticket is re-read and the reply appended again rather than refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from helpdesk.domain.errors import ConditionFailed, Conflict, InvalidInput, NotFound, VersionConflict
from helpdesk.domain.models import Attachment, AttachmentRef, PartType, Rating, Ticket, TicketPart, new_id, utc_now
from helpdesk.domain.policy import Action, Resource, authorize
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.domain.ticket_opening import known_ticket_type
from helpdesk.domain.ticket_rules import customer_reply, reply_clocks
from helpdesk.domain.workspace import StateCategory, Workspace
from helpdesk.services.attachments import ticket_attachment_owner
from helpdesk.services.ports import AttachmentChecker, TicketRecords
from helpdesk.services.retries import retry_on_conflict

REPLY_ATTEMPTS = 10
"""A reply re-reads the ticket and tries again when someone else wrote first (a busy ticket)."""


class TrackerAnnouncer(Protocol):
    def announce(self, tracker: Ticket, author: AgentPrincipal, *, state_changed: bool, reply: str | None) -> None: ...


class TicketReplies:
    def __init__(
        self,
        tickets: TicketRecords,
        workspace: Workspace,
        trackers: TrackerAnnouncer | None = None,
        *,
        files: AttachmentChecker | None = None,
    ) -> None:
        """``files`` checks the attachments a reply names (required to attach any)."""
        self._store = tickets
        self._workspace = workspace
        self._trackers = trackers
        self._files = files

    def _authorize(self, agent: AgentPrincipal, action: Action, resource: Resource, **extra: Any) -> None:
        authorize(agent, action, resource, self._workspace.agent_visibility, **extra)

    def _read_for_reply(self, ticket_id: str, attachment_ids: Sequence[str]) -> tuple[Ticket | None, list[Attachment]]:
        if attachment_ids:
            return self._store.read_for_reply(ticket_id, attachment_ids)
        return self._store.get_ticket(ticket_id), []

    def _refs(self, owner: str, attachment_ids: Sequence[str], files: list[Attachment]) -> list[AttachmentRef]:
        if not attachment_ids:
            return []
        assert self._files is not None, "attaching files needs the attachment checker"
        return self._files.refs_for_message(owner, list(attachment_ids), known=files)

    def reply_as_customer(
        self,
        customer: CustomerPrincipal,
        ticket_id: str,
        body: str,
        attachments: list[AttachmentRef] | None = None,
        *,
        attachment_ids: Sequence[str] = (),
    ) -> TicketPart:
        """The customer answers on their ticket; if it was waiting on them, work resumes.

        The first attempt reads the ticket and the files the reply names together (one request).
        """
        text = body.strip()
        if not text and not attachments and not attachment_ids:
            raise InvalidInput("reply body can't be empty", [("body", "must contain some text")])
        checked: list[list[AttachmentRef]] = []  # the files, checked on the first attempt

        def attempt() -> TicketPart:
            if checked:
                ticket = self._store.get_ticket(ticket_id)
            else:
                ticket, files = self._read_for_reply(ticket_id, attachment_ids)
            if ticket is None or ticket.customer_id != customer.user_id:
                raise NotFound(f"ticket {ticket_id} not found")
            if not checked:
                checked.append(attachments or self._refs(customer.user_id, attachment_ids, files))
            refs = checked[0]
            reply = TicketPart(
                id=new_id(),
                ticket_id=ticket_id,
                type=PartType.REPLY,
                author=customer.author,
                body=text or None,
                attachments=refs,
                visible_to_customer=True,
                created_at=utc_now(),
            )
            ticket_type = known_ticket_type(self._workspace, ticket.ticket_type_id)
            edit = customer_reply(ticket, ticket_type, reply, self._workspace.business_calendar)
            try:
                self._store.update_ticket(
                    ticket.model_copy(update=edit.updates), based_on_version=ticket.version, parts=edit.parts
                )
            except ConditionFailed as failure:
                raise Conflict("an attachment was already sent: upload it again") from failure
            return reply

        return retry_on_conflict(
            attempt,
            attempts=REPLY_ATTEMPTS,
            gave_up=lambda: Conflict(f"ticket {ticket_id} is changing too fast: try again"),
        )

    def rate(self, customer: CustomerPrincipal, ticket_id: str, score: int, comment: str | None) -> Rating:
        """CSAT: once per ticket, after it is resolved."""
        ticket = self._store.get_ticket(ticket_id)
        if ticket is None or ticket.customer_id != customer.user_id:
            raise NotFound(f"ticket {ticket_id} not found")
        if ticket.rating is not None:
            raise Conflict(f"ticket #{ticket.number} was already rated")
        if ticket.state_category is not StateCategory.RESOLVED:
            raise Conflict(f"ticket #{ticket.number} can be rated once it is resolved")
        rating = Rating(score=score, comment=(comment or "").strip() or None, rated_at=utc_now())
        part = TicketPart(
            id=new_id(),
            ticket_id=ticket_id,
            type=PartType.RATING,
            author=customer.author,
            body=rating.comment,
            changes={"score": score},
            visible_to_customer=True,
            created_at=rating.rated_at,
        )
        try:
            self._store.rate_ticket(ticket_id, customer.user_id, rating, part)
        except ConditionFailed as failure:
            raise Conflict(f"ticket #{ticket.number} was already rated or was reopened") from failure
        return rating

    def reply(
        self,
        agent: AgentPrincipal,
        ticket_id: str,
        body: str,
        *,
        internal: bool,
        attachment_ids: Sequence[str] = (),
    ) -> TicketPart:
        """A reply the customer sees, or an internal note they never do; files attached to either.

        ``attachment_ids``: files uploaded for this ticket (shared, or internal for a note), read with
        the ticket in one request.
        """
        text = body.strip()
        if not text and not attachment_ids:
            raise InvalidInput("reply body can't be empty", [("body", "must contain some text")])
        ticket, files = self._read_for_reply(ticket_id, attachment_ids)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        self._authorize(agent, Action.WORK, Resource.ticket(ticket))
        refs = self._refs(ticket_attachment_owner(ticket, internal=internal), attachment_ids, files)
        if not text and not refs:
            raise InvalidInput("reply body can't be empty", [("body", "must contain some text")])
        new_part = TicketPart(
            id=new_id(),
            ticket_id=ticket_id,
            type=PartType.NOTE if internal else PartType.REPLY,
            author=agent.author,
            body=text or None,
            attachments=refs,
            visible_to_customer=not internal,
            created_at=utc_now(),
        )
        # A reply doesn't depend on the ticket's other fields: if someone changed them meanwhile,
        # re-read and append again rather than refusing the reply.
        current: list[Ticket | None] = [ticket]

        def attempt() -> TicketPart:
            latest = current[-1]
            if latest is None:
                raise NotFound(f"ticket {ticket_id} not found")
            try:
                self._append_part(latest, new_part)
            except VersionConflict:
                current.append(self._store.get_ticket(ticket_id))
                raise
            self._announce_reply(agent, latest, new_part)
            return new_part

        return retry_on_conflict(
            attempt,
            attempts=REPLY_ATTEMPTS,
            gave_up=lambda: Conflict(f"ticket {ticket_id} is changing too fast: send the reply again"),
        )

    def _announce_reply(self, agent: AgentPrincipal, ticket: Ticket, part: TicketPart) -> None:
        if self._trackers is not None and part.visible_to_customer:
            self._trackers.announce(ticket, agent, state_changed=False, reply=part.body)

    def _append_part(self, ticket: Ticket, part: TicketPart) -> None:
        owner = ticket_attachment_owner(ticket, internal=not part.visible_to_customer) if part.attachments else None
        try:
            self._store.update_ticket(
                ticket.model_copy(
                    update={
                        "updated_at": part.created_at,
                        **reply_clocks(ticket, part, self._workspace.business_calendar),
                    }
                ),
                based_on_version=ticket.version,
                parts=[part],
                attachment_owner=owner,
            )
        except ConditionFailed as failure:
            raise Conflict("an attachment was already sent, or belongs elsewhere: upload it again") from failure
