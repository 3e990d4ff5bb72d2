"""``python -m orders``: run the demo order system until Ctrl-C, printing its URL and API key.

``ORDERS_PORT`` (default 8710) and ``ORDERS_API_KEY`` (default: a local-only demo key) configure it.
Point the custom actions at it with ``ORDERS_API_URL=<the printed URL>``. Requests made on behalf of
a customer carry ``X-Customer-Id`` and reach only that customer's orders.
"""

from __future__ import annotations

import os
import threading

from orders.server import start_order_system

# LOCAL DEVELOPMENT ONLY: the demo order system's key on your machine; never use it anywhere else.
DEFAULT_ORDERS_API_KEY = "local-dev-orders-api-key"


def main() -> int:
    port = int(os.environ.get("ORDERS_PORT", "8710"))
    api_key = os.environ.get("ORDERS_API_KEY", DEFAULT_ORDERS_API_KEY)
    system = start_order_system(port, api_key=api_key)
    note = "default" if api_key == DEFAULT_ORDERS_API_KEY else "from ORDERS_API_KEY"
    print(f"Demo order system: {system.url}  (ORDERS_API_URL={system.url})", flush=True)
    print(f"  API key (local only): {api_key}  [{note}]", flush=True)
    print(f"  Try: curl -H 'Authorization: Bearer {api_key}' {system.url}/orders/ORD-1001", flush=True)
    print("  On behalf of a customer, add -H 'X-Customer-Id: demo-customer-1' (another customer's order is 404)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        system.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
