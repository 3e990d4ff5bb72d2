"""Using a link from an email, in one request: the check that the ticket or conversation is still its
customer's, and the link's single use (and, for a rating link, the rating), in one transaction.

==============================  ==============================  ==========  ==========================
item                            PK                              SK          what
==============================  ==============================  ==========  ==========================
used link                       ``LINKUSE#<jti>``               ``USED``    the link's one use (TTL)
fresh link asked for            ``LINKRENEW#<c|t>#<id>#<cust>`` ``ASKED``   at most one per 10 minutes;
                                                                            the stream sends the email
==============================  ==============================  ==========  ==========================
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.store.base import TableStore, failed_item
from helpdesk.adapters.store.tickets import rate_in
from helpdesk.adapters.table import TTL_ATTRIBUTE, ConversationItem, TableItem, TicketItem
from helpdesk.auth.reply_addresses import Thread, ThreadKind
from helpdesk.domain.email_threads import LinkUse
from helpdesk.domain.errors import ConditionFailed
from helpdesk.domain.models import Rating, TicketPart

META = mapping.META


class LinkUseItem(TableItem, discriminator="link_use"):
    used_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


class LinkRenewalItem(TableItem, discriminator="link_renewal"):
    """A customer asked for a fresh link: the stream turns it into a ``link_renewal`` status update."""

    thread_kind = UnicodeAttribute()
    thread_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    locale = UnicodeAttribute(null=True)
    requested_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(attr_name=TTL_ATTRIBUTE)


def _owned(thread: Thread, customer_id: str) -> tuple[type[TableItem], str, Condition]:
    if thread.kind is ThreadKind.TICKET:
        return TicketItem, mapping.ticket_pk(thread.id), TableItem.pk.exists() & (TicketItem.customer_id == customer_id)
    return (
        ConversationItem,
        mapping.conversation_pk(thread.id),
        TableItem.pk.exists() & (ConversationItem.customer_id == customer_id),
    )


class DynamoLinkUses(TableStore):
    def use(self, nonce: str, *, thread: Thread, customer_id: str, at: datetime, expires_at: datetime) -> LinkUse:
        """One TransactWriteItems: the thread is still the customer's, and the link wasn't used before."""
        model, pk, condition = _owned(thread, customer_id)

        def build(transaction: TransactWrite) -> None:
            transaction.condition_check(model, pk, META, condition=condition)
            transaction.save(_use(nonce, at, expires_at), condition=LinkUseItem.pk.does_not_exist())

        return self._outcome(build, {0: LinkUse.NOT_THEIRS, 1: LinkUse.ALREADY_USED})

    def rate(
        self,
        nonce: str,
        *,
        ticket_id: str,
        customer_id: str,
        rating: Rating,
        part: TicketPart,
        at: datetime,
        expires_at: datetime,
    ) -> LinkUse:
        """One TransactWriteItems: the rating (once, on the customer's resolved ticket), its timeline part,
        and the link's single use."""

        def build(transaction: TransactWrite) -> None:
            rate_in(transaction, ticket_id, customer_id, rating, part)
            transaction.save(_use(nonce, at, expires_at), condition=LinkUseItem.pk.does_not_exist())

        return self._outcome(build, {0: LinkUse.NOT_RATEABLE, 2: LinkUse.ALREADY_USED})

    def request_renewal(
        self, thread: Thread, customer_id: str, *, locale: str | None, at: datetime, quiet_for: timedelta
    ) -> bool:
        """Ask for a fresh link (one conditional PutItem); False when one was asked for within ``quiet_for``."""
        item = LinkRenewalItem(
            pk=f"LINKRENEW#{thread.kind.value}#{thread.id}#{customer_id}",
            sk="ASKED",
            thread_kind=thread.kind.value,
            thread_id=thread.id,
            customer_id=customer_id,
            locale=locale,
            requested_at=at,
            expires_at=at + quiet_for,
        )
        try:
            item.save(condition=LinkRenewalItem.pk.does_not_exist() | (LinkRenewalItem.requested_at < at - quiet_for))
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _outcome(self, build: Callable[[TransactWrite], None], failures: dict[int, LinkUse]) -> LinkUse:
        try:
            self._write(build)
        except ConditionFailed as failure:
            position = failed_item(failure)
            if position in failures:
                return failures[position]
            raise
        return LinkUse.USED


def _use(nonce: str, at: datetime, expires_at: datetime) -> LinkUseItem:
    return LinkUseItem(pk=f"LINKUSE#{nonce}", sk="USED", used_at=at, expires_at=expires_at)
