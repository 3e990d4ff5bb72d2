"""The bot's side of a conversation: each customer message it answers is one turn, stored atomically.

A turn runs the bot engine (``services/bot.py``) on the conversation's state and writes the
customer's message, the bot's replies and its new state in one guarded transaction; a turn lost to
a concurrent write is re-run on the fresh state. A turn may hand the conversation to a team (with a
context capsule) or open a ticket with what the bot collected.
"""

from __future__ import annotations

from typing import Any, Protocol

from helpdesk.domain.errors import ConditionFailed, Conflict, InvalidInput, NotFound
from helpdesk.domain.models import (
    Author,
    AuthorType,
    BotOutcome,
    BotState,
    Conversation,
    ConversationStatus,
    HandoffReason,
    Message,
    MessageKind,
    ResolvedBy,
    new_id,
    utc_now,
)
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.services.bot import BotEngine, BotTurn, CustomerInput, TicketRequest
from helpdesk.services.capsules import conversation_capsule
from helpdesk.services.messages import internal_note, ordered_ids, preview
from helpdesk.services.ports import ConversationRecords

BOT_TURN_ATTEMPTS = 3
"""A bot turn lost to a concurrent write of the same conversation is re-run on the fresh state."""


class BotTicketOpener(Protocol):
    def open_for_bot(
        self, conversation: Conversation, request: Any, *, bot: Author, notice: str
    ) -> tuple[Any, Message]: ...


def collected(state: BotState) -> dict[str, Any]:
    """What the bot collected, for the receiving agent: answers, not its bookkeeping."""
    return {k: v for k, v in state.vars.items() if not k.startswith("_") and k != "text"}


