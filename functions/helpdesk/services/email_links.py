"""Links in emails: exchanged once for a messenger session, for that customer only; a rating in one click.

``exchange`` checks the link token (signature, audience, expiry: ``auth/link_tokens``) and that it is
for the ticket or conversation the link names, then uses it up in one write that also checks the
ticket or conversation is still its customer's (a second use is refused). The session it returns is
an *email session*: that customer, email-verified and never app-verified, so nothing the messenger's
verification protects opens with it. A rating link records its score in that same write (once per
ticket: a second score link shows the first rating); an unsubscribe link opens the customer's
settings, where the messenger turns status emails off.

An expired or used link explains itself (410, ``renewable``) and ``renew`` asks for a fresh one: it
records the request (at most one per 10 minutes), and the stream has the notifier email a new link
to the customer's own address on file, never to one the caller names. The answer is the same
whether or not anything will be sent, so it tells a stranger nothing.

Each route is at most two DynamoDB requests: a ticket link one (the use), a rating link two (the
ticket, then the rating with the use), a renewal one (the request).
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
from helpdesk.domain.email_threads import LinkUse
from helpdesk.domain.errors import Gone, NotFound
from helpdesk.domain.models import PartType, Rating, Ticket, TicketPart, new_id, utc_now
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.domain.workspace import StateCategory
from helpdesk.services.email_ports import LinkUses

RENEWAL_QUIET = timedelta(minutes=10)
TICKET_PURPOSES = {LinkPurpose.TICKET, LinkPurpose.CSAT, LinkPurpose.UNSUBSCRIBE}
USED_LINKS_KEPT = timedelta(days=1)
"""A used link's record outlives the link itself, so it can't be used again before it expires."""


class TicketLookup(Protocol):
    def get_ticket(self, ticket_id: str) -> Ticket | None: ...


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


class EmailLinks:
    def __init__(
        self,
        *,
        uses: LinkUses,
        tickets: TicketLookup,
        keys: EmailKeys,
        messenger_secret: Callable[[], str],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._uses = uses
        self._tickets = tickets
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
        thread = _thread(claims, ticket_id=ticket_id, conversation_id=conversation_id)
        session = LinkSession(
            session_token="",
            expires_in=EMAIL_SESSION_SECONDS,
            customer_id=claims.customer_id,
            purpose=claims.purpose,
            ticket_id=thread.id if thread.kind is ThreadKind.TICKET else None,
            conversation_id=thread.id if thread.kind is ThreadKind.CONVERSATION else None,
        )
        if claims.purpose is LinkPurpose.CSAT:
            session = self._rate(session, claims, thread)
        else:
            self._use(claims, thread)
        # No name or address in the session: the customer's profile has them, and tokens travel in URLs.
        token_for_session = issue_email_session(self._messenger_secret(), claims.customer_id, email=None, name=None)
        return replace(session, session_token=token_for_session)

    def renew(self, *, ticket_id: str | None, conversation_id: str | None, token: str, locale: str | None) -> None:
        """Ask for a fresh link for an expired or used one (see the module docstring)."""
        try:
            claims = read_link(self._keys, token)
        except LinkRejected as rejected:
            if rejected.problem is not LinkProblem.EXPIRED or rejected.claims is None:
                raise _not_found() from rejected
            claims = rejected.claims
        thread = _thread(claims, ticket_id=ticket_id, conversation_id=conversation_id)
        self._uses.request_renewal(
            thread, claims.customer_id, locale=(locale or "")[:35] or None, at=self._clock(), quiet_for=RENEWAL_QUIET
        )

    def _use(self, claims: LinkClaims, thread: Thread) -> None:
        outcome = self._uses.use(
            claims.nonce, thread=thread, customer_id=claims.customer_id, at=self._clock(), expires_at=_kept(claims)
        )
        if outcome is LinkUse.NOT_THEIRS:
            raise _not_found()
        if outcome is LinkUse.ALREADY_USED:
            raise _used()

    def _rate(self, session: LinkSession, claims: LinkClaims, thread: Thread) -> LinkSession:
        """The score, recorded with the link's use; a ticket rated before (or not resolved) keeps its rating."""
        assert claims.score is not None
        ticket = self._tickets.get_ticket(thread.id)
        if ticket is None or ticket.customer_id != claims.customer_id:
            raise _not_found()
        if ticket.rating is not None or ticket.state_category is not StateCategory.RESOLVED:
            self._use(claims, thread)
            return replace(session, rating=ticket.rating)
        customer = CustomerPrincipal(user_id=claims.customer_id, email_session=True)
        rating = Rating(score=claims.score, rated_at=self._clock())
        part = TicketPart(
            id=new_id(),
            ticket_id=ticket.id,
            type=PartType.RATING,
            author=customer.author,
            changes={"score": claims.score},
            visible_to_customer=True,
            created_at=rating.rated_at,
        )
        outcome = self._uses.rate(
            claims.nonce,
            ticket_id=ticket.id,
            customer_id=claims.customer_id,
            rating=rating,
            part=part,
            at=self._clock(),
            expires_at=_kept(claims),
        )
        if outcome is LinkUse.ALREADY_USED:
            raise _used()
        if outcome is LinkUse.NOT_RATEABLE:  # rated (or reopened) between the read and the write
            self._use(claims, thread)
            fresh = self._tickets.get_ticket(ticket.id)
            return replace(session, rating=fresh.rating if fresh else None)
        return replace(session, rating=rating, rated_now=True)


def _thread(claims: LinkClaims, *, ticket_id: str | None, conversation_id: str | None) -> Thread:
    """The thread the link is for: the link must name it (a link for another ticket opens nothing)."""
    if claims.purpose in TICKET_PURPOSES:
        if ticket_id != claims.subject_id or conversation_id is not None:
            raise _not_found()
        return Thread(ThreadKind.TICKET, claims.subject_id)
    if conversation_id != claims.subject_id or ticket_id is not None:
        raise _not_found()
    return Thread(ThreadKind.CONVERSATION, claims.subject_id)


def _kept(claims: LinkClaims) -> datetime:
    return datetime.fromtimestamp(claims.expires_at, UTC) + USED_LINKS_KEPT


def _used() -> Gone:
    return Gone("this link was already used: ask for a new one", code="link_used", field="link", renewable=True)


def _not_found() -> NotFound:
    return NotFound("this link doesn't open anything here: check that it was copied whole")
