"""Delivering status updates to the customer: in the messenger, by email and by SMS, once per channel.

A status update goes out on each channel the customer chose and can be reached on: the messenger
needs the update's conversation, email an address, SMS a phone number; email and SMS also need the
ticket (they name its number and link to it). Anonymous visitors only ever get the messenger.

Each channel is claimed in the delivery ledger before it is used (see ``adapters/channels.py`` for
the protocol and its one narrow at-least-once window), so the same update delivered twice, or by
two workers at once, reaches the customer once per channel. Channels go in a fixed order
(messenger, email, SMS); a channel that fails with an error worth retrying stops the delivery and
the error propagates, so the retry finds the channels before it done and carries on from there.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import BaseModel
from ulid import ULID

from helpdesk.auth.customer_tokens import VISITOR_PREFIX
from helpdesk.domain.email_templates import EmailFacts, EmailTemplates, TicketFacts
from helpdesk.domain.errors import ConditionFailed
from helpdesk.domain.models import (
    Author,
    AuthorType,
    Conversation,
    Customer,
    Message,
    MessageKind,
    NotificationPreferences,
    utc_now,
)
from helpdesk.domain.notifications import Claim, DeliveryStatus, StatusUpdate, StatusUpdateKind, Undeliverable
from helpdesk.domain.workspace import Workspace
from helpdesk.services.email_delivery import STATUS_EVENTS
from helpdesk.services.ports import ConversationRecords, CustomerRecords, DeliveryLedger

SMS_LENGTH = 160
DEFAULT_LEASE = timedelta(seconds=90)
NOTIFIER_AUTHOR_ID = "status-updates"
RECORD_SENT_DELAYS = (0.1, 0.2, 0.4, 0.8, 1.6)
"""Pauses between further attempts to record a sent message (beyond the SDK's own retries): once the
provider has it, giving up on the record means the customer gets it twice after the lease."""


class Channel(StrEnum):
    MESSENGER = "messenger"
    EMAIL = "email"
    SMS = "sms"


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    """An earlier delivery of the same update sent it."""
    FAILED = "failed"
    """Can never be delivered on this channel (invalid address, conversation gone): not retried."""
    ALREADY_FAILED = "already_failed"
    RETRY = "retry"
    """An error worth retrying: the delivery stopped here and the update will come again."""


class DeliveryReport(BaseModel):
    update_id: str
    outcomes: dict[Channel, Outcome] = {}
    """Per channel used for this update; channels not chosen or not reachable are absent."""


class DeliveryInProgress(Exception):
    """Another worker is delivering this update on this channel right now: try again later."""

    def __init__(self, update_id: str, channel: Channel) -> None:
        super().__init__(f"status update {update_id} is being delivered by {channel} right now; try again later")
        self.update_id = update_id
        self.channel = channel


class StatusEmails(Protocol):
    """The email channel (``services/email_delivery.py``): threaded emails from the workspace's templates."""

    @property
    def templates(self) -> EmailTemplates: ...

    def send_status_update(self, update: StatusUpdate, customer: Customer) -> str: ...

    def send_conversation_reply(self, conversation: Conversation, message: Message) -> str: ...

    def send_fresh_link(self, update: StatusUpdate, customer: Customer) -> str: ...


class ChannelSender(Protocol):
    """Sends email and SMS; raises ``Undeliverable`` for what no retry can fix."""

    def send_email(self, to: str, template_data: dict[str, str]) -> str: ...

    def send_sms(self, phone: str, text: str) -> str: ...


@dataclass(frozen=True)
class StatusUpdateText:
    """The words of one status update, for every channel."""

    subject: str
    heading: str
    body: str
    sms_label: str
    """What happened, in a few words after "Ticket #1042": "is now In progress", "has a new reply"."""
    sms_sentence: str | None = None
    """The whole sentence an SMS says (from the email templates), instead of "Ticket #N <sms_label>"."""

    @property
    def messenger(self) -> str:
        return f"{self.heading}\n{self.body}".strip()


def ticket_link(messenger_url: str, ticket_id: str) -> str:
    """``{messenger_url}?ticket={ticket_id}``: opens the ticket in the messenger."""
    parts = urlsplit(messenger_url)
    query = "&".join(q for q in (parts.query, urlencode({"ticket": ticket_id})) if q)
    return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True)
