"""Links in emails: exchanged once for a messenger session, for that customer only; a rating in one click.

``exchange`` checks the link token (signature, audience, expiry: ``auth/link_tokens``), that it is for
the ticket or conversation the link names and that this is still its customer's, and uses it up (a
second use is refused). The session it returns is an *email session*: that customer, email-verified
and never app-verified, so nothing the messenger's verification protects opens with it. A rating link
records its score (once per ticket: a second score link shows the first rating); an unsubscribe link
turns status emails off.

An expired or used link explains itself (410, ``renewable``) and ``renew`` sends a fresh one, to the
customer's own address on file, never to an address the caller gives, at most once per ten minutes.
It answers the same whether or not anything was sent, so it tells a stranger nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from helpdesk.auth.customer_tokens import EMAIL_SESSION_SECONDS, issue_email_session
from helpdesk.auth.email_keys import EmailKeys
from helpdesk.auth.link_tokens import LinkClaims, LinkProblem, LinkPurpose, LinkRejected, read_link
from helpdesk.auth.reply_addresses import Thread, ThreadKind
from helpdesk.domain.email_templates import TicketFacts
from helpdesk.domain.errors import Conflict, Gone, NotFound
from helpdesk.domain.models import Conversation, Customer, Rating, Ticket, utc_now
from helpdesk.domain.notifications import Undeliverable
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.services.email_ports import EmailRecords

RENEWAL_QUIET = timedelta(minutes=10)
TICKET_PURPOSES = {LinkPurpose.TICKET, LinkPurpose.CSAT, LinkPurpose.UNSUBSCRIBE}


class TicketLookup(Protocol):
    def get_ticket(self, ticket_id: str) -> Ticket | None: ...


class ConversationLookup(Protocol):
    def get_conversation(self, conversation_id: str) -> Conversation | None: ...


class Customers(Protocol):
    def get_customer(self, user_id: str) -> Customer | None: ...

    def save_preferences(self, customer: Customer) -> None: ...


class Rater(Protocol):
    def rate(self, customer: CustomerPrincipal, ticket_id: str, score: int, comment: str | None) -> Rating: ...


class FreshLinks(Protocol):
    def send_fresh_link(
        self, customer: Customer, thread: Thread, ticket: TicketFacts | None, locale: str | None = None
    ) -> str: ...


@dataclass(frozen=True)
class LinkSession:
    session_token: str
    expires_in: int
    customer_id: str
    purpose: LinkPurpose
    ticket_id: str | None = None
    conversation_id: str | None = None
    rating: Rating | None = None
    """For a rating link: the ticket's rating (this click's, or the one given before)."""
    rated_now: bool = False
    unsubscribed: bool = False


class EmailLinks:
    def __init__(
        self,
        *,
        records: EmailRecords,
        tickets: TicketLookup,
        conversations: ConversationLookup,
        customers: Customers,
        rater: Rater,
        fresh_links: FreshLinks | None,
        keys: EmailKeys,
        messenger_secret: Callable[[], str],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._records = records
        self._tickets = tickets
        self._conversations = conversations
        self._customers = customers
        self._rater = rater
        self._fresh_links = fresh_links
        self._keys = keys
        self._messenger_secret = messenger_secret
        self._clock = clock

    def exchange(self, *, ticket_id: str | None, conversation_id: str | None, token: str) -> LinkSession:
        try:
            claims = read_link(self._keys, token)
        except LinkRejected as rejected:
            if rejected.problem is LinkProblem.EXPIRED:
                raise Gone(
                    "this link has expired: ask for a new one", code="link_expired", field="link", renewable=True
                ) from rejected
            raise _not_found() from rejected
        thread, customer = self._check(claims, ticket_id=ticket_id, conversation_id=conversation_id)
        expires = datetime.fromtimestamp(claims.expires_at, UTC)
        if not self._records.use_link(claims.nonce, at=self._clock(), expires_at=expires + timedelta(days=1)):
            raise Gone("this link was already used: ask for a new one", code="link_used", field="link", renewable=True)
        principal = CustomerPrincipal(
            user_id=customer.user_id, email=customer.email, name=customer.name, email_session=True
        )
        session = LinkSession(
            session_token=issue_email_session(
                self._messenger_secret(), customer.user_id, email=customer.email, name=customer.name
            ),
            expires_in=EMAIL_SESSION_SECONDS,
            customer_id=customer.user_id,
            purpose=claims.purpose,
            ticket_id=thread.id if thread.kind is ThreadKind.TICKET else None,
            conversation_id=thread.id if thread.kind is ThreadKind.CONVERSATION else None,
        )
        if claims.purpose is LinkPurpose.CSAT:
            assert claims.score is not None
            return self._rate(session, principal, thread.id, claims.score)
        if claims.purpose is LinkPurpose.UNSUBSCRIBE:
            preferences = customer.preferences.model_copy(update={"email": False})
            self._customers.save_preferences(customer.model_copy(update={"preferences": preferences}))
            return _with(session, unsubscribed=True)
        return session

    def renew(self, *, ticket_id: str | None, conversation_id: str | None, token: str, locale: str | None) -> None:
        """Send a fresh link for an expired or used one (see the module docstring)."""
        try:
            claims = read_link(self._keys, token)
        except LinkRejected as rejected:
            if rejected.problem is not LinkProblem.EXPIRED or rejected.claims is None:
                raise _not_found() from rejected
            claims = rejected.claims
        thread, customer = self._check(claims, ticket_id=ticket_id, conversation_id=conversation_id)
        if self._fresh_links is None or not customer.email:
            return
        if not self._records.note_renewal(thread.id, customer.user_id, at=self._clock(), quiet_for=RENEWAL_QUIET):
            return
        ticket = self._tickets.get_ticket(thread.id) if thread.kind is ThreadKind.TICKET else None
        facts = TicketFacts(number=ticket.number, title=ticket.title) if ticket else None
        try:
            self._fresh_links.send_fresh_link(customer, thread, facts, locale)
        except Undeliverable:
            return  # a suppressed address: nothing to send to, and nothing to tell the caller

    def _check(
        self, claims: LinkClaims, *, ticket_id: str | None, conversation_id: str | None
    ) -> tuple[Thread, Customer]:
        """The thread the link is for, and its customer: the link must name it, and it must still be theirs."""
        if claims.purpose in TICKET_PURPOSES:
            if ticket_id != claims.subject_id or conversation_id is not None:
                raise _not_found()
            ticket = self._tickets.get_ticket(claims.subject_id)
            owner = ticket.customer_id if ticket else None
            thread = Thread(ThreadKind.TICKET, claims.subject_id)
        else:
            if conversation_id != claims.subject_id or ticket_id is not None:
                raise _not_found()
            conversation = self._conversations.get_conversation(claims.subject_id)
            owner = conversation.customer_id if conversation else None
            thread = Thread(ThreadKind.CONVERSATION, claims.subject_id)
        if owner is None or owner != claims.customer_id:
            raise _not_found()
        customer = self._customers.get_customer(owner) or Customer(user_id=owner)
        return thread, customer

    def _rate(self, session: LinkSession, principal: CustomerPrincipal, ticket_id: str, score: int) -> LinkSession:
        try:
            rating = self._rater.rate(principal, ticket_id, score, None)
        except Conflict:
            ticket = self._tickets.get_ticket(ticket_id)
            return _with(session, rating=ticket.rating if ticket else None)
        return _with(session, rating=rating, rated_now=True)


def _with(session: LinkSession, **changes: object) -> LinkSession:
    return replace(session, **changes)  # type: ignore[arg-type]


def _not_found() -> NotFound:
    return NotFound("this link doesn't open anything here: check that it was copied whole")
