"""The inbox search: customers, tickets and conversations an agent may read, found by what they typed.

Two reads of the table at most: one Query of the search keys (exact and prefix lookups by email,
name, phone, external id, ticket number, title words and attribute values), then one BatchGetItem
of what the keys and the full-text index of messages name. Each hit is checked against the thing as
it is now (a stale key finds nothing) and against the authorization policy: a conversation or
ticket needs ``READ``; a customer needs ``READ`` on ``Resource.customer`` with the teams of their
conversations and tickets found in the same search, so a customer is shown only to agents who can
see some of their work (or to everyone under ``agent_visibility: all``).
"""

from __future__ import annotations

from pydantic import BaseModel

from helpdesk.domain.models import Conversation, Customer, Ticket
from helpdesk.domain.policy import Action, Actor, Resource, Visibility, allowed
from helpdesk.domain.search_terms import matches, query_term
from helpdesk.services.ports import MessageSearch, SearchKeys

KEY_HITS = 60
"""Search keys read per search (one Query page)."""
MESSAGE_HITS = 20
"""Conversations asked of the full-text index per search."""
RESULTS_PER_KIND = 10


class ConversationHit(BaseModel):
    conversation: Conversation
    matched: str
    """``customer`` (found by its customer) or ``messages`` (by words in its messages)."""


class SearchResults(BaseModel):
    query: str
    customers: list[Customer]
    tickets: list[Ticket]
    conversations: list[ConversationHit]


class SearchService:
    def __init__(self, keys: SearchKeys, messages: MessageSearch | None, *, visibility: Visibility) -> None:
        self._keys = keys
        self._messages = messages
        self._visibility = visibility

    def search(self, agent: Actor, q: str | None) -> SearchResults:
        """What ``agent`` may read among the things ``q`` names (``InvalidInput`` for a bad ``q``)."""
        term = query_term(q)
        hits = self._keys.find(term, limit=KEY_HITS)
        by_messages = self._messages.conversations_matching(term, limit=MESSAGE_HITS) if self._messages else []
        customer_ids = [h.id for h in hits if h.kind == "customer"]
        ticket_ids = [h.id for h in hits if h.kind == "ticket"]
        by_customer = {h.id: h.customer_id for h in hits if h.kind == "conversation"}
        owners = [o for o in by_customer.values() if o]
        customers, tickets, conversations = self._keys.read_found(
            list(dict.fromkeys([*customer_ids, *owners])),
            ticket_ids,
            list(dict.fromkeys([*by_customer, *by_messages])),
        )

        profiles = {c.user_id: c for c in customers}
        teams_of: dict[str, set[str]] = {}
        for owner, team in [(t.customer_id, t.team_id) for t in tickets] + [
            (c.customer_id, c.team_id) for c in conversations
        ]:
            if owner:
                teams_of.setdefault(owner, set()).add(team)

        found_tickets = {t.id: t for t in tickets if matches(t, term) and self._may_read(agent, Resource.ticket(t))}
        found_customers = {
            c.user_id: c
            for c in customers
            if matches(c, term) and self._may_read(agent, Resource.customer(c.user_id, teams_of.get(c.user_id, set())))
        }
        readable = {c.id: c for c in conversations if self._may_read(agent, Resource.conversation(c))}
        conversation_hits: dict[str, ConversationHit] = {}
        for conversation_id in by_customer:
            found = readable.get(conversation_id)
            if found is not None and self._found_by_customer(found, profiles.get(found.customer_id), term):
                conversation_hits[found.id] = ConversationHit(conversation=found, matched="customer")
        for conversation_id in by_messages:
            found = readable.get(conversation_id)
            if found is not None and found.id not in conversation_hits:
                conversation_hits[found.id] = ConversationHit(conversation=found, matched="messages")
        return SearchResults(
            query=term,
            customers=[found_customers[i] for i in customer_ids if i in found_customers][:RESULTS_PER_KIND],
            tickets=[found_tickets[i] for i in ticket_ids if i in found_tickets][:RESULTS_PER_KIND],
            conversations=list(conversation_hits.values())[:RESULTS_PER_KIND],
        )

    @staticmethod
    def _found_by_customer(conversation: Conversation, customer: Customer | None, term: str) -> bool:
        """Its customer still has a term starting with ``term`` (their profile, or what it carries of them)."""
        return matches(conversation, term) or (customer is not None and matches(customer, term))

    def _may_read(self, agent: Actor, resource: Resource) -> bool:
        return allowed(agent, Action.READ, resource, self._visibility)
