"""The demo orders and their delivery slots, dated relative to the day the system starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

WINDOWS = (("morning", "08:00", "12:00"), ("afternoon", "12:00", "17:00"), ("evening", "17:00", "21:00"))
SLOT_DAYS = 5
"""Slots are offered for this many days, starting tomorrow."""


class OrderStatus(StrEnum):
    PROCESSING = "processing"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"


@dataclass(frozen=True)
class DeliverySlot:
    id: str
    date: date
    start: str
    end: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "date": self.date.isoformat(),
            "window": f"{self.start}-{self.end}",
            "label": f"{self.date:%a %d %b}, {self.start}-{self.end}",
        }


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    qty: int
    price: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "name": self.name, "qty": self.qty, "price": str(self.price)}


STATUS_LABELS = {
    OrderStatus.PROCESSING: "being packed",
    OrderStatus.SHIPPED: "on its way",
    OrderStatus.OUT_FOR_DELIVERY: "out for delivery today",
    OrderStatus.DELIVERED: "delivered",
}
"""How the order system words a status for customers."""


@dataclass
class Order:
    id: str
    customer_id: str
    status: OrderStatus
    placed_on: date
    items: tuple[Item, ...]
    carrier: str
    tracking_number: str
    delivery_slot: DeliverySlot
    free_slots: list[DeliverySlot] = field(default_factory=list)

    @property
    def slot_changeable(self) -> bool:
        """Once the parcel is on the van (or delivered), the slot can't move."""
        return self.status in (OrderStatus.PROCESSING, OrderStatus.SHIPPED)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "status": self.status.value,
            "status_label": STATUS_LABELS[self.status],
            "placed_on": self.placed_on.isoformat(),
            "items": [item.to_json() for item in self.items],
            "total": str(sum((item.price * item.qty for item in self.items), Decimal("0"))),
            "currency": "GBP",
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "estimated_delivery": self.delivery_slot.date.isoformat(),
            "delivery_slot": self.delivery_slot.to_json(),
        }


def slot(day: date, window: str) -> DeliverySlot:
    name, start, end = next(w for w in WINDOWS if w[0] == window)
    return DeliverySlot(id=f"{day.isoformat()}-{name}", date=day, start=start, end=end)


def _free_slots(today: date, booked: DeliverySlot, seed: int) -> list[DeliverySlot]:
    """Every window in the next days except the order's own and a few that are fully booked."""
    slots = [slot(today + timedelta(days=d), w[0]) for d in range(1, SLOT_DAYS + 1) for w in WINDOWS]
    return [s for i, s in enumerate(slots) if s != booked and (i + seed) % 4 != 0]


def demo_orders(today: date) -> dict[str, Order]:
    """Three orders for ``demo-customer-1`` and two for ``demo-customer-2`` (the local runtime's demo customers)."""
    day = timedelta(days=1)
    orders = [
        Order(
            id="ORD-1001",
            customer_id="demo-customer-1",
            status=OrderStatus.SHIPPED,
            placed_on=today - 2 * day,
            items=(
                Item("MUG-CER-01", "Ceramic mug, blue", 2, Decimal("12.50")),
                Item("TEA-EARL-250", "Earl Grey tea, 250 g", 1, Decimal("8.90")),
            ),
            carrier="DHL",
            tracking_number="JD014600006281234567",
            delivery_slot=slot(today + 2 * day, "morning"),
        ),
        Order(
            id="ORD-1002",
            customer_id="demo-customer-1",
            status=OrderStatus.DELIVERED,
            placed_on=today - 10 * day,
            items=(Item("LAMP-DESK-BR", "Desk lamp, brass", 1, Decimal("64.00")),),
            carrier="Royal Mail",
            tracking_number="RM123456785GB",
            delivery_slot=slot(today - 6 * day, "afternoon"),
        ),
        Order(
            id="ORD-1003",
            customer_id="demo-customer-1",
            status=OrderStatus.PROCESSING,
            placed_on=today,
            items=(Item("CHAIR-OAK-02", "Oak dining chair", 4, Decimal("89.00")),),
            carrier="DPD",
            tracking_number="15501234567890",
            delivery_slot=slot(today + 4 * day, "evening"),
        ),
        Order(
            id="ORD-1004",
            customer_id="demo-customer-2",
            status=OrderStatus.OUT_FOR_DELIVERY,
            placed_on=today - 3 * day,
            items=(Item("BOOT-HIKE-42", "Hiking boots, size 42", 1, Decimal("120.00")),),
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
            delivery_slot=slot(today, "afternoon"),
        ),
        Order(
            id="ORD-1005",
            customer_id="demo-customer-2",
            status=OrderStatus.SHIPPED,
            placed_on=today - 1 * day,
            items=(
                Item("SOCK-WOOL-3P", "Wool socks, 3 pairs", 2, Decimal("15.00")),
                Item("BOTTLE-STL-750", "Steel bottle, 750 ml", 1, Decimal("22.00")),
            ),
            carrier="DHL",
            tracking_number="JD014600006289876543",
            delivery_slot=slot(today + 1 * day, "evening"),
        ),
    ]
    for seed, order in enumerate(orders):
        if order.slot_changeable:
            order.free_slots = _free_slots(today, order.delivery_slot, seed)
    return {order.id: order for order in orders}
