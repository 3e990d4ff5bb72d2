"""Events from the business's systems reach the tickets about the object they concern, once."""

from __future__ import annotations

import pytest
from helpdesk.adapters.store import TableStores
from helpdesk.domain.models import PartType
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.services.inbound import InboundEventService
from helpdesk.services.tickets import NewTicket, TicketService
from pydantic import ValidationError

RITA = AgentPrincipal(id="agent-rita", teams=frozenset({"returns"}))


def order_updated(order_id: str, *, visible: bool = True, event_id: str = "evt-1") -> dict[str, object]:
    return {
        "id": event_id,
        "source": "demo.orders",
        "detail-type": "OrderUpdated",
        "time": "2026-11-23T10:00:00Z",
        "detail": {
            "order_id": order_id,
            "status": "replacement_shipped",
            "message": "Your replacement is on its way",
            "customer_visible": visible,
        },
    }


def test_an_order_update_lands_once_on_every_ticket_about_that_order(
    tickets: TicketService, stores: TableStores
) -> None:
    about = tickets.create(
        RITA,
        NewTicket(
            ticket_type_id="damaged-item", customer_id="alice", attributes={"order_id": "ORD-1001", "description": "x"}
        ),
    )
    other = tickets.create(
        RITA,
        NewTicket(
            ticket_type_id="damaged-item", customer_id="bob", attributes={"order_id": "ORD-2002", "description": "y"}
        ),
    )
    service = InboundEventService(stores.tickets)

    assert service.apply(order_updated("ORD-1001")) == 1
    assert service.apply(order_updated("ORD-1001")) == 0, "a redelivered event adds nothing"

    updates = [
        p for p in stores.tickets.ticket_page(about.id, before=None, limit=50)[1] if p.type is PartType.EXTERNAL_UPDATE
    ]
    assert [(p.body, p.visible_to_customer) for p in updates] == [("Your replacement is on its way", True)]
    assert not any(
        p.type is PartType.EXTERNAL_UPDATE for p in stores.tickets.ticket_page(other.id, before=None, limit=50)[1]
    )


def test_an_internal_update_is_kept_from_the_customer(tickets: TicketService, stores: TableStores) -> None:
    ticket = tickets.create(
        RITA,
        NewTicket(
            ticket_type_id="damaged-item", customer_id="alice", attributes={"order_id": "ORD-1003", "description": "x"}
        ),
    )
    InboundEventService(stores.tickets).apply(order_updated("ORD-1003", visible=False, event_id="evt-9"))
    parts = stores.tickets.ticket_page(ticket.id, before=None, limit=50)[1]
    assert [p.visible_to_customer for p in parts if p.type is PartType.EXTERNAL_UPDATE] == [False]


def test_a_malformed_inbound_event_is_refused(stores: TableStores, table: str) -> None:
    with pytest.raises(ValidationError):
        InboundEventService(stores.tickets).apply({"detail-type": "OrderUpdated", "detail": {"status": "x"}})
    with pytest.raises(ValueError, match="no inbound event"):
        InboundEventService(stores.tickets).apply({"detail-type": "Unknown", "detail": {}})
