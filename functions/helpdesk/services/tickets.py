"""Tickets: created for a customer (often from their conversation), worked by teams, tracked by the customer.

Every change appends a part to the ticket's timeline in the same transaction as the change.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from helpdesk.adapters.repository import ConditionFailed, TableRepository
from helpdesk.domain.customer_pages import CUSTOMER_READ_AHEAD, older_page
from helpdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, VersionConflict
from helpdesk.domain.models import (
    AttachmentRef,
    Author,
    AuthorType,
    ContextPackage,
    Conversation,
    ConversationStatus,
    Message,
    MessageKind,
    Page,
    PartType,
    Priority,
    Rating,
    Ticket,
    TicketCategory,
    TicketPage,
    TicketPart,
    TicketView,
    new_id,
    utc_now,
)
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.domain.sla import SlaState
from helpdesk.domain.workspace import AttributeError_, AttributeType, StateCategory, TicketType, Workspace
from helpdesk.services.attachments import ticket_attachment_owner
from helpdesk.services.capsules import ticket_capsule

MAX_TITLE_LENGTH = 200


def clock_fields(clocks: SlaState) -> dict[str, Any]:
    """The ticket fields that carry its clocks."""
    return {"sla": clocks.model_dump(mode="json"), "sla_due_at": clocks.due_at}


REPLY_ATTEMPTS = 10
"""A reply re-reads the ticket and tries again when someone else wrote first (a busy ticket)."""


def _pause_before_retry(attempt: int) -> None:
    """Jittered backoff, so writers that collided don't collide again in lockstep."""
    time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # noqa: S311 - spreading retries, not security


class NewTicket(BaseModel):
    """What an agent fills in to open a ticket (directly, or from a conversation)."""

    ticket_type_id: str
    attributes: dict[str, Any] = {}
    team_id: str | None = None
    title: str | None = None
    priority: Priority = Priority.NORMAL
    customer_id: str | None = None
    category: TicketCategory = TicketCategory.CUSTOMER
    linked_ticket_id: str | None = None
    """Back-office tickets: the customer ticket they serve."""
    linked_conversation_id: str | None = None
    """Back-office tickets: the conversation they serve."""


class TrackerAnnouncer(Protocol):
    def announce(self, tracker: Ticket, author: AgentPrincipal, *, state_changed: bool, reply: str | None) -> None: ...


class TicketChanges(BaseModel):
    """A partial update; fields left out are unchanged. ``assignee_id`` set to None unassigns."""

    state_id: str | None = None
    team_id: str | None = None
    assignee_id: str | None = None
    unassign: bool = False
    priority: Priority | None = None
    attributes: dict[str, Any] | None = None


def _attribute_problems(error: AttributeError_) -> InvalidInput:
    return InvalidInput(
        "attributes are not valid for this ticket type",
        [(f"attributes.{field}", message) for field, message in error.problems],
    )


