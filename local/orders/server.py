"""The demo order system's HTTP JSON API (stdlib ``ThreadingHTTPServer`` on 127.0.0.1).

Endpoints (all but ``/health`` need ``Authorization: Bearer <api key>``)::

    GET  /health                        {"ok": true}
    GET  /customers/{id}/orders         {"customer_id", "orders": [...]}  a customer's orders, newest first
    GET  /orders/{id}                   the order
    GET  /orders/{id}/delivery-slots    {"order_id", "customer_id", "slots": [...]}  the free slots
    PUT  /orders/{id}/delivery-slot     {"slot_id"} -> the order; 409 delivered/on the van, 422 unknown slot
    POST /_faults                       {"mode", "seconds", "count"}  fault injection (see ``Fault``)
    GET  /_stats                        request and applied-write counters

``PUT`` honours ``Idempotency-Key``: the first request with a key is applied and its answer stored;
a later request with the same key gets the stored answer and changes nothing (a different body
with the same key is refused with 422).

Ownership: a request made on behalf of a customer says so with ``X-Customer-Id`` (the help desk
sends the customer's verified id); it reaches only that customer's orders, and any other order is
404, exactly as for an order that doesn't exist, before anything is read, replayed or changed. A
request without the header is the business's own back office (the API key is the business's), as
the tests' and the demo's own checks are.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sys
import threading
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from orders.catalogue import Order, demo_orders

logger = logging.getLogger(__name__)

CUSTOMER_HEADER = "X-Customer-Id"
_CUSTOMER_ORDERS_PATH = re.compile(r"^/customers/(?P<id>[A-Za-z0-9:_.@-]{1,128})/orders$")
_ORDER_PATH = re.compile(r"^/orders/(?P<id>[A-Za-z0-9-]{1,40})(?P<rest>/delivery-slots|/delivery-slot)?$")
MAX_BODY_BYTES = 64 * 1024


class FaultMode(StrEnum):
    NONE = "none"
    HANG = "hang"
    """The request is handled, but the answer is held back for ``seconds`` (a write is applied)."""
    ERROR = "error"
    """503, nothing handled."""
    MALFORMED = "malformed"
    """200 with a body that is not valid JSON, nothing handled."""
    DOWN_ONCE = "down_once"
    """The connection is closed without an answer, once, nothing handled."""


@dataclass
class Fault:
    """What happens to the next ``/orders`` requests: ``count`` of them (``None``: all, until changed)."""

    mode: FaultMode = FaultMode.NONE
    seconds: float = 10.0
    count: int | None = None

    def take(self) -> tuple[FaultMode, float]:
        """The fault for this request and its seconds, counting it down."""
        mode, seconds = self.mode, self.seconds
        if mode is not FaultMode.NONE and self.count is not None:
            self.count -= 1
            if self.count <= 0:
                self.mode, self.count = FaultMode.NONE, None
        return mode, seconds


@dataclass
class Stats:
    requests: int = 0
    slot_changes_applied: int = 0
    idempotent_replays: int = 0


@dataclass
class _Stored:
    fingerprint: str
    status: int
    body: dict[str, Any]


@dataclass
class OrderSystem:
    """A running order system: its state, its faults and its counters."""

    api_key: str
    orders: dict[str, Order]
    fault: Fault = field(default_factory=Fault)
    stats: Stats = field(default_factory=Stats)
    lock: threading.RLock = field(default_factory=threading.RLock)
    stopping: threading.Event = field(default_factory=threading.Event)
    idempotency: dict[str, _Stored] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the order system is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def set_fault(self, mode: str, seconds: float = 10.0, count: int | None = None) -> None:
        """Makes the next ``count`` ``/orders`` requests (all, if ``None``) fail the way ``mode`` says."""
        fault_mode = FaultMode(mode)
        if seconds < 0 or seconds > 300:
            raise ValueError("seconds must be between 0 and 300")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        if fault_mode is FaultMode.DOWN_ONCE:
            count = 1
        with self.lock:
            self.fault = Fault(fault_mode, seconds, count)

    def stop(self) -> None:
        """Stops serving; requests held back by a ``hang`` fault are answered at once."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, system: OrderSystem, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.system = system

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timed out) while a fault held its answer back is expected, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("client %s went away before its answer", client_address)
            return
        super().handle_error(request, client_address)


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "DemoOrders/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    # --- plumbing -------------------------------------------------------------------------------

    @property
    def system(self) -> OrderSystem:
        return self.server.system

    def _send(self, status: int, body: dict[str, Any] | bytes) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError as error:
            raise _Refused(HTTPStatus.BAD_REQUEST, f"body is not valid JSON: {error}") from error
        if not isinstance(body, dict):
            raise _Refused(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
        return body

    def _authorize(self) -> None:
        scheme, _, key = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), self.system.api_key.encode()):
            raise _Refused(HTTPStatus.UNAUTHORIZED, "send 'Authorization: Bearer <api key>'")

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        try:
            if method == "GET" and path == "/health":
                self._send(HTTPStatus.OK, {"ok": True})
                return
            self._authorize()
            if path == "/_faults" and method == "POST":
                self._set_fault(self._body())
            elif path == "/_stats" and method == "GET":
                with self.system.lock:
                    self._send(HTTPStatus.OK, vars(self.system.stats).copy())
            elif (match := _CUSTOMER_ORDERS_PATH.match(path)) and method == "GET":
                self._customer_orders(match.group("id"))
            elif match := _ORDER_PATH.match(path):
                self._order_request(method, match.group("id"), match.group("rest") or "")
            else:
                raise _Refused(HTTPStatus.NOT_FOUND, f"no such endpoint: {method} {path}")
        except _Refused as refused:
            self._send(refused.status, {"error": refused.message})

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # --- endpoints ------------------------------------------------------------------------------

    def _set_fault(self, body: dict[str, Any]) -> None:
        try:
            self.system.set_fault(str(body.get("mode")), float(body.get("seconds", 10)), body.get("count"))
        except (TypeError, ValueError) as error:
            modes = ", ".join(m.value for m in FaultMode)
            raise _Refused(HTTPStatus.UNPROCESSABLE_ENTITY, f"{error} (mode is one of: {modes})") from error
        self._send(HTTPStatus.OK, {"mode": self.system.fault.mode.value, "count": self.system.fault.count})

    def _customer_orders(self, customer_id: str) -> None:
        """A customer's orders, newest first; on a customer's behalf, only that customer's own (404 otherwise)."""
        on_behalf_of = self.headers.get(CUSTOMER_HEADER)
        if on_behalf_of is not None and on_behalf_of.strip() != customer_id:
            raise _Refused(HTTPStatus.NOT_FOUND, f"no customer {customer_id}")
        with self.system.lock:
            self.system.stats.requests += 1
            orders = [o for o in self.system.orders.values() if o.customer_id == customer_id]
        orders.sort(key=lambda order: (order.placed_on, order.id), reverse=True)
        self._send(HTTPStatus.OK, {"customer_id": customer_id, "orders": [o.to_json() for o in orders]})

    def _order_request(self, method: str, order_id: str, rest: str) -> None:
        system = self.system
        with system.lock:
            system.stats.requests += 1
            fault, seconds = system.fault.take()
        if fault is FaultMode.ERROR:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the order system is temporarily unavailable"})
            return
        if fault is FaultMode.MALFORMED:
            self._send(HTTPStatus.OK, b'{"id": "' + order_id.encode() + b'", "status": ')
            return
        if fault is FaultMode.DOWN_ONCE:
            self.close_connection = True
            return

        try:
            status, body = self._handle_order(method, order_id, rest)
        except _Refused as refused:
            status, body = refused.status, {"error": refused.message}
        if fault is FaultMode.HANG:
            system.stopping.wait(seconds)
        self._send(status, body)

    def _handle_order(self, method: str, order_id: str, rest: str) -> tuple[int, dict[str, Any]]:
        system = self.system
        on_behalf_of = self.headers.get(CUSTOMER_HEADER)
        with system.lock:
            order = system.orders.get(order_id)
            # Someone else's order is answered exactly like one that doesn't exist.
            if order is None or (on_behalf_of is not None and on_behalf_of.strip() != order.customer_id):
                raise _Refused(HTTPStatus.NOT_FOUND, f"no order {order_id}")
            if method == "GET" and rest == "":
                return HTTPStatus.OK, order.to_json()
            if method == "GET" and rest == "/delivery-slots":
                slots = [s.to_json() for s in order.free_slots]
                return HTTPStatus.OK, {"order_id": order.id, "customer_id": order.customer_id, "slots": slots}
            if method == "PUT" and rest == "/delivery-slot":
                return self._change_slot(order)
        raise _Refused(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on /orders/{order_id}{rest}")

    def _change_slot(self, order: Order) -> tuple[int, dict[str, Any]]:
        """Called with the lock held: replay a stored answer, or apply the change once and store its answer."""
        system = self.system
        body = self._body()
        key = self.headers.get("Idempotency-Key")
        caller = self.headers.get(CUSTOMER_HEADER) or ""
        fingerprint = hashlib.sha256(f"{order.id}|{caller}|{json.dumps(body, sort_keys=True)}".encode()).hexdigest()
        if key:
            stored = system.idempotency.get(key)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise _Refused(
                        HTTPStatus.UNPROCESSABLE_ENTITY, "this Idempotency-Key was already used for a different request"
                    )
                system.stats.idempotent_replays += 1
                return stored.status, stored.body
        status, answer = self._apply_slot_change(order, body)
        if key:
            system.idempotency[key] = _Stored(fingerprint, status, answer)
        return status, answer

    def _apply_slot_change(self, order: Order, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        slot_id = body.get("slot_id")
        if not isinstance(slot_id, str) or not slot_id:
            return HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "slot_id is required"}
        if not order.slot_changeable:
            why = "has been delivered" if order.status == "delivered" else "is already out for delivery"
            return HTTPStatus.CONFLICT, {"error": f"order {order.id} {why}; its delivery slot can't change"}
        new = next((s for s in order.free_slots if s.id == slot_id), None)
        if new is None:
            return HTTPStatus.UNPROCESSABLE_ENTITY, {"error": f"slot {slot_id} is not one of the free slots"}
        order.free_slots = sorted([*(s for s in order.free_slots if s != new), order.delivery_slot], key=_slot_order)
        order.delivery_slot = new
        self.system.stats.slot_changes_applied += 1
        return HTTPStatus.OK, order.to_json()


def _slot_order(slot: Any) -> tuple[date, str]:
    return slot.date, slot.start


def start_order_system(port: int = 0, *, api_key: str, today: date | None = None) -> OrderSystem:
    """Starts the order system on 127.0.0.1 (``port`` 0: a free port) in a background thread."""
    if not api_key:
        raise ValueError("api_key is required: requests must send 'Authorization: Bearer <api key>'")
    system = OrderSystem(api_key=api_key, orders=demo_orders(today or date.today()))
    server = _Server(system, port)
    thread = threading.Thread(target=server.serve_forever, name="order-system", daemon=True)
    system._server, system._thread = server, thread
    thread.start()
    return system
