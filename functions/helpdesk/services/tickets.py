"""Tickets: created for a customer (often from their conversation), worked by teams, tracked by the customer.

Every change appends a part to the ticket's timeline in the same transaction as the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from helpdesk.domain.customer_pages import CUSTOMER_READ_AHEAD, older_page
from helpdesk.domain.errors import (
    ConditionFailed,
    Conflict,
    InvalidInput,
    NotFound,
    TicketNumberTaken,
    VersionConflict,
)
from helpdesk.domain.models import (
    Author,
    AuthorType,
    Conversation,
    ConversationStatus,
    Message,
    MessageKind,
    Page,
    PartType,
    Priority,
    Ticket,
    TicketCategory,
    TicketPage,
    TicketPart,
    TicketView,
    new_id,
    utc_now,
)
from helpdesk.domain.policy import Action, Resource, decide
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.domain.sla import SlaState
from helpdesk.domain.tags import clean_tags
from helpdesk.domain.ticket_drafts import draft_ticket
from helpdesk.domain.ticket_opening import build_ticket, known_team, known_ticket_type
from helpdesk.domain.ticket_rules import (
    NewTicket,
    TicketChanges,
    apply_changes,
    category_change,
    clock_fields,
    clocks_of,
    created_part,
    reply_clocks,
)
from helpdesk.domain.workspace import AttributeType, StateCategory, TicketType, Workspace
from helpdesk.services.capsules import record_hand_off
from helpdesk.services.ports import AttachmentChecker, AttachmentRecords, ConversationReader, TicketRecords
from helpdesk.services.retries import retry_on_conflict
from helpdesk.services.ticket_replies import TicketReplies, TrackerAnnouncer

__all__ = ["NewTicket", "TicketChanges", "TicketService", "clock_fields"]

CAPSULE_PARTS = 50
"""How much of the timeline a hand-off's context capsule is made from."""
NUMBER_ATTEMPTS = 8
"""Opening a ticket claims the next number in its own write; a lost race reads the counter again."""


