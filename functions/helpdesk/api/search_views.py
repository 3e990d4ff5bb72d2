"""The response of ``GET /inbox/search``: customers, tickets and conversations the caller may read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from helpdesk.api import ticket_views, views
from helpdesk.domain.models import Customer
from helpdesk.domain.workspace import Workspace
from helpdesk.services.search import SearchResults


class FoundCustomer(BaseModel):
    id: str = Field(description="The customer's id in the business's systems (the external id).")
    name: str | None
    email: str | None
    phone: str | None


class FoundConversation(BaseModel):
    matched: Literal["customer", "messages"] = Field(
        description="customer: found by its customer's email, name or id; messages: by words in its messages."
    )
    conversation: views.AgentConversationSummary


class SearchResultsView(BaseModel):
    query: str = Field(description="What was looked for, normalised (lower case; a phone number as its digits).")
    customers: list[FoundCustomer]
    tickets: list[ticket_views.AgentTicketView]
    conversations: list[FoundConversation]


def _customer(customer: Customer) -> FoundCustomer:
    return FoundCustomer(id=customer.user_id, name=customer.name, email=customer.email, phone=customer.phone)


def search_results_view(results: SearchResults, workspace: Workspace) -> SearchResultsView:
    return SearchResultsView(
        query=results.query,
        customers=[_customer(c) for c in results.customers],
        tickets=[ticket_views.agent_ticket_view(t, workspace) for t in results.tickets],
        conversations=[
            FoundConversation(matched=h.matched, conversation=views.agent_conversation_summary(h.conversation))
            for h in results.conversations
        ],
    )
