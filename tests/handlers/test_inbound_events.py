"""The inbound-events worker with the sample OrderUpdated event, as the bus's rule delivers it."""

from __future__ import annotations

from typing import Any

from helpdesk.adapters.store import TableStores
from helpdesk.domain.models import PartType
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.handlers import inbound_events
from helpdesk.services.tickets import NewTicket, TicketService

from tests.support.events import FakeLambdaContext, sample_event


def test_the_sample_order_update_reaches_the_ticket_about_that_order(table: str, workspace: Any) -> None:
    stores = TableStores()
    ticket = TicketService(stores.tickets, stores.conversations, stores.attachments, workspace).create(
        AgentPrincipal(id="agent-rita", teams=frozenset({"returns"})),
        NewTicket(
            ticket_type_id="damaged-item", customer_id="alice", attributes={"order_id": "ORD-1001", "description": "x"}
        ),
    )
    event = sample_event("inbound_events/order_updated")

    for _ in range(2):
        assert inbound_events.lambda_handler(event, FakeLambdaContext())["batchItemFailures"] == []

    parts = stores.tickets.ticket_page(ticket.id, before=None, limit=50)[1]
    updates = [p for p in parts if p.type is PartType.EXTERNAL_UPDATE]
    assert [p.body for p in updates] == ["Your replacement teapot is on its way: DHL JD0002."]