class _Words:
    """A kind's words, with ``{ticket}``, ``{title}``, ``{label}`` (the state) and ``{workspace}`` filled in."""

    subject: str
    heading: str
    body: str
    sms_label: str
    own_body: bool = False
    """The update's own words, when it brings some, instead of ``body``."""


_WORDS: dict[StatusUpdateKind, _Words] = {
    StatusUpdateKind.TICKET_CREATED: _Words(
        subject="{ticket} created: {title}",
        heading="{ticket} is open",
        body="Thanks for getting in touch about {title}. We're on it, and we'll let you know "
        "as soon as anything changes.",
        sms_label="created",
    ),
    StatusUpdateKind.STATE_CHANGED: _Words(
        subject="{ticket} is now {label}",
        heading="{ticket} is now {label}",
        body="The status of {title} changed to \u201c{label}\u201d.",
        sms_label="is now {label}",
    ),
    StatusUpdateKind.AGENT_REPLY: _Words(
        subject="New reply on {ticket}",
        heading="{workspace} replied on {ticket}",
        body="Open the ticket to read the reply.",
        sms_label="has a new reply",
        own_body=True,
    ),
    StatusUpdateKind.REMINDER: _Words(
        subject="Reminder: {ticket} is waiting for you",
        heading="{ticket} is waiting for your reply",
        body="We need a word from you to move on with {title}.",
        sms_label="is waiting for your reply",
        own_body=True,
    ),
    StatusUpdateKind.RESOLVED: _Words(
        subject="{ticket} is resolved",
        heading="{ticket} is resolved",
        body="We've resolved {title}. If anything is still wrong, reply and we'll reopen it.",
        sms_label="is resolved",
    ),
    StatusUpdateKind.CSAT_REQUEST: _Words(
        subject="How did we do on {ticket}?",
        heading="How did we do on {ticket}?",
        body="Tell us how we handled {title}: it takes one click in the messenger.",
        sms_label="is resolved. How did we do? Rate us",
    ),
    StatusUpdateKind.LINK_RENEWAL: _Words(
        subject="Your new link", heading="Your new link", body="", sms_label="has a new link"
    ),
    StatusUpdateKind.CONVERSATION_REPLY: _Words(
        subject="{workspace} replied",
        heading="{workspace} replied",
        body="",
        sms_label="has a new reply",
        own_body=True,
    ),
    StatusUpdateKind.EXTERNAL_UPDATE: _Words(
        subject="Update on {ticket}",
        heading="Update on {ticket}",
        body="There's news about {title}.",
        sms_label="has an update",
        own_body=True,
    ),
}


def compose(update: StatusUpdate, workspace_name: str) -> StatusUpdateText:
    """Subject, heading, body and SMS label for the update's kind."""
    words = _WORDS[update.kind]
    values = {
        "ticket": f"Ticket #{update.ticket_number}" if update.ticket_number is not None else "Your ticket",
        "title": update.title or "your request",
        "label": update.state_label or "updated",
        "workspace": workspace_name,
    }
    return StatusUpdateText(
        subject=words.subject.format_map(values),
        heading=words.heading.format_map(values),
        body=(words.own_body and update.body) or words.body.format_map(values),
        sms_label=words.sms_label.format_map(values),
    )


