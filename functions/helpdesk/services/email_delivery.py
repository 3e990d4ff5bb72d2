"""Sending email to a customer: status updates about a ticket, agents' replies in an email conversation,
and fresh links. Every email is a message of its thread:

- its words come from the workspace's templates, in the customer's locale (``email_templates``);
- every link in it carries a signed, single-purpose link token (``auth/link_tokens``): open the ticket,
  rate it 1-5 in one click, stop status emails;
- ``Reply-To`` is the thread's signed reply address, ``In-Reply-To``/``References`` its previous
  emails, so the customer's answer finds its way back (``email_ingestion``);
- what the recipient's client will call the email (SES's Message-ID, and ours) is remembered for the
  thread, so even a reply that drops the reply address is matched by its headers;
- a suppressed address (it bounced for good, or its owner complained) gets nothing:
  ``Undeliverable("suppressed")``, which the notifier records and agents see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from helpdesk.auth.email_keys import EmailKeys
from helpdesk.auth.link_tokens import LinkPurpose, issue_link
from helpdesk.auth.reply_addresses import Thread, ThreadKind, reply_address
from helpdesk.domain.email_composer import Envelope, compose_email, new_message_id
from helpdesk.domain.email_templates import CsatLink, EmailEvent, EmailFacts, EmailTemplates, RenderedEmail, TicketFacts
from helpdesk.domain.email_threads import EmailThread
from helpdesk.domain.models import Conversation, Customer, Message, Ticket, utc_now
from helpdesk.domain.notifications import StatusUpdate, StatusUpdateKind, Undeliverable
from helpdesk.services.email_ports import EmailRecords, MailSender

STATUS_EVENTS = {
    StatusUpdateKind.TICKET_CREATED: EmailEvent.TICKET_CREATED,
    StatusUpdateKind.STATE_CHANGED: EmailEvent.STATE_CHANGED,
    StatusUpdateKind.AGENT_REPLY: EmailEvent.AGENT_REPLY,
    StatusUpdateKind.REMINDER: EmailEvent.REMINDER,
    StatusUpdateKind.RESOLVED: EmailEvent.RESOLVED,
    StatusUpdateKind.EXTERNAL_UPDATE: EmailEvent.EXTERNAL_UPDATE,
}
"""The status updates that are emails of their own (a rating request rides on the resolution's)."""
REPLY_PREFIXES = ("re:", "aw:", "sv:", "r:", "antw:", "ref:", "réf:")


class TicketLookup(Protocol):
    def get_ticket(self, ticket_id: str) -> Ticket | None: ...


class ConversationLookup(Protocol):
    def get_conversation(self, conversation_id: str) -> Conversation | None: ...


@dataclass(frozen=True)
class EmailAddresses:
    support: str
    """``support@<domain>``: where customers write; reply addresses are its tagged forms."""
    sender: str
    """The From address, verified in SES (it, or its domain)."""
    messenger_url: str
    """The messenger page every link opens."""


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def reply_subject(subject: str | None, fallback: str) -> str:
    text = " ".join((subject or "").split()) or fallback
    return text if text.lower().startswith(REPLY_PREFIXES) else f"Re: {text}"


class EmailDelivery:
    def __init__(
        self,
        records: EmailRecords,
        sender: MailSender,
        templates: EmailTemplates,
        keys: EmailKeys,
        addresses: EmailAddresses,
        workspace_name: str,
        *,
        reply_days: int = 90,
        link_days: int = 7,
        tickets: TicketLookup | None = None,
        conversations: ConversationLookup | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """``tickets``/``conversations``: to check a fresh link's thread is the customer's before sending it."""
        self._records = records
        self._sender = sender
        self._templates = templates
        self._keys = keys
        self._addresses = addresses
        self._workspace_name = workspace_name
        self._reply_days = reply_days
        self._link_days = link_days
        self._tickets = tickets
        self._conversations = conversations
        self._clock = clock

    @property
    def templates(self) -> EmailTemplates:
        return self._templates

    # --- links -----------------------------------------------------------------------------------

    def link(self, purpose: LinkPurpose, thread: Thread, customer_id: str, *, score: int | None = None) -> str:
        """``<messenger>?ticket=<id>&link=<token>`` (``conversation=`` for a conversation)."""
        token = issue_link(
            self._keys,
            customer_id=customer_id,
            purpose=purpose,
            subject_id=thread.id,
            ttl_seconds=self._link_days * 86400,
            score=score,
            now=self._clock().timestamp(),
        )
        subject = "ticket" if thread.kind is ThreadKind.TICKET else "conversation"
        return with_query(self._addresses.messenger_url, **{subject: thread.id, "link": token})

    # --- what we send ----------------------------------------------------------------------------

    def send_status_update(self, update: StatusUpdate, customer: Customer) -> str:
        """A status update about a ticket, as an email of the ticket's thread; returns its Message-ID."""
        event = STATUS_EVENTS.get(update.kind)
        if event is None or update.ticket_id is None or update.ticket_number is None:
            raise ValueError(f"a {update.kind.value} update is not an email of its own")
        thread = Thread(ThreadKind.TICKET, update.ticket_id)
        open_link = self.link(LinkPurpose.TICKET, thread, customer.user_id)
        csat: tuple[CsatLink, ...] = ()
        if update.kind is StatusUpdateKind.RESOLVED and update.asks_for_rating:
            csat = tuple(
                CsatLink(score, self.link(LinkPurpose.CSAT, thread, customer.user_id, score=score))
                for score in range(1, 6)
            )
        unsubscribe = self.link(LinkPurpose.UNSUBSCRIBE, thread, customer.user_id)
        facts = EmailFacts(
            workspace_name=self._workspace_name,
            customer_name=customer.name,
            agent_name=update.author_name,
            ticket=TicketFacts.of_update(update),
            body=update.body,
            link=open_link,
            csat=csat,
            unsubscribe=unsubscribe,
            link_days=self._link_days,
        )
        rendered = self._templates.render(event, facts, update.locale)
        return self._send(
            thread,
            customer.user_id,
            customer.email,
            rendered,
            sender_name=self._workspace_name,
            automated=True,
            unsubscribe=unsubscribe,
        )

    def send_conversation_reply(self, conversation: Conversation, message: Message) -> str:
        """An agent's reply in a conversation that started by email, as the next email of its thread."""
        thread = Thread(ThreadKind.CONVERSATION, conversation.id)
        state = self._records.thread(thread)
        # We answer the address the customer wrote from (the conversation's), as their client expects.
        to = conversation.customer_email or (state.customer_address if state else None)
        agent = message.author.name
        facts = EmailFacts(
            workspace_name=self._workspace_name,
            customer_name=conversation.customer_name,
            agent_name=agent,
            body=message.body,
            link=self.link(LinkPurpose.CONVERSATION, thread, conversation.customer_id),
            subject=reply_subject(state.subject if state else conversation.email_subject, self._workspace_name),
            link_days=self._link_days,
        )
        rendered = self._templates.render(EmailEvent.CONVERSATION_REPLY, facts)
        sender_name = f"{agent} ({self._workspace_name})" if agent else self._workspace_name
        return self._send(
            thread, conversation.customer_id, to, rendered, sender_name=sender_name, automated=False, state=state
        )

    def send_fresh_link(self, update: StatusUpdate, customer: Customer) -> str:
        """A new link to a ticket or conversation the customer asked for (their old one expired or was
        used), to their own address on file; nothing if the thread isn't theirs."""
        ticket: TicketFacts | None = None
        if update.ticket_id is not None:
            thread = Thread(ThreadKind.TICKET, update.ticket_id)
            found = self._tickets.get_ticket(update.ticket_id) if self._tickets else None
            if found is None or found.customer_id != customer.user_id:
                raise Undeliverable("not_theirs")
            ticket = TicketFacts(number=found.number, title=found.title)
        elif update.conversation_id is not None:
            thread = Thread(ThreadKind.CONVERSATION, update.conversation_id)
            conversation = self._conversations.get_conversation(update.conversation_id) if self._conversations else None
            if conversation is None or conversation.customer_id != customer.user_id:
                raise Undeliverable("not_theirs")
        else:
            raise Undeliverable("no_thread")
        purpose = LinkPurpose.TICKET if thread.kind is ThreadKind.TICKET else LinkPurpose.CONVERSATION
        facts = EmailFacts(
            workspace_name=self._workspace_name,
            customer_name=customer.name,
            ticket=ticket,
            link=self.link(purpose, thread, customer.user_id),
            link_days=self._link_days,
        )
        rendered = self._templates.render(EmailEvent.LINK_RENEWAL, facts, update.locale)
        return self._send(
            thread, customer.user_id, customer.email, rendered, sender_name=self._workspace_name, automated=True
        )

    def _send(
        self,
        thread: Thread,
        customer_id: str,
        to: str | None,
        rendered: RenderedEmail,
        *,
        sender_name: str,
        automated: bool,
        unsubscribe: str | None = None,
        state: EmailThread | None = None,
    ) -> str:
        if not to:
            raise Undeliverable("no_address")
        if self._records.suppression(to) is not None:
            raise Undeliverable("suppressed")
        now = self._clock()
        keep = timedelta(days=self._reply_days)
        current = state or self._records.thread(thread)
        ours = new_message_id(self._addresses.support.rpartition("@")[2])
        envelope = Envelope(
            sender_name=sender_name,
            sender_address=self._addresses.sender,
            to=to,
            reply_to=reply_address(self._keys, self._addresses.support, thread, expires=now + keep),
            message_id=ours,
            in_reply_to=current.last_message_id if current else None,
            references=current.references if current else (),
            automated=automated,
            unsubscribe_url=unsubscribe,
        )
        visible = self._sender.send_raw(
            compose_email(rendered, envelope), source=self._addresses.sender, to=to, message_id=ours
        )
        self._records.remember_email(
            thread, customer_id, visible, at=now, keep_for=keep, subject=rendered.subject, customer_address=to
        )
        if visible != ours:
            self._records.remember_alias(thread, customer_id, ours, at=now, keep_for=keep)
        return visible