class TicketService(TicketReplies):
    """Replies, notes and the customer's rating come from ``TicketReplies`` (``services/ticket_replies.py``)."""

    def __init__(
        self,
        tickets: TicketRecords,
        conversations: ConversationReader,
        attachments: AttachmentRecords,
        workspace: Workspace,
        trackers: TrackerAnnouncer | None = None,
        *,
        files: AttachmentChecker | None = None,
    ) -> None:
        super().__init__(tickets, workspace, trackers, files=files)
        self._conversations = conversations
        self._attachments = attachments

    def _ticket_type(self, type_id: str) -> TicketType:
        return known_ticket_type(self._workspace, type_id)

    def _team(self, team_id: str) -> str:
        return known_team(self._workspace, team_id)

    # --- SLA clocks ------------------------------------------------------------------------------

    def clocks(self, ticket: Ticket) -> SlaState | None:
        return clocks_of(ticket, self._workspace.business_calendar)

    def category_change(self, ticket: Ticket, new: StateCategory, now: datetime) -> dict[str, Any]:
        return category_change(ticket, new, now, self._workspace.business_calendar)

    def _reply_clocks(self, ticket: Ticket, part: TicketPart) -> dict[str, Any]:
        return reply_clocks(ticket, part, self._workspace.business_calendar)

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
            pass  # linked below, once the caller may work on what it serves
        elif request.linked_ticket_id or request.linked_conversation_id:
            raise InvalidInput(
                "only back-office tickets link to a ticket or conversation",
                [("linked_ticket_id", "set category to back_office")],
            )
        if request.category is TicketCategory.BACK_OFFICE:
            links |= self._back_office_links(agent, request)
        ticket, _ = build_ticket(
            self._workspace, agent.author, request, customer_id=customer_id, conversation_id=None, context=None
        )
        self._authorize(agent, Action.CREATE, Resource.team(ticket.team_id))
        ticket = ticket.model_copy(update={"number": self._store.next_ticket_number(), **links})
        self._store.create_ticket(ticket, [created_part(ticket, agent.author)])
        return ticket

    def _back_office_links(self, agent: AgentPrincipal, request: NewTicket) -> dict[str, Any]:
        """What a back-office ticket serves: a ticket or conversation the agent may work on."""
        if not (request.linked_ticket_id or request.linked_conversation_id):
            raise InvalidInput(
                "a back-office ticket serves a customer ticket or conversation",
                [("linked_ticket_id", "give linked_ticket_id or linked_conversation_id")],
            )
        if request.linked_ticket_id:
            served = self._store.get_ticket(request.linked_ticket_id)
            if served is None:
                raise InvalidInput("linked ticket not found", [("linked_ticket_id", "no such ticket")])
            self._authorize(agent, Action.WORK, Resource.ticket(served))
        if request.linked_conversation_id:
            conversation = self._conversations.get_conversation(request.linked_conversation_id)
            if conversation is None:
                raise InvalidInput(
                    "linked conversation not found", [("linked_conversation_id", "no such conversation")]
                )
            self._authorize(agent, Action.WORK, Resource.conversation(conversation))
        return {"linked_ticket_id": request.linked_ticket_id, "conversation_id": request.linked_conversation_id}

    def convert_conversation(self, agent: AgentPrincipal, conversation_id: str, request: NewTicket) -> Ticket:
        """Open a ticket on the customer's behalf from their conversation, and tell them its number.

        One read (the conversation and the last ticket number) and one write (which claims the next
        number); when another ticket took that number meanwhile, both again.
        """
        return retry_on_conflict(
            lambda: self._convert(agent, conversation_id, request),
            attempts=NUMBER_ATTEMPTS,
            conflicts=(TicketNumberTaken,),
            gave_up=lambda: Conflict("tickets are being opened very fast right now: try again"),
        )

    def _convert(self, agent: AgentPrincipal, conversation_id: str, request: NewTicket) -> Ticket:
        conversation, last_number = self._store.read_for_conversion(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        self._authorize(agent, Action.CONVERT, Resource.conversation(conversation))
        if conversation.ticket_id is not None:
            raise Conflict(f"conversation {conversation_id} already has ticket {conversation.ticket_id}")
        if not (request.title or "").strip():  # the email's subject or the bot path's title, if there is one
            ticket_type = known_ticket_type(self._workspace, request.ticket_type_id)
            drafted = draft_ticket(ticket_type, conversation, [], self._workspace.bot)
            request = request.model_copy(update={"title": drafted.title})
        ticket, ticket_type = build_ticket(
            self._workspace,
            agent.author,
            request,
            customer_id=conversation.customer_id,
            conversation_id=conversation.id,
            context=conversation.context,
        )
        ticket = ticket.model_copy(
            update={
                "verified_attributes": conversation.verified_attributes,
                "number": last_number + 1,
                "customer_name": conversation.customer_name,
                "customer_email": conversation.customer_email,
            }
        )
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
            self._store.create_ticket(
                ticket,
                [created_part(ticket, agent.author)],
                from_conversation=conversation,
                conversation_message=notice,
                claims_number=True,
            )
        except TicketNumberTaken:
            raise
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
        ticket, ticket_type = build_ticket(
            self._workspace,
            bot,
            request,
            customer_id=conversation.customer_id,
            conversation_id=conversation.id,
            context=conversation.context,
        )
        number = self._store.next_ticket_number()
        ticket = ticket.model_copy(
            update={
                "number": number,
                "verified_attributes": conversation.verified_attributes,
                "customer_name": conversation.customer_name,
                "customer_email": conversation.customer_email,
            }
        )
        file_ids = [
            file_id
            for attribute in ticket_type.attributes
            if attribute.type is AttributeType.FILES
            for file_id in ticket.attributes.get(attribute.id) or []
        ]
        files = [
            a.ref() for a in self._attachments.get_attachments(file_ids) if a.customer_id == conversation.customer_id
        ]
        parts = [created_part(ticket, bot)]
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
            self._store.create_ticket(
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
        ticket, parts, has_more = self._store.ticket_page(ticket_id, before=before, limit=read)
        if ticket is None or ticket.customer_id != customer.user_id:
            raise NotFound(f"ticket {ticket_id} not found")
        visible, cursor = older_page(parts, more_stored=has_more, limit=limit, shown=lambda p: p.visible_to_customer)
        return TicketPage(ticket=ticket, timeline=visible, next_cursor=cursor)

    def page_for_agent(self, agent: AgentPrincipal, ticket_id: str, *, before: str | None, limit: int) -> TicketPage:
        ticket, parts, has_more = self._store.ticket_page(ticket_id, before=before, limit=limit)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        self._authorize(agent, Action.READ, Resource.ticket(ticket))
        return TicketPage(ticket=ticket, timeline=parts, next_cursor=parts[0].id if has_more and parts else None)

    def list_for_customer(self, customer: CustomerPrincipal, *, cursor: str | None, limit: int) -> Page[Ticket]:
        return self._store.list_customer_tickets(customer.user_id, cursor=cursor, limit=limit)

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
        if view.team_id:
            self._authorize(agent, Action.READ, Resource.team(view.team_id))
        page = self._store.list_tickets_in_view(view, cursor=cursor, limit=limit, oldest_first=oldest_first)
        if view.team_id:
            return page
        # Views across teams (an assignee's, a type's): leave out what this agent may not read.
        visibility = self._workspace.agent_visibility
        readable = [t for t in page.items if decide(agent, Action.READ, Resource.ticket(t), visibility).allowed]
        return Page[Ticket](items=readable, next_cursor=page.next_cursor)

    # --- changing --------------------------------------------------------------------------------

    def update(self, agent: AgentPrincipal, ticket_id: str, changes: TicketChanges, *, version: int) -> Ticket:
        """One read and one write. A change that may hand the ticket to someone else reads the ticket with
        its recent timeline (one Query), for the receiver's context capsule."""
        may_hand_off = changes.team_id is not None or changes.assignee_id is not None
        timeline: list[TicketPart] = []
        if may_hand_off:
            ticket, timeline, _ = self._store.ticket_page(ticket_id, before=None, limit=CAPSULE_PARTS)
        else:
            ticket = self._store.get_ticket(ticket_id)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        self._authorize_changes(agent, ticket, changes)
        if ticket.version != version:
            raise VersionConflict(
                f"ticket {ticket_id} is at version {ticket.version}, not {version}: "
                "reload it and apply your change again",
                current_version=ticket.version,
            )
        ticket_type = self._ticket_type(ticket.ticket_type_id)
        if changes.team_id is not None:
            self._team(changes.team_id)
        changes = changes.model_copy(
            update={
                "add_tags": clean_tags(changes.add_tags, self._workspace.tags, "add_tags"),
                "remove_tags": clean_tags(changes.remove_tags, self._workspace.tags, "remove_tags"),
            }
        )
        now = utc_now()
        edit = apply_changes(ticket, ticket_type, changes, agent.author, now, self._workspace.business_calendar)
        if not edit.parts:
            return ticket
        updates, parts = edit.updates, edit.parts
        record_hand_off(edit, ticket, timeline, by=agent, at=now)  # the receiver sees the capsule first
        updated = ticket.model_copy(update={**updates, "updated_at": now})
        saved = self._store.update_ticket(
            updated, based_on_version=version, parts=parts, tags_before=ticket.tags if "tags" in updates else None
        )
        if self._trackers is not None and "state_id" in updates:
            self._trackers.announce(saved, agent, state_changed=True, reply=None)
        return saved

    def _authorize_changes(self, agent: AgentPrincipal, ticket: Ticket, changes: TicketChanges) -> None:
        """Working the ticket needs its team; moving it to another team is a hand-off; naming an agent,
        an assignment to someone of the team it ends up in."""
        resource = Resource.ticket(ticket)
        self._authorize(agent, Action.WORK, resource)
        team = changes.team_id or ticket.team_id
        if team != ticket.team_id:
            self._authorize(agent, Action.HAND_OFF, resource)
        if changes.assignee_id is not None and not changes.unassign and changes.assignee_id != ticket.assignee_id:
            self._authorize(agent, Action.ASSIGN, resource, assignee_teams=frozenset({team}))