def sms_text(text: StatusUpdateText, ticket_number: int, link: str, workspace_name: str) -> str:
    """ "Demo Shop: Ticket #1042 is now In progress. <link>", kept to one SMS when the link allows."""
    if text.sms_sentence:
        sentence = f"{workspace_name}: {text.sms_sentence} {link}"
        if len(sentence) <= SMS_LENGTH:
            return sentence
        room = SMS_LENGTH - len(f"\u2026 {link}")
        return f"{text.sms_sentence[:room].rstrip()}\u2026 {link}" if room > 0 else f"Ticket #{ticket_number}: {link}"
    full = f"{workspace_name}: Ticket #{ticket_number} {text.sms_label}. {link}"
    if len(full) <= SMS_LENGTH:
        return full
    short = f"Ticket #{ticket_number} {text.sms_label}. {link}"
    if len(short) <= SMS_LENGTH:
        return short
    room = SMS_LENGTH - len(f"Ticket #{ticket_number} \u2026. {link}")
    if room > 0:
        return f"Ticket #{ticket_number} {text.sms_label[:room].rstrip()}\u2026. {link}"
    return f"Ticket #{ticket_number}: {link}"


def messenger_message_id(update_id: str, at: datetime) -> str:
    """A ULID sorting at ``at`` whose random part comes from the update id.

    The first claim fixes it (the ledger keeps it), so every attempt writes the same message and the
    table refuses a second copy; being a ULID of the delivery time, it sorts where pollers look.
    """
    milliseconds = int(at.timestamp() * 1000)
    digest = hashlib.sha256(f"status-update:{update_id}".encode()).digest()
    return str(ULID.from_bytes(milliseconds.to_bytes(6, "big") + digest[:10]))


def is_visitor(customer_id: str) -> bool:
    return customer_id.startswith(VISITOR_PREFIX)


OutcomeObserver = Callable[[Channel, Outcome], None]


