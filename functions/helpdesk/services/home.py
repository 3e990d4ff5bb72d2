"""The messenger's home: what a customer sees before typing, and what they haven't read yet.

- a greeting (the bot's, with the customer's name) and the bot's menu, so a request can start with a tap;
- when to expect a reply: whether the team is in its business hours now, and if so how long its first
  replies have taken lately (the last ``REPLY_TIME_DAYS`` days); if not, when it opens again;
- unread counters: messages of a conversation and updates of a ticket the customer hasn't seen,
  counted by the live fan-out from the table's stream, reset when the customer reads them.

Recent conversations and tickets come from their own lists (``GET /messenger/conversations``,
``GET /messenger/tickets``): the page asks for the three at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from helpdesk.domain.business_hours import NoBusinessTime
from helpdesk.domain.errors import NotFound
from helpdesk.domain.live import ThreadType, UnreadCount
from helpdesk.domain.models import MessageOption, utc_now
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.domain.workspace import Workspace
from helpdesk.services.ports import ConversationReader, LiveRecords, TicketReader

REPLY_TIME_DAYS = 7
MIN_REPLIES_FOR_ESTIMATE = 3
"""Fewer first replies than this in the window: too few to promise a time."""


class ReplyExpectation(BaseModel):
    open_now: bool = Field(description="Whether the team is within its business hours now.")
    typical_reply_seconds: int | None = Field(
        description="The team's average first reply lately, when there were enough replies to tell."
    )
    next_open_at: datetime | None = Field(description="When the team is back, if it is away now.")
    text: str = Field(description="What to tell the customer, in the workspace's words.")


class Home(BaseModel):
    workspace: str
    greeting: str
    assistant: str | None = Field(description="The bot's name, when the workspace has a bot.")
    menu: list[MessageOption] = Field(description="Start a conversation with one: send its id as option_id.")
    reply: ReplyExpectation


def _duration(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 2:
        return "in a couple of minutes"
    if minutes < 55:
        return (
            f"in about {round(minutes / 5) * 5 or 5} minutes" if minutes >= 10 else f"in about {round(minutes)} minutes"
        )
    hours = minutes / 60
    if hours < 1.5:
        return "in about an hour"
    if hours < 24:
        return f"in about {round(hours)} hours"
    return "within a few days"


class MessengerHome:
    def __init__(
        self,
        workspace: Workspace,
        records: LiveRecords,
        conversations: ConversationReader,
        tickets: TicketReader,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._workspace = workspace
        self._records = records
        self._conversations = conversations
        self._tickets = tickets
        self._clock = clock

    def home(self, customer: CustomerPrincipal) -> Home:
        """One DynamoDB Query: the team's recent first-reply times."""
        workspace = self._workspace
        name = customer.name or "there"
        bot = workspace.bot
        if bot is not None:
            greeting = bot.greeting.replace("{customer.name}", name)
            paths = [bot.path(p) for p in bot.menu]
            menu = [MessageOption(id=p.id, label=p.label) for p in paths if p is not None]
        else:
            greeting, menu = f"Hi {name}! How can we help?", []
        return Home(
            workspace=workspace.name,
            greeting=greeting,
            assistant=bot.name if bot is not None else None,
            menu=menu,
            reply=self.expected_reply(),
        )

    def expected_reply(self) -> ReplyExpectation:
        now = self._clock()
        calendar = self._workspace.business_calendar
        if not calendar.is_open(now):
            try:
                back = calendar.add(now, timedelta(seconds=1)) - timedelta(seconds=1)
            except NoBusinessTime:
                back = None
            return ReplyExpectation(
                open_now=False, typical_reply_seconds=None, next_open_at=back, text=self._away(back)
            )
        days = [(now - timedelta(days=n)).strftime("%Y-%m-%d") for n in range(REPLY_TIME_DAYS)]
        replies, total = self._records.reply_times(self._workspace.default_team, days)
        if replies < MIN_REPLIES_FOR_ESTIMATE:
            text = "We're here now and reply as soon as we can."
            return ReplyExpectation(open_now=True, typical_reply_seconds=None, next_open_at=None, text=text)
        typical = total / replies
        return ReplyExpectation(
            open_now=True,
            typical_reply_seconds=round(typical),
            next_open_at=None,
            text=f"We usually reply {_duration(typical)}.",
        )

    def _away(self, back: datetime | None) -> str:
        hours = self._workspace.business_hours
        if back is None or hours is None:
            return "We're away right now; we'll reply as soon as we're back."
        local = back.astimezone(hours.zone)
        today = self._clock().astimezone(hours.zone).date()
        day = (
            "today"
            if local.date() == today
            else "tomorrow"
            if local.date() == today + timedelta(days=1)
            else local.strftime("%A")
        )
        return f"We're away right now and back {day} at {local:%H:%M} ({hours.time_zone}); leave us a message."

    # --- unread ----------------------------------------------------------------------------------

    def unread(self, customer: CustomerPrincipal) -> list[UnreadCount]:
        return self._records.unread_counts(customer.user_id)

    def mark_read(self, customer: CustomerPrincipal, thread_type: ThreadType, thread_id: str) -> UnreadCount:
        """The customer has seen it: two calls (whose it is, then the counter)."""
        if thread_type == "conversation":
            conversation = self._conversations.get_conversation(thread_id)
            owner = conversation.customer_id if conversation else None
        else:
            ticket = self._tickets.get_ticket(thread_id)
            owner = ticket.customer_id if ticket else None
        if owner != customer.user_id:
            raise NotFound(f"{thread_type} {thread_id} not found")
        now = self._clock()
        self._records.mark_read(customer.user_id, thread_type, thread_id, now)
        return UnreadCount(thread_type=thread_type, thread_id=thread_id, unread=0, updated_at=now)
