"""The demo order system: the business's own shop backend that custom actions call in the demo.

A small HTTP JSON service on 127.0.0.1 (``start_order_system``), with demo orders for the demo
customers, delivery slots that can be changed (idempotently), API-key auth and fault injection.
"""

from orders.server import OrderSystem, start_order_system

__all__ = ["OrderSystem", "start_order_system"]
