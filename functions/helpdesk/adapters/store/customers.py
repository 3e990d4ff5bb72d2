"""Customers' profiles and notification preferences."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.store.base import TableStore
from helpdesk.adapters.table import CustomerItem
from helpdesk.domain.models import Customer, NotificationPreferences, utc_now


class CustomerTable(TableStore):
    def get_customer(self, user_id: str) -> Customer | None:
        try:
            item = CustomerItem.get(mapping.customer_pk(user_id), "PROFILE")
        except DoesNotExist:
            return None
        return Customer(
            user_id=item.user_id,
            email=item.email,
            name=item.name,
            phone=item.phone,
            preferences=NotificationPreferences.model_validate(item.preferences or {}),
        )

    def save_preferences(self, customer: Customer) -> None:
        """The profile and its search keys, in one transaction."""
        profile, actions = self._customer_upsert(customer, utc_now())
        actions.append(CustomerItem.preferences.set(customer.preferences.model_dump()))

        def build(transaction: TransactWrite) -> None:
            transaction.update(profile, actions=actions)
            self._save_search_keys(transaction, customer)

        self._write(build)
