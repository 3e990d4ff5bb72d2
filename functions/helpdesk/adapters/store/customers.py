"""Customers' profiles and notification preferences, and what the inbox shows about a customer."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.store.base import TableStore
from helpdesk.adapters.table import ConversationItem, CustomerItem, TableItem, TicketItem
from helpdesk.domain.customer_profiles import CustomerHistory
from helpdesk.domain.models import Customer, NotificationPreferences, utc_now


def _customer(item: CustomerItem) -> Customer:
    return Customer(
        user_id=item.user_id,
        email=item.email,
        name=item.name,
        phone=item.phone,
        preferences=NotificationPreferences.model_validate(item.preferences or {}),
    )


class CustomerTable(TableStore):
    def get_customer(self, user_id: str) -> Customer | None:
        try:
            item = CustomerItem.get(mapping.customer_pk(user_id), "PROFILE")
        except DoesNotExist:
            return None
        return _customer(item)

    def save_preferences(self, customer: Customer) -> None:
        """The profile and its search keys, in one transaction."""
        profile, actions = self._customer_upsert(customer, utc_now())
        actions.append(CustomerItem.preferences.set(customer.preferences.model_dump()))

        def build(transaction: TransactWrite) -> None:
            transaction.update(profile, actions=actions)
            self._save_search_keys(transaction, customer)

        self._write(build)

    def customer_history(self, customer_id: str, *, limit: int) -> CustomerHistory:
        """The customer's profile with their ``limit`` newest tickets, and their ``limit`` newest conversations.

        Two Queries of the ``by_customer`` index: ``GSI1SK > TICKET#`` from the newest end gives the
        profile (``~PROFILE``) and then the tickets; ``begins_with CONV#`` gives the conversations.
        """
        partition = mapping.customer_key(customer_id)
        customer: Customer | None = None
        tickets = []
        for item in TableItem.by_customer.query(
            partition,
            TableItem.gsi1sk > mapping.CUSTOMER_TICKETS,
            scan_index_forward=False,
            limit=limit + 1,
        ):
            if isinstance(item, CustomerItem):
                customer = _customer(item)
            elif isinstance(item, TicketItem):
                tickets.append(mapping.ticket_from_item(item))
        conversations = [
            mapping.conversation_from_item(item)
            for item in TableItem.by_customer.query(
                partition,
                TableItem.gsi1sk.startswith(mapping.CUSTOMER_CONVERSATIONS),
                scan_index_forward=False,
                limit=limit,
            )
            if isinstance(item, ConversationItem)
        ]
        return CustomerHistory(customer=customer, tickets=tickets[:limit], conversations=conversations)
