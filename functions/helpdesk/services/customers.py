"""The customer's own settings: how they want to hear about their tickets."""

from __future__ import annotations

from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import Customer, NotificationPreferences
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.services.ports import CustomerRecords


class CustomerService:
    def __init__(self, customers: CustomerRecords) -> None:
        self._store = customers

    def preferences(self, customer: CustomerPrincipal) -> NotificationPreferences:
        stored = self._store.get_customer(customer.user_id)
        if stored is not None:
            return stored.preferences
        return NotificationPreferences(email=customer.email is not None, sms=False)

    def set_preferences(
        self, customer: CustomerPrincipal, preferences: NotificationPreferences
    ) -> NotificationPreferences:
        if customer.is_visitor:
            raise InvalidInput(
                "visitors can't receive status updates outside the messenger",
                [("authorization", "identify the customer first")],
            )
        stored = self._store.get_customer(customer.user_id)
        email = customer.email or (stored.email if stored else None)
        phone = customer.phone or (stored.phone if stored else None)
        problems = []
        if preferences.email and not email:
            problems.append(("email", "we have no email address for you: it must come in your token"))
        if preferences.sms and not phone:
            problems.append(("sms", "we have no phone number for you: it must come in your token"))
        if problems:
            raise InvalidInput("those channels can't reach you", problems)
        self._store.save_preferences(
            Customer(user_id=customer.user_id, email=email, name=customer.name, phone=phone, preferences=preferences)
        )
        return preferences