class NotificationService:
    def __init__(
        self,
        customers: CustomerRecords,
        conversations: ConversationRecords,
        sender: ChannelSender,
        workspace: Workspace,
        *,
        messenger_url: str,
        ledger: DeliveryLedger,
        lease: timedelta = DEFAULT_LEASE,
        clock: Callable[[], datetime] = utc_now,
        on_outcome: OutcomeObserver | None = None,
        sleep: Callable[[float], None] = time.sleep,
        emails: StatusEmails | None = None,
    ) -> None:
        """``lease``: how long a claim holds; longer than the function's timeout, at most the queue's
        visibility timeout. ``on_outcome`` hears every channel's outcome as it happens (metrics).

        ``emails``: the email channel. With it, every update's words come from the workspace's email
        templates (the messenger and SMS say the email's one-sentence summary), emails are threaded
        MIME with signed links, the rating request rides on the resolution email, and agents' replies
        in email conversations go out by email. Without it, email uses the SES status template."""
        if not messenger_url.startswith(("https://", "http://")):
            raise ValueError(f"messenger_url must be an http(s) URL, got {messenger_url!r}")
        self._customers = customers
        self._conversations = conversations
        self._sender = sender
        self._workspace = workspace
        self._messenger_url = messenger_url
        self._ledger = ledger
        self._lease = lease
        self._clock = clock
        self._on_outcome = on_outcome
        self._sleep = sleep
        self._emails = emails

    def channels_for(self, update: StatusUpdate, customer: Customer | None) -> list[Channel]:
        """The channels the customer chose and can be reached on, in delivery order."""
        if update.kind is StatusUpdateKind.CONVERSATION_REPLY:
            # The conversation itself, by email: the messenger has the reply already; not a preference.
            return [Channel.EMAIL] if self._emails is not None and update.conversation_id else []
        if update.kind is StatusUpdateKind.LINK_RENEWAL:
            # Asked for by the customer: to their own address, whatever their status-update preferences.
            return [Channel.EMAIL] if self._emails is not None and customer and customer.email else []
        preferences = customer.preferences if customer else NotificationPreferences()
        channels = []
        if preferences.messenger and update.conversation_id:
            channels.append(Channel.MESSENGER)
        if is_visitor(update.customer_id) or customer is None:
            return channels
        about_a_ticket = update.ticket_id is not None and update.ticket_number is not None
        # With the email channel, the rating request rides on the resolution's email and SMS.
        combined = self._emails is not None and update.kind is StatusUpdateKind.CSAT_REQUEST
        if preferences.email and customer.email and about_a_ticket and not combined:
            channels.append(Channel.EMAIL)
        if preferences.sms and customer.phone and about_a_ticket and not combined:
            channels.append(Channel.SMS)
        return channels

    def deliver(self, update: StatusUpdate) -> DeliveryReport:
        """Send the update on each of the customer's channels that hasn't had it yet.

        Raises ``DeliveryInProgress`` if another worker holds a channel, and lets errors worth
        retrying propagate (after handing the channel's claim back).
        """
        customer = self._customers.get_customer(update.customer_id)
        text = self._words(update, customer)
        report = DeliveryReport(update_id=update.id)
        for channel in self.channels_for(update, customer):
            outcome = self._deliver_on(channel, update, text, customer)
            report.outcomes[channel] = outcome
        return report

    def _deliver_on(
        self, channel: Channel, update: StatusUpdate, text: StatusUpdateText, customer: Customer | None
    ) -> Outcome:
        now = self._clock()
        message_id = messenger_message_id(update.id, now) if channel is Channel.MESSENGER else None
        claim = self._ledger.claim(update.id, channel.value, now=now, lease=self._lease, message_id=message_id)
        if not claim.won:
            if claim.status is DeliveryStatus.SENT:
                return self._heard(channel, Outcome.ALREADY_SENT)
            if claim.status is DeliveryStatus.FAILED:
                return self._heard(channel, Outcome.ALREADY_FAILED)
            raise DeliveryInProgress(update.id, channel)
        finished = sent = False
        try:
            try:
                self._send(channel, update, text, customer, claim)
            except Undeliverable as undeliverable:
                self._ledger.mark_failed(update.id, channel.value, reason=undeliverable.code, now=self._clock())
                finished = True
                return self._heard(channel, Outcome.FAILED)
            sent = True
            self._record_sent(update.id, channel)
            finished = True
            return self._heard(channel, Outcome.SENT)
        finally:
            if not finished:  # the error propagates
                self._heard(channel, Outcome.RETRY)
                if not sent:  # nothing went out: the next attempt may claim the channel at once
                    self._ledger.release(update.id, channel.value, claim, now=self._clock())
                # Sent, but not recorded (the table refused mark_sent): handing the claim back would
                # send it again at once; it stays claimed, so only a retry after the lease sends again.

    def _words(self, update: StatusUpdate, customer: Customer | None) -> StatusUpdateText:
        """The update's words: the email templates' (in the customer's locale) when email is set up."""
        event = STATUS_EVENTS.get(update.kind)
        if self._emails is None or event is None or update.ticket_number is None:
            return compose(update, self._workspace.name)
        facts = EmailFacts(
            workspace_name=self._workspace.name,
            customer_name=customer.name if customer else None,
            agent_name=update.author_name,
            ticket=TicketFacts.of_update(update),
            body=update.body,
        )
        email = self._emails.templates.render(event, facts, update.locale)
        words = update.body if update.kind is not StatusUpdateKind.STATE_CHANGED else None
        return StatusUpdateText(
            subject=email.subject, heading=email.summary, body=words or "", sms_label="", sms_sentence=email.summary
        )

    def _record_sent(self, update_id: str, channel: Channel) -> None:
        """Mark the channel sent, trying harder than for anything else: whatever the table's error."""
        for delay in (*RECORD_SENT_DELAYS, None):
            try:
                self._ledger.mark_sent(update_id, channel.value, now=self._clock())
                return
            except Exception:
                if delay is None:
                    raise
                self._sleep(delay)

    def _heard(self, channel: Channel, outcome: Outcome) -> Outcome:
        if self._on_outcome is not None:
            self._on_outcome(channel, outcome)
        return outcome

    def _send(
        self, channel: Channel, update: StatusUpdate, text: StatusUpdateText, customer: Customer | None, claim: Claim
    ) -> None:
        match channel:
            case Channel.MESSENGER:
                self._post_in_messenger(update, text, claim)
            case Channel.EMAIL if self._emails is not None:
                self._email(update, customer)
            case Channel.EMAIL:
                # channels_for chose email only with an address and a ticket
                assert customer is not None
                assert customer.email
                self._sender.send_email(customer.email, self._template_data(update, text))
            case Channel.SMS:
                assert customer is not None
                assert customer.phone
                assert update.ticket_id is not None
                assert update.ticket_number is not None
                link = ticket_link(self._messenger_url, update.ticket_id)
                self._sender.send_sms(customer.phone, sms_text(text, update.ticket_number, link, self._workspace.name))

    def _email(self, update: StatusUpdate, customer: Customer | None) -> None:
        assert self._emails is not None
        if update.kind is StatusUpdateKind.LINK_RENEWAL:
            assert customer is not None  # channels_for chose email only for a customer with an address
            self._emails.send_fresh_link(update, customer)
            return
        if update.kind is not StatusUpdateKind.CONVERSATION_REPLY:
            assert customer is not None  # channels_for chose email only for a customer with an address
            self._emails.send_status_update(update, customer)
            return
        assert update.conversation_id is not None
        conversation, messages, _ = self._conversations.conversation_page(update.conversation_id, after=None, limit=50)
        conversation = conversation or self._conversations.get_conversation(update.conversation_id)
        message = next((m for m in messages if m.id == update.message_id), None)
        if conversation is None or message is None:
            raise Undeliverable("conversation_not_found")
        try:
            self._emails.send_conversation_reply(conversation, message)
        except Undeliverable as undeliverable:
            self._tell_agents(conversation.id, conversation.customer_id, update, undeliverable.code)
            raise

    def _tell_agents(self, conversation_id: str, customer_id: str, update: StatusUpdate, code: str) -> None:
        """An agent's reply that couldn't be emailed: the conversation says so, for agents only."""
        reason = {
            "suppressed": "the customer's address is suppressed (it bounced, or they marked our email as spam)",
            "no_address": "the conversation has no email address",
        }.get(code, f"the address was refused ({code})")
        note = Message(
            id=messenger_message_id(f"{update.id}:not-emailed", self._clock()),
            conversation_id=conversation_id,
            author=Author(type=AuthorType.BOT, id=NOTIFIER_AUTHOR_ID, name="Email"),
            body=f"This reply was not emailed: {reason}. The customer sees it in the messenger.",
            internal=True,
            created_at=self._clock(),
        )
        with contextlib.suppress(ConditionFailed):  # written already by an earlier attempt
            self._conversations.add_message(customer_id, note, preview=None, owner=None, must_be_open=False)

    def _template_data(self, update: StatusUpdate, text: StatusUpdateText) -> dict[str, str]:
        assert update.ticket_id is not None
        return {
            "subject": text.subject,
            "heading": text.heading,
            "body": text.body,
            "ticket_number": str(update.ticket_number),
            "link": ticket_link(self._messenger_url, update.ticket_id),
        }

    def _post_in_messenger(self, update: StatusUpdate, text: StatusUpdateText, claim: Claim) -> None:
        assert update.conversation_id is not None
        assert claim.message_id is not None
        message = Message(
            id=claim.message_id,
            conversation_id=update.conversation_id,
            author=Author(type=AuthorType.BOT, id=NOTIFIER_AUTHOR_ID, name=self._workspace.name),
            body=text.messenger,
            kind=MessageKind.STATUS_CHANGE,
            created_at=self._clock(),
        )
        try:
            self._conversations.add_message(
                update.customer_id, message, preview=None, owner=update.customer_id, must_be_open=False
            )
        except ConditionFailed as failure:
            conversation = self._conversations.get_conversation(update.conversation_id)
            if conversation is None or conversation.customer_id != update.customer_id:
                raise Undeliverable("conversation_not_found") from failure
            # The conversation is the customer's, so the message itself was there: an earlier attempt
            # wrote it and died before recording so. Nothing to send again.