class BotTurns:
    def __init__(self, store: ConversationRecords, bot: BotEngine | None, tickets: BotTicketOpener | None) -> None:
        self._store = store
        self._bot = bot
        self._tickets = tickets

    def author(self) -> Author:
        return Author(type=AuthorType.BOT, id="bot", name=self._bot.name if self._bot else "Bot")

    def apply(
        self, conversation: Conversation, turn: BotTurn, history: list[Message]
    ) -> tuple[Conversation, list[Message]]:
        """The conversation after the bot's turn, and the bot's messages (ids after ``history``'s)."""
        now = utc_now()
        ids = ordered_ids(len(turn.replies) + 1)
        bot = self.author()
        replies = [
            Message(
                id=ids[i],
                conversation_id=conversation.id,
                author=bot,
                body=reply.body,
                kind=reply.kind,
                options=reply.options,
                internal=reply.internal,
                created_at=now,
            )
            for i, reply in enumerate(turn.replies)
        ]
        said = [m for m in replies if not m.internal]
        update: dict[str, Any] = {"bot": turn.state, "updated_at": now}
        if said:
            update["preview"] = preview(said[-1].body, [])
        outcome = turn.state.outcome
        if outcome is BotOutcome.RESOLVED:
            update["status"] = ConversationStatus.CLOSED
        elif turn.handoff is not None:
            handoff = turn.handoff
            capsule = conversation_capsule(
                conversation,
                [*history, *replies],
                by=AgentPrincipal(id="bot", name=bot.name),
                to_team=handoff.team_id,
                to_agent=handoff.agent_id,
                collected=collected(turn.state),
            )
            update |= {
                "status": ConversationStatus.OPEN,
                "team_id": handoff.team_id,
                "assignee_id": handoff.agent_id,
                "capsule": capsule,
            }
            whom = f"{handoff.agent_id} ({handoff.team_id})" if handoff.agent_id else f"team {handoff.team_id}"
            body = f"{bot.name} handed this conversation to {whom}"
            replies.append(internal_note(conversation.id, bot, body, now, kind=MessageKind.HANDOFF, message_id=ids[-1]))
        return conversation.model_copy(update=update), replies

    def open_ticket(self, conversation: Conversation, request: TicketRequest) -> tuple[Conversation, list[Message]]:
        """Open the ticket the bot asked for; if the collected values don't fit, a team takes over."""
        from helpdesk.services.tickets import NewTicket  # the ticket service imports this module

        assert self._tickets is not None, "a bot that opens tickets needs the ticket service"
        new = NewTicket(
            ticket_type_id=request.ticket_type_id,
            attributes=request.attributes,
            team_id=request.team_id,
            title=request.title,
        )
        try:
            ticket, notice = self._tickets.open_for_bot(conversation, new, bot=self.author(), notice=request.message)
        except (InvalidInput, Conflict) as problem:
            return self.rescue(conversation, request.fallback_team, f"couldn't open the ticket: {problem}")
        opened = conversation.model_copy(
            update={"ticket_id": ticket.id, "status": ConversationStatus.CLOSED, "preview": notice.body}
        )
        return opened, [notice]

    def taken_over(self, conversation: Conversation, agent_id: str) -> None:
        """An agent answered while the bot was talking: the conversation is theirs (or its assignee's) now."""
        state = (conversation.bot or BotState()).model_copy(
            update={
                "outcome": BotOutcome.HANDED_OFF,
                "resolved_by": ResolvedBy.AGENT,
                "handoff_reason": HandoffReason.AGENT_TOOK_OVER,
                "awaiting": None,
            }
        )
        taken = conversation.model_copy(
            update={
                "status": ConversationStatus.OPEN,
                "bot": state,
                "assignee_id": conversation.assignee_id or agent_id,
            }
        )
        try:
            self._store.save_bot_turn(conversation, taken, [])
        except ConditionFailed as failure:
            raise Conflict("the customer was answered meanwhile: reload the conversation") from failure

    def rescue(self, conversation: Conversation, team_id: str, why: str) -> tuple[Conversation, list[Message]]:
        """The bot couldn't finish: the team takes over, with a note saying why."""
        bot = self.author()
        now = utc_now()
        ids = ordered_ids(2)
        state = (conversation.bot or BotState()).model_copy(
            update={"outcome": BotOutcome.HANDED_OFF, "handoff_reason": HandoffReason.BOT_FAILED}
        )
        sorry = Message(
            id=ids[0],
            conversation_id=conversation.id,
            author=bot,
            body="I'm passing you to a person who can help.",
            created_at=now,
        )
        note = internal_note(
            conversation.id, bot, f"{bot.name} {why}", now, kind=MessageKind.HANDOFF, message_id=ids[1]
        )
        after = conversation.model_copy(
            update={"status": ConversationStatus.OPEN, "team_id": team_id, "bot": state, "updated_at": now}
        )
        self._store.save_bot_turn(conversation, after, [sorry, note])
        return after, [sorry, note]

    def send(self, customer: CustomerPrincipal, conversation: Conversation, said: CustomerInput, text: str) -> Message:
        """The customer answered the bot: run the bot's turn and store it with the message, atomically."""
        assert self._bot is not None
        for attempt in range(BOT_TURN_ATTEMPTS):
            message = Message(
                id=new_id(),
                conversation_id=conversation.id,
                author=customer.author,
                body=text,
                attachments=list(said.attachments),
                created_at=utc_now(),
            )
            turn = self._bot.respond(conversation, conversation.bot, said, customer=customer)
            history = [message]
            if turn.handoff is not None:  # the receiving agent's capsule covers the whole conversation
                history = self._store.conversation_page(conversation.id, after=None, limit=50)[1] + history
            after, replies = self.apply(conversation, turn, history)
            try:
                self._store.save_bot_turn(conversation, after, [message, *replies])
            except ConditionFailed as failure:
                fresh = self._store.get_conversation(conversation.id)
                if fresh is None or fresh.customer_id != customer.user_id:
                    raise NotFound(f"conversation {conversation.id} not found") from failure
                if attempt + 1 == BOT_TURN_ATTEMPTS or fresh.status is not ConversationStatus.BOT:
                    raise Conflict("the conversation changed while your message was sent: send it again") from failure
                conversation = fresh
                continue
            if turn.ticket is not None:
                self.open_ticket(after, turn.ticket)
            return message
        raise AssertionError("unreachable")  # pragma: no cover
