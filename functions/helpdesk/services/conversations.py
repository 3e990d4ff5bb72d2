"""Conversations: a customer (or anonymous visitor) starts one in the messenger; agents work it from the inbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from helpdesk.domain.customer_pages import CUSTOMER_READ_AHEAD, newer_page
from helpdesk.domain.errors import ConditionFailed, Conflict, InvalidInput, NotFound
from helpdesk.domain.models import (
    AttachmentRef,
    Author,
    AuthorType,
    BotState,
    Channel,
    ContextPackage,
    Conversation,
    ConversationPage,
    ConversationStatus,
    Customer,
    Message,
    MessageKind,
    Page,
    new_id,
    utc_now,
)
from helpdesk.domain.policy import Action, Resource, authorize, decide
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.domain.workspace import Workspace
from helpdesk.services.attachments import conversation_attachment_owner
from helpdesk.services.bot import BotEngine, BotTurn, CustomerInput
from helpdesk.services.bot_turns import BotTicketOpener, BotTurns
from helpdesk.services.capsules import conversation_capsule
from helpdesk.services.messages import clean_body, internal_note, mentioned, new_message, preview
from helpdesk.services.ports import AttachmentChecker, ConversationRecords

FRESH_TOKEN_SECONDS = 10 * 60
"""In-app verification needs a token issued this recently: the app just vouched for the customer."""


def customer_record(customer: CustomerPrincipal) -> Customer:
    return Customer(user_id=customer.user_id, email=customer.email, name=customer.name, phone=customer.phone)


class ConversationService:
    def __init__(
        self,
        conversations: ConversationRecords,
        workspace: Workspace,
        bot: BotEngine | None = None,
        tickets: BotTicketOpener | None = None,
        files: AttachmentChecker | None = None,
    ) -> None:
        """``files`` checks the attachments a customer's message names (required to send any)."""
        self._store = conversations
        self._workspace = workspace
        self._bot = bot
        self._files = files
        self._turns = BotTurns(conversations, bot, tickets)

    # --- the customer's side ---------------------------------------------------------------------

    def start(
        self,
        customer: CustomerPrincipal,
        body: str,
        context: ContextPackage | None,
        attachments: list[AttachmentRef] | None = None,
        *,
        option_id: str | None = None,
    ) -> ConversationPage:
        """``option_id``: the customer started from one of the home's menu options (the bot's paths)."""
        refs = attachments or []
        text = clean_body(body, attachments=refs)
        now = utc_now()
        conversation = Conversation(
            id=new_id(),
            customer_id=customer.user_id,
            customer_name=customer.name,
            customer_email=customer.email,
            customer_is_visitor=customer.is_visitor,
            verified_attributes=dict(customer.verified_attributes),
            status=ConversationStatus.BOT if self._bot else ConversationStatus.OPEN,
            team_id=self._workspace.default_team,
            context=context,
            preview=preview(text, refs),
            bot=BotState() if self._bot else None,
            created_at=now,
            updated_at=now,
        )
        message = Message(
            id=new_id(),
            conversation_id=conversation.id,
            author=customer.author,
            body=text,
            attachments=refs,
            created_at=now,
        )
        replies: list[Message] = []
        turn: BotTurn | None = None
        if self._bot is not None:
            turn = self._bot.respond(
                conversation, conversation.bot, CustomerInput(text, option_id, tuple(refs)), customer=customer
            )
            conversation, replies = self._turns.apply(conversation, turn, [message])
        try:
            self._store.start_conversation(customer_record(customer), conversation, message, replies)
        except ConditionFailed as failure:
            raise Conflict("an attachment was already sent: upload it again") from failure
        written = [message, *replies]
        if turn is not None and turn.ticket is not None:
            conversation, extra = self._turns.open_ticket(conversation, turn.ticket)
            written += extra
        visible, cursor = newer_page(written, after=None, limit=len(written), shown=lambda m: not m.internal)
        return ConversationPage(conversation=conversation, messages=visible, next_cursor=cursor)

    def page_for_customer(
        self, customer: CustomerPrincipal, conversation_id: str, *, after: str | None, limit: int
    ) -> ConversationPage:
        # Polling reads past internal notes, so the cursor (a message the customer sees) can move beyond them.
        read = limit if after is None else limit + CUSTOMER_READ_AHEAD
        conversation, messages, _ = self._store.conversation_page(conversation_id, after=after, limit=read)
        if conversation is None:
            # More new messages than a page: the conversation item is beyond it.
            conversation = self._store.get_conversation(conversation_id)
        if conversation is None or conversation.customer_id != customer.user_id:
            raise NotFound(f"conversation {conversation_id} not found")
        visible, cursor = newer_page(messages, after=after, limit=limit, shown=lambda m: not m.internal)
        return ConversationPage(conversation=conversation, messages=visible, next_cursor=cursor)

    def send_as_customer(
        self,
        customer: CustomerPrincipal,
        conversation_id: str,
        body: str,
        attachments: list[AttachmentRef] | None = None,
        *,
        option_id: str | None = None,
        attachment_ids: Sequence[str] = (),
    ) -> Message:
        """The customer writes, or picks one of the quick replies the bot offered (``option_id``).

        ``attachment_ids``: files the customer uploaded; the conversation and they are read together
        (one request), so a message with files is that read and one write.
        """
        refs = attachments or []
        conversation = None
        if attachment_ids:
            assert self._files is not None, "sending files needs the attachment checker"
            conversation, files = self._store.read_for_message(conversation_id, attachment_ids)
            if conversation is None or conversation.customer_id != customer.user_id:
                raise NotFound(f"conversation {conversation_id} not found")
            refs = self._files.refs_for_message(customer.user_id, list(attachment_ids), known=files)
        elif self._bot is not None or refs or option_id:
            conversation = self._store.get_conversation(conversation_id)
            if conversation is None or conversation.customer_id != customer.user_id:
                raise NotFound(f"conversation {conversation_id} not found")
        if option_id is not None:
            offered = conversation.bot.offered if conversation and conversation.bot else []
            picked = next((o for o in offered if o.id == option_id), None)
            if picked is None or conversation is None or conversation.status is not ConversationStatus.BOT:
                choices = ", ".join(o.id for o in offered) or "none are offered now"
                raise InvalidInput("that option is not on offer", [("option_id", f"must be one of: {choices}")])
            body = body.strip() or picked.label
        text = clean_body(body, attachments=refs)
        if conversation is not None and conversation.status is ConversationStatus.BOT and self._bot is not None:
            return self._turns.send(customer, conversation, CustomerInput(text, option_id, tuple(refs)), text)
        ticket_id = conversation.ticket_id if conversation is not None and refs else None
        return self._append(
            conversation_id, customer.user_id, customer.author, text, refs, as_owner=True, ticket_id=ticket_id
        )

    def close(self, customer: CustomerPrincipal, conversation_id: str) -> Conversation:
        conversation = self._store.get_conversation(conversation_id)
        if conversation is None or conversation.customer_id != customer.user_id:
            raise NotFound(f"conversation {conversation_id} not found")
        if conversation.status is ConversationStatus.CLOSED:
            return conversation
        try:
            self._store.set_conversation_status(conversation, ConversationStatus.CLOSED, customer.user_id)
        except ConditionFailed as failure:
            raise NotFound(f"conversation {conversation_id} not found") from failure
        return conversation.model_copy(update={"status": ConversationStatus.CLOSED, "updated_at": utc_now()})

    def verify_identity(self, customer: CustomerPrincipal, conversation_id: str) -> Message:
        """The customer's app vouched for them again with a fresh token: record it for the agent."""
        if customer.is_visitor or customer.email_session:
            who = "a visitor" if customer.is_visitor else "a session opened from an email link"
            raise InvalidInput(f"{who} can't be verified", [("authorization", "send a token signed by the business")])
        now = utc_now()
        issued = customer.token_issued_at
        if issued is None or now.timestamp() - issued > FRESH_TOKEN_SECONDS:
            raise InvalidInput(
                "verification needs a freshly issued token",
                [("authorization", f"the token's 'iat' must be within the last {FRESH_TOKEN_SECONDS // 60} minutes")],
            )
        message = Message(
            id=new_id(),
            conversation_id=conversation_id,
            author=customer.author,
            body="Identity verified in the app",
            kind=MessageKind.IDENTITY_VERIFIED,
            created_at=now,
        )
        try:
            self._store.record_verification(conversation_id, customer.user_id, message)
        except ConditionFailed as failure:
            raise NotFound(f"conversation {conversation_id} not found") from failure
        return message

    def merge_visitor(self, customer: CustomerPrincipal, visitor: CustomerPrincipal) -> int:
        """A visitor identified themselves: their conversations and tickets become the customer's."""
        if customer.is_visitor or not visitor.is_visitor:
            raise InvalidInput(
                "merge a visitor into an identified customer",
                [("visitor_token", "must be a visitor token, sent with the customer's own token")],
            )
        return self._store.merge_visitor(visitor.user_id, customer_record(customer))

    def list_for_customer(self, customer: CustomerPrincipal, *, cursor: str | None, limit: int) -> Page[Conversation]:
        return self._store.list_customer_conversations(customer.user_id, cursor=cursor, limit=limit)

    # --- the agent's side ------------------------------------------------------------------------

    def _authorize(self, agent: AgentPrincipal, action: Action, conversation: Conversation) -> None:
        authorize(agent, action, Resource.conversation(conversation), self._workspace.agent_visibility)

    def _agent_conversation(self, agent: AgentPrincipal, conversation_id: str, action: Action) -> Conversation:
        conversation = self._store.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        self._authorize(agent, action, conversation)
        return conversation

    def inbox(
        self,
        agent: AgentPrincipal,
        team_id: str,
        status: ConversationStatus,
        *,
        cursor: str | None,
        limit: int,
        oldest_first: bool = False,
    ) -> Page[Conversation]:
        if self._workspace.team(team_id) is None:
            raise InvalidInput(f"unknown team '{team_id}'", [("team_id", f"'{team_id}' is not a team")])
        authorize(agent, Action.READ, Resource.team(team_id), self._workspace.agent_visibility)
        return self._store.list_team_conversations(
            team_id, status, cursor=cursor, limit=limit, oldest_first=oldest_first
        )

    def page_for_agent(
        self, agent: AgentPrincipal, conversation_id: str, *, after: str | None, limit: int
    ) -> ConversationPage:
        conversation, messages, _ = self._store.conversation_page(conversation_id, after=after, limit=limit)
        if conversation is None:
            conversation = self._store.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        self._authorize(agent, Action.READ, conversation)
        cursor = messages[-1].id if messages else after
        return ConversationPage(conversation=conversation, messages=messages, next_cursor=cursor)

    def reply_as_agent(
        self, agent: AgentPrincipal, conversation_id: str, body: str, *, internal: bool, file_ids: Sequence[str] = ()
    ) -> Message:
        """A reply the customer sees, or an internal note (@mentions recorded), its files read with the conversation."""
        conversation, files = self._store.read_for_message(conversation_id, file_ids)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        self._authorize(agent, Action.WORK, conversation)
        files_owner = conversation_attachment_owner(conversation.id, conversation.customer_id, internal=internal)
        assert self._files is not None or not file_ids, "sending files needs the attachment checker"
        refs = self._files.refs_for_message(files_owner, list(file_ids), known=files) if self._files else []
        text = clean_body(body, attachments=refs)
        mentions = mentioned(text) if internal else []
        if conversation.status is ConversationStatus.BOT and not internal:
            self._turns.taken_over(conversation, agent.id)  # an agent answering takes it from the bot
        # In a conversation that started by email, the reply also goes out by email (see domain_events).
        emailed = conversation.channel is Channel.EMAIL and not internal
        return self._append(
            conversation_id,
            conversation.customer_id,
            agent.author,
            text,
            refs,
            as_owner=False,
            internal=internal,
            mentions=mentions,
            channel=Channel.EMAIL if emailed else None,
        )

    def assign(
        self,
        agent: AgentPrincipal,
        conversation_id: str,
        *,
        team_id: str | None,
        assignee_id: str | None,
        unassign: bool = False,
        someone_present: Callable[[str], str | None] | None = None,
    ) -> Conversation:
        """Hand the conversation to a team and/or agent; the receiver gets a context capsule.

        With ``someone_present`` and no agent named, live routing picks an online agent of the team.
        """
        conversation, messages, _ = self._store.conversation_page(conversation_id, after=None, limit=50)
        if conversation is None:
            conversation = self._store.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        team = team_id or conversation.team_id
        if self._workspace.team(team) is None:
            raise InvalidInput(f"unknown team '{team}'", [("team_id", f"'{team}' is not a team")])
        resource, visibility = Resource.conversation(conversation), self._workspace.agent_visibility
        authorize(agent, Action.WORK, resource, visibility)
        if team != conversation.team_id:
            authorize(agent, Action.HAND_OFF, resource, visibility)
        if assignee_id is not None and not unassign and assignee_id != conversation.assignee_id:
            # The agent named is taken to be of the team the conversation goes to.
            authorize(agent, Action.ASSIGN, resource, visibility, assignee_teams=frozenset({team}))
        assignee = None if unassign else assignee_id
        if assignee is None and not unassign and someone_present is not None:
            assignee = someone_present(team)
        if team == conversation.team_id and assignee == conversation.assignee_id:
            return conversation
        capsule = conversation_capsule(conversation, messages, by=agent, to_team=team, to_agent=assignee)
        updated = conversation.model_copy(
            update={"team_id": team, "assignee_id": assignee, "capsule": capsule, "updated_at": utc_now()}
        )
        whom = f"{assignee} ({team})" if assignee else f"team {team}"
        body = f"{agent.author.name or agent.id} handed this conversation to {whom}"
        note = internal_note(conversation_id, agent.author, body, updated.updated_at, kind=MessageKind.HANDOFF)
        self._store.assign_conversation(updated, note)
        return updated

    def set_status(
        self,
        agent: AgentPrincipal,
        conversation_id: str,
        status: ConversationStatus,
        *,
        snoozed_until: datetime | None = None,
    ) -> Conversation:
        """Close, snooze until a time, or reopen a conversation from the inbox."""
        conversation = self._agent_conversation(agent, conversation_id, Action.WORK)
        now = utc_now()
        if status is ConversationStatus.SNOOZED:
            if snoozed_until is None or snoozed_until.tzinfo is None or snoozed_until <= now:
                raise InvalidInput(
                    "snooze needs a time in the future",
                    [("snoozed_until", "must be a future ISO 8601 date-time with a time zone")],
                )
        elif snoozed_until is not None:
            raise InvalidInput("only a snooze takes a time", [("snoozed_until", "only with status 'snoozed'")])
        updated = conversation.model_copy(update={"status": status, "snoozed_until": snoozed_until, "updated_at": now})
        wording = {
            ConversationStatus.OPEN: "reopened the conversation",
            ConversationStatus.CLOSED: "closed the conversation",
            ConversationStatus.SNOOZED: f"snoozed the conversation until {snoozed_until}",
        }[status]
        body = f"{agent.author.name or agent.id} {wording}"
        note = internal_note(conversation_id, agent.author, body, now, kind=MessageKind.STATUS_CHANGE)
        self._store.set_conversation_status(updated, status, owner=None, message=note)
        return updated

    def wake_due(self, now: datetime | None = None) -> int:
        """Reopen the snoozed conversations whose time has come; returns how many woke."""
        moment = now or utc_now()
        woken = 0
        for conversation in self._store.conversations_due_to_wake(moment):
            if conversation.snoozed_until is None or conversation.snoozed_until > moment:
                continue
            note = internal_note(
                conversation.id,
                Author(type=AuthorType.BOT, id="snooze", name="Snooze"),
                "The snooze ended: back in the team's open conversations",
                moment,
                kind=MessageKind.STATUS_CHANGE,
            )
            reopened = conversation.model_copy(update={"status": ConversationStatus.OPEN, "snoozed_until": None})
            try:
                self._store.set_conversation_status(
                    reopened,
                    ConversationStatus.OPEN,
                    owner=None,
                    message=note,
                    only_if_snoozed_until=conversation.snoozed_until,
                )
            except ConditionFailed:
                continue  # reopened or snoozed again meanwhile: nothing to wake
            woken += 1
        return woken

    def inbox_for_assignee(
        self, agent: AgentPrincipal, assignee_id: str, *, oldest_first: bool, cursor: str | None, limit: int
    ) -> Page[Conversation]:
        """An assignee's conversations; "unassigned" lists only open ones (waiting for someone to take them),
        never closed, snoozed or bot-handled ones."""
        who = {"me": agent.id, "unassigned": None}.get(assignee_id, assignee_id)
        page = self._store.list_assignee_conversations(who, cursor=cursor, limit=limit, oldest_first=oldest_first)
        # One index across teams: leave out what this agent may not read (the cursor still moves on).
        visibility = self._workspace.agent_visibility
        readable = [
            c
            for c in page.items
            if decide(agent, Action.READ, Resource.conversation(c), visibility).allowed
            and (who is not None or c.status is ConversationStatus.OPEN)
        ]
        return Page[Conversation](items=readable, next_cursor=page.next_cursor)

    def request_verification(self, agent: AgentPrincipal, conversation_id: str) -> Message:
        """Ask the customer's app to vouch for them again; the messenger answers with a fresh token."""
        conversation = self._agent_conversation(agent, conversation_id, Action.WORK)
        if conversation.customer_is_visitor:
            raise Conflict("this customer is an anonymous visitor: they must sign in before they can be verified")
        return self._append(
            conversation_id,
            conversation.customer_id,
            agent.author,
            "To keep your account safe, please confirm it's you.",
            [],
            as_owner=False,
            kind=MessageKind.VERIFICATION_REQUEST,
        )

    def _append(
        self,
        conversation_id: str,
        customer_id: str,
        author: Author,
        text: str,
        attachments: list[AttachmentRef],
        *,
        as_owner: bool,
        internal: bool = False,
        kind: MessageKind = MessageKind.TEXT,
        ticket_id: str | None = None,
        mentions: list[str] | None = None,
        channel: Channel | None = None,
    ) -> Message:
        message, part = new_message(
            conversation_id,
            author,
            text,
            attachments,
            internal=internal,
            kind=kind,
            ticket_id=ticket_id,
            mentions=mentions,
            channel=channel,
        )

        def write() -> None:
            self._store.add_message(
                customer_id,
                message,
                preview=None if internal else preview(text, attachments),
                owner=customer_id if as_owner else None,
                must_be_open=as_owner and author.type is AuthorType.CUSTOMER,
                ticket_part=part,
                files_owner=conversation_attachment_owner(conversation_id, customer_id, internal=internal),
            )

        try:
            write()
        except ConditionFailed as failure:
            current = self._store.get_conversation(conversation_id)
            if current is None or current.customer_id != customer_id:
                raise NotFound(f"conversation {conversation_id} not found") from failure
            if current.status is ConversationStatus.CLOSED:
                raise Conflict(f"conversation {conversation_id} is closed: start a new conversation") from failure
            if current.status is not ConversationStatus.SNOOZED:
                raise Conflict("an attachment was already sent: upload it again") from failure
            # The customer wrote to a snoozed conversation: it wakes up in the team's open view.
            self._store.set_conversation_status(
                current.model_copy(update={"snoozed_until": None}), ConversationStatus.OPEN, owner=customer_id
            )
            try:
                write()
            except ConditionFailed as again:
                raise Conflict("an attachment was already sent: upload it again") from again
        return message
