"""Customers, agents and a context package the tests share."""

from __future__ import annotations

from helpdesk.domain.models import ContextPackage, ViewedObject
from helpdesk.domain.principals import AgentPrincipal, CustomerPrincipal
from helpdesk.domain.roles import Role

ALICE = CustomerPrincipal(user_id="alice", email="alice@example.com", name="Alice")
BOB = CustomerPrincipal(user_id="bob", email="bob@example.com", name="Bob")
FRONTLINE_AGENT = AgentPrincipal(id="agent-frank", name="Frank", teams=frozenset({"frontline"}))
RETURNS_AGENT = AgentPrincipal(id="agent-rita", name="Rita", teams=frozenset({"returns"}))
RETURNS_AGENT_2 = AgentPrincipal(id="agent-ravi", name="Ravi", teams=frozenset({"returns"}))
ADMIN = AgentPrincipal(id="agent-ada", name="Ada", role=Role.ADMIN)

ORDER_CONTEXT = ContextPackage(
    page_url="https://shop.example.com/orders/ORD-1001",
    page_title="Order ORD-1001",
    device="iPhone 15",
    os="iOS 18",
    app_version="4.2.0",
    locale="en-GB",
    time_zone="Europe/London",
    object=ViewedObject(type="order", id="ORD-1001"),
)