class TicketService:
    def __init__(
        self, repository: TableRepository, workspace: Workspace, trackers: TrackerAnnouncer | None = None
    ) -> None:
        self._repository = repository
        self._workspace = workspace
        self._trackers = trackers

    def _ticket_type(self, type_id: str) -> TicketType:
        ticket_type = self._workspace.ticket_type(type_id)
        if ticket_type is None:
            known = ", ".join(t.id for t in self._workspace.ticket_types)
            raise InvalidInput(f"unknown ticket type '{type_id}'", [("ticket_type_id", f"must be one of: {known}")])
        return ticket_type

    def _team(self, team_id: str) -> str:
        if self._workspace.team(team_id) is None:
            known = ", ".join(t.id for t in self._workspace.teams)
            raise InvalidInput(f"unknown team '{team_id}'", [("team_id", f"must be one of: {known}")])
        return team_id

    def _build(
        self,
        author: Author,
        request: NewTicket,
        *,
        customer_id: str | None,
        conversation_id: str | None,
        context: ContextPackage | None,
    ) -> tuple[Ticket, TicketType]:
        ticket_type = self._ticket_type(request.ticket_type_id)
        team_id = self._team(request.team_id or ticket_type.default_team)
        values = dict(request.attributes)
        # The context package already says which object this is about: don't ask again.
        if context is not None and context.object is not None:
            key = f"{context.object.type}_id"
            if ticket_type.attribute(key) is not None and key not in values:
                values[key] = context.object.id
        try:
            attributes = ticket_type.validate_attributes(values, creating=True)
        except AttributeError_ as error:
            raise _attribute_problems(error) from error
        title = (request.title or "").strip() or ticket_type.name
        if len(title) > MAX_TITLE_LENGTH:
            raise InvalidInput("title is too long", [("title", f"must be at most {MAX_TITLE_LENGTH} characters")])
        state = ticket_type.first_state
        now = utc_now()
        ticket = Ticket(
            id=new_id(),
            number=0,
            ticket_type_id=ticket_type.id,
            title=title,
            state_id=state.id,
            state_category=state.category,
            attributes={k: v for k, v in attributes.items() if v is not None},
            team_id=team_id,
            priority=request.priority,
            customer_id=customer_id,
            conversation_id=conversation_id,
            context=context,
            **self._started_clocks(ticket_type, state.category, now),
            created_by=author,
            created_at=now,
            updated_at=now,
            version=1,
        )
        return ticket, ticket_type

    # --- SLA clocks ------------------------------------------------------------------------------

    def _started_clocks(self, ticket_type: TicketType, category: StateCategory, now: datetime) -> dict[str, Any]:
        if ticket_type.sla is None:
            return {}
        clocks = SlaState.start(ticket_type.sla, self._workspace.business_calendar, now, category=category)
        waiting = {"waiting_since": now} if category is StateCategory.WAITING_ON_CUSTOMER else {}
        return clock_fields(clocks) | waiting

    def clocks(self, ticket: Ticket) -> SlaState | None:
        return SlaState.load(ticket.sla, self._workspace.business_calendar) if ticket.sla else None

    def category_change(self, ticket: Ticket, new: StateCategory, now: datetime) -> dict[str, Any]:
        """Clocks pause while waiting on the customer, resume after, and stop at resolution."""
        if new is ticket.state_category:
            return {}
        fields: dict[str, Any] = {
            "waiting_since": now if new is StateCategory.WAITING_ON_CUSTOMER else None,
            "reminded_at": None,
        }
        clocks = self.clocks(ticket)
        if clocks is not None:
            fields |= clock_fields(clocks.on_category_change(ticket.state_category, new, now))
        return fields

    def _reply_clocks(self, ticket: Ticket, part: TicketPart) -> dict[str, Any]:
        clocks = self.clocks(ticket)
        if clocks is None or part.type is not PartType.REPLY:
            return {}
        if part.author.type is AuthorType.CUSTOMER:
            return clock_fields(clocks.on_customer_message(part.created_at))
        return clock_fields(clocks.on_agent_reply(part.created_at))

    def _created_part(self, ticket: Ticket, author: Author) -> TicketPart:
        return TicketPart(
            id=new_id(),
            ticket_id=ticket.id,
            type=PartType.CREATED,
            author=author,
            body=f"Ticket #{ticket.number} opened: {ticket.title}",
            changes={"state_id": ticket.state_id, "team_id": ticket.team_id},
            visible_to_customer=True,
            created_at=ticket.created_at,
        )

    # --- creating --------------------------------------------------------------------------------

    def create(self, agent: AgentPrincipal, request: NewTicket) -> Ticket:
        customer_id = (request.customer_id or "").strip() or None
        links: dict[str, Any] = {"category": request.category}
        if request.category is not TicketCategory.CUSTOMER and customer_id:
            raise InvalidInput(
                f"a {request.category.value} ticket is internal",
                [("customer_id", "only customer tickets are shared with a customer")],
            )
        if request.category is TicketCategory.BACK_OFFICE:
            links |= self._back_office_links(request)
        elif request.linked_ticket_id or request.linked_conversation_id:
            raise InvalidInput(
                "only back-office tickets link to a ticket or conversation",
                [("linked_ticket_id", "set category to back_office")],
            )
        ticket, _ = self._build(agent.author, request, customer_id=customer_id, conversation_id=None, context=None)
        ticket = ticket.model_copy(update={"number": self._repository.next_ticket_number(), **links})
        self._repository.create_ticket(ticket, [self._created_part(ticket, agent.author)])
        return ticket

    def _back_office_links(self, request: NewTicket) -> dict[str, Any]:
        if not (request.linked_ticket_id or request.linked_conversation_id):
            raise InvalidInput(
                "a back-office ticket serves a customer ticket or conversation",
                [("linked_ticket_id", "give linked_ticket_id or linked_conversation_id")],
            )
        if request.linked_ticket_id and self._repository.get_ticket(request.linked_ticket_id) is None:
            raise InvalidInput("linked ticket not found", [("linked_ticket_id", "no such ticket")])
        if request.linked_conversation_id and self._repository.get_conversation(request.linked_conversation_id) is None:
            raise InvalidInput("linked conversation not found", [("linked_conversation_id", "no such conversation")])
        return {"linked_ticket_id": request.linked_ticket_id, "conversation_id": request.linked_conversation_id}

    def convert_conversation(self, agent: AgentPrincipal, conversation_id: str, request: NewTicket) -> Ticket:
        """Open a ticket on the customer's behalf from their conversation, and tell them its number."""
        conversation = self._repository.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        if conversation.ticket_id is not None:
            raise Conflict(f"conversation {conversation_id} already has ticket {conversation.ticket_id}")
        ticket, ticket_type = self._build(
            agent.author,
            request,
            customer_id=conversation.customer_id,
            conversation_id=conversation.id,
            context=conversation.context,
        )
        ticket = ticket.model_copy(update={"verified_attributes": conversation.verified_attributes})
        ticket = ticket.model_copy(update={"number": self._repository.next_ticket_number()})
        notice = Message(
            id=new_id(),
            conversation_id=conversation.id,
            author=agent.author,
            body=(
                f"I've opened ticket #{ticket.number} ({ticket_type.name}) for you. "
                "You can follow it in your tickets and reply there at any time."
            ),
            kind=MessageKind.TICKET_CREATED,
            created_at=ticket.created_at,
        )
        try:
            self._repository.create_ticket(
                ticket,
                [self._created_part(ticket, agent.author)],
                from_conversation=conversation,
                conversation_message=notice,
            )
        except ConditionFailed as failure:
            raise Conflict(f"conversation {conversation_id} was converted into a ticket meanwhile") from failure
        return ticket

    def open_for_bot(
        self, conversation: Conversation, request: NewTicket, *, bot: Author, notice: str
    ) -> tuple[Ticket, Message]:
        """The bot opens a ticket with what it collected; the customer's files land on its timeline.

        ``notice``: what to tell the customer, with ``{ticket.number}`` and ``{team}`` filled in here.
        Raises ``InvalidInput`` when the collected values don't fit the type (nothing is stored) and
        ``Conflict`` when the conversation already has a ticket.
        """
        ticket, ticket_type = self._build(
            bot,
            request,
            customer_id=conversation.customer_id,
            conversation_id=conversation.id,
            context=conversation.context,
        )
        number = self._repository.next_ticket_number()
        ticket = ticket.model_copy(update={"number": number, "verified_attributes": conversation.verified_attributes})
        file_ids = [
            file_id
            for attribute in ticket_type.attributes
            if attribute.type is AttributeType.FILES
            for file_id in ticket.attributes.get(attribute.id) or []
        ]
        files = [
            AttachmentRef(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size)
            for a in self._repository.get_attachments(file_ids)
            if a.customer_id == conversation.customer_id
        ]
        parts = [self._created_part(ticket, bot)]
        if files:
            parts.append(
                TicketPart(
                    id=new_id(),
                    ticket_id=ticket.id,
                    type=PartType.ATTACHMENT,
                    author=Author(
                        type=AuthorType.CUSTOMER, id=conversation.customer_id, name=conversation.customer_name
                    ),
                    body="Shared in the conversation",
                    attachments=files,
                    visible_to_customer=True,
                    created_at=ticket.created_at,
                )
            )
        team = self._workspace.team(ticket.team_id)
        text = notice.replace("{ticket.number}", str(number)).replace("{team}", team.name if team else ticket.team_id)
        message = Message(
            id=new_id(),
            conversation_id=conversation.id,
            author=bot,
            body=text,
            kind=MessageKind.TICKET_CREATED,
            created_at=ticket.created_at,
        )
        try:
            self._repository.create_ticket(
                ticket,
                parts,
                from_conversation=conversation,
                conversation_message=message,
                conversation_status=ConversationStatus.CLOSED,
            )
        except ConditionFailed as failure:
            raise Conflict(f"conversation {conversation.id} already has a ticket") from failure
        return ticket, message

    # --- reading ---------------------------------------------------------------------------------

    def page_for_customer(
        self, customer: CustomerPrincipal, ticket_id: str, *, before: str | None, limit: int
    ) -> TicketPage:
        read = limit + CUSTOMER_READ_AHEAD  # past internal parts: the cursor is always a part the customer sees
        ticket, parts, has_more = self._repository.ticket_page(ticket_id, before=before, limit=read)
        if ticket is None or ticket.customer_id != customer.user_id:
            raise NotFound(f"ticket {ticket_id} not found")
        visible, cursor = older_page(parts, more_stored=has_more, limit=limit, shown=lambda p: p.visible_to_customer)
        return TicketPage(ticket=ticket, timeline=visible, next_cursor=cursor)

    def page_for_agent(self, ticket_id: str, *, before: str | None, limit: int) -> TicketPage:
        ticket, parts, has_more = self._repository.ticket_page(ticket_id, before=before, limit=limit)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        return TicketPage(ticket=ticket, timeline=parts, next_cursor=parts[0].id if has_more and parts else None)

    def list_for_customer(self, customer: CustomerPrincipal, *, cursor: str | None, limit: int) -> Page[Ticket]:
        return self._repository.list_customer_tickets(customer.user_id, cursor=cursor, limit=limit)

    def inbox(
        self,
        agent: AgentPrincipal,
        *,
        team_id: str | None = None,
        category: StateCategory | None = None,
        state_id: str | None = None,
        priority: Priority | None = None,
        assignee_id: str | None = None,
        ticket_type_id: str | None = None,
        oldest_first: bool = False,
        sla_due: bool = False,
        cursor: str | None,
        limit: int,
    ) -> Page[Ticket]:
        """One view, one Query: by assignee ('me', 'unassigned' or an agent id), by a state of a type,
        by priority, by type, or by team and state category (the default: your first team, submitted)."""
        team = self._team(team_id or next(iter(sorted(agent.teams)), self._workspace.default_team))
        view: TicketView
        if assignee_id is not None:
            who = {"me": agent.id, "unassigned": ""}.get(assignee_id, assignee_id)
            view = TicketView(kind="assignee", value=who)
        elif state_id is not None:
            if ticket_type_id is None:
                raise InvalidInput(
                    "a state view needs its ticket type", [("ticket_type_id", "is required with state_id")]
                )
            ticket_type = self._ticket_type(ticket_type_id)
            if ticket_type.state(state_id) is None:
                raise InvalidInput(
                    f"'{state_id}' is not a state of '{ticket_type_id}'",
                    [("state_id", f"must be one of: {', '.join(s.id for s in ticket_type.states)}")],
                )
            view = TicketView(kind="state", value=state_id, team_id=team, ticket_type_id=ticket_type_id)
        elif priority is not None:
            view = TicketView(kind="priority", value=priority.value, team_id=team)
        elif sla_due:
            view = TicketView(kind="sla_due", value="", team_id=team)
        elif ticket_type_id is not None:
            self._ticket_type(ticket_type_id)
            view = TicketView(kind="type", value=ticket_type_id)
        else:
            view = TicketView(kind="team_category", value=(category or StateCategory.SUBMITTED).value, team_id=team)
        return self._repository.list_tickets_in_view(view, cursor=cursor, limit=limit, oldest_first=oldest_first)

    # --- changing --------------------------------------------------------------------------------

    def update(self, agent: AgentPrincipal, ticket_id: str, changes: TicketChanges, *, version: int) -> Ticket:
        ticket = self._repository.get_ticket(ticket_id)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        if not agent.may_work_on_team(ticket.team_id):
            raise Forbidden(f"only agents of team '{ticket.team_id}' (or admins) can change ticket {ticket_id}")
        if ticket.version != version:
            raise VersionConflict(
                f"ticket {ticket_id} is at version {ticket.version}, not {version}: "
                "reload it and apply your change again",
                current_version=ticket.version,
            )
        ticket_type = self._ticket_type(ticket.ticket_type_id)
        now = utc_now()
        updates: dict[str, Any] = {}
        parts: list[TicketPart] = []

        def part(part_type: PartType, body: str, changed: dict[str, Any], visible: bool) -> None:
            parts.append(
                TicketPart(
                    id=new_id(),
                    ticket_id=ticket_id,
                    type=part_type,
                    author=agent.author,
                    body=body,
                    changes=changed,
                    visible_to_customer=visible,
                    created_at=now,
                )
            )

        if changes.state_id is not None and changes.state_id != ticket.state_id:
            state = ticket_type.state(changes.state_id)
            if state is None:
                known = ", ".join(s.id for s in ticket_type.states)
                raise InvalidInput(
                    f"'{changes.state_id}' is not a state of ticket type '{ticket_type.id}'",
                    [("state_id", f"must be one of: {known}")],
                )
            previous = ticket_type.state(ticket.state_id)
            updates |= {"state_id": state.id, "state_category": state.category}
            updates |= self.category_change(ticket, state.category, now)
            part(
                PartType.STATE_CHANGE,
                f"State changed to {state.customer_label}",
                {"from": ticket.state_id, "to": state.id, "category": state.category.value},
                visible=previous is None or previous.customer_label != state.customer_label,
            )
        if changes.team_id is not None and changes.team_id != ticket.team_id:
            updates["team_id"] = self._team(changes.team_id)
            part(
                PartType.ASSIGNMENT,
                f"Assigned to team {changes.team_id}",
                {"team_id": changes.team_id},
                False,
            )
        new_assignee = None if changes.unassign else changes.assignee_id
        if (changes.unassign or changes.assignee_id is not None) and new_assignee != ticket.assignee_id:
            updates["assignee_id"] = new_assignee
            body = f"Assigned to {new_assignee}" if new_assignee else "Unassigned"
            part(PartType.ASSIGNMENT, body, {"assignee_id": new_assignee}, False)
        if changes.priority is not None and changes.priority != ticket.priority:
            updates["priority"] = changes.priority
            part(
                PartType.PRIORITY_CHANGE,
                f"Priority set to {changes.priority.value}",
                {"from": ticket.priority.value, "to": changes.priority.value},
                False,
            )
        if changes.attributes:
            try:
                cleaned = ticket_type.validate_attributes(changes.attributes, creating=False)
            except AttributeError_ as error:
                raise _attribute_problems(error) from error
            merged = dict(ticket.attributes)
            for key, value in cleaned.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            changed = {k: v for k, v in cleaned.items() if ticket.attributes.get(k) != v}
            if changed:
                updates["attributes"] = merged
                visible = any((a := ticket_type.attribute(k)) is not None and a.visible_to_customer for k in changed)
                part(
                    PartType.ATTRIBUTE_CHANGE,
                    "Details updated",
                    {"attributes": ticket_type.customer_visible(changed) if visible else changed},
                    visible,
                )
        if not parts:
            return ticket
        handed_to_someone_else = "team_id" in updates or (
            "assignee_id" in updates and updates["assignee_id"] not in (None, agent.id)
        )
        if handed_to_someone_else:
            # Whoever receives it sees the context capsule first, and the timeline records it.
            _, timeline, _ = self._repository.ticket_page(ticket_id, before=None, limit=50)
            capsule = ticket_capsule(
                ticket,
                timeline,
                by=agent,
                to_team=updates.get("team_id", ticket.team_id),
                to_agent=updates.get("assignee_id", ticket.assignee_id),
            )
            updates["capsule"] = capsule
            part(PartType.HANDOFF, "Hand-off summary", capsule.model_dump(mode="json"), False)
        updated = ticket.model_copy(update={**updates, "updated_at": now})
        saved = self._repository.update_ticket(updated, based_on_version=version, parts=parts)
        if self._trackers is not None and "state_id" in updates:
            self._trackers.announce(saved, agent, state_changed=True, reply=None)
        return saved

    def reply_as_customer(
        self,
        customer: CustomerPrincipal,
        ticket_id: str,
        body: str,
        attachments: list[AttachmentRef] | None = None,
    ) -> TicketPart:
        """The customer answers on their ticket; if it was waiting on them, work resumes."""
        refs = attachments or []
        text = body.strip()
        if not text and not refs:
            raise InvalidInput("reply body can't be empty", [("body", "must contain some text")])
        for attempt in range(REPLY_ATTEMPTS):
            if attempt:
                _pause_before_retry(attempt)
            ticket = self._repository.get_ticket(ticket_id)
            if ticket is None or ticket.customer_id != customer.user_id:
                raise NotFound(f"ticket {ticket_id} not found")
            now = utc_now()
            reply = TicketPart(
                id=new_id(),
                ticket_id=ticket_id,
                type=PartType.REPLY,
                author=customer.author,
                body=text or None,
                attachments=refs,
                visible_to_customer=True,
                created_at=now,
            )
            parts = [reply]
            updates: dict[str, Any] = {"updated_at": now}
            if ticket.state_category is StateCategory.WAITING_ON_CUSTOMER:
                ticket_type = self._ticket_type(ticket.ticket_type_id)
                resumed = ticket_type.first_state_in(StateCategory.IN_PROGRESS) or ticket_type.first_state
                updates |= {"state_id": resumed.id, "state_category": resumed.category}
                updates |= self.category_change(ticket, resumed.category, now)
                parts.append(
                    TicketPart(
                        id=new_id(),
                        ticket_id=ticket_id,
                        type=PartType.STATE_CHANGE,
                        author=customer.author,
                        body=f"State changed to {resumed.customer_label}",
                        changes={"from": ticket.state_id, "to": resumed.id, "category": resumed.category.value},
                        visible_to_customer=True,
                        created_at=now,
                    )
                )
            moved = ticket.model_copy(update=updates)
            updates |= self._reply_clocks(moved, reply)
            try:
                self._repository.update_ticket(
                    ticket.model_copy(update=updates), based_on_version=ticket.version, parts=parts
                )
            except VersionConflict:
                continue
            except ConditionFailed as failure:
                raise Conflict("an attachment was already sent: upload it again") from failure
            return reply
        raise Conflict(f"ticket {ticket_id} is changing too fast: try again")

    def rate(self, customer: CustomerPrincipal, ticket_id: str, score: int, comment: str | None) -> Rating:
        """CSAT: once per ticket, after it is resolved."""
        ticket = self._repository.get_ticket(ticket_id)
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
            self._repository.rate_ticket(ticket_id, customer.user_id, rating, part)
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
        attachments: Callable[[Ticket], list[AttachmentRef]] | None = None,
    ) -> TicketPart:
        """A reply the customer sees, or an internal note they never do; files attached to either.

        ``attachments`` resolves the attachment references once the ticket is known.
        """
        text = body.strip()
        if not text and attachments is None:
            raise InvalidInput("reply body can't be empty", [("body", "must contain some text")])
        ticket = self._repository.get_ticket(ticket_id)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        if not agent.may_work_on_team(ticket.team_id):
            raise Forbidden(f"only agents of team '{ticket.team_id}' (or admins) can reply on ticket {ticket_id}")
        refs = attachments(ticket) if attachments is not None else []
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
        for attempt in range(REPLY_ATTEMPTS - 1):
            try:
                self._append_part(ticket, new_part)
                self._announce_reply(agent, ticket, new_part)
                return new_part
            except VersionConflict:
                _pause_before_retry(attempt)
                refreshed = self._repository.get_ticket(ticket_id)
                if refreshed is None:
                    raise NotFound(f"ticket {ticket_id} not found") from None
                ticket = refreshed
        self._append_part(ticket, new_part)
        self._announce_reply(agent, ticket, new_part)
        return new_part

    def _announce_reply(self, agent: AgentPrincipal, ticket: Ticket, part: TicketPart) -> None:
        if self._trackers is not None and part.visible_to_customer:
            self._trackers.announce(ticket, agent, state_changed=False, reply=part.body)

    def _append_part(self, ticket: Ticket, part: TicketPart) -> None:
        owner = ticket_attachment_owner(ticket, internal=not part.visible_to_customer) if part.attachments else None
        try:
            self._repository.update_ticket(
                ticket.model_copy(update={"updated_at": part.created_at, **self._reply_clocks(ticket, part)}),
                based_on_version=ticket.version,
                parts=[part],
                attachment_owner=owner,
            )
        except ConditionFailed as failure:
            raise Conflict("an attachment was already sent, or belongs elsewhere: upload it again") from failure
