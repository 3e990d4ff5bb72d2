"""The local API Gateway's WebSocket API: the live channel at ``ws://127.0.0.1:$PORT/live``, on the gateway's port.

It plays API Gateway's part for ``helpdesk.surfaces.LIVE`` with the same code as in AWS:

- the handshake runs the ``$connect`` authorizer (the real live authorizer for customers' tokens; for
  agents, the local stand-in for Cognito, as the REST API's agent routes do), then the ``$connect``
  route, whose answer accepts the connection (with the subprotocol it names) or refuses it;
- each client message is routed on its ``action`` (``$default`` otherwise) to the same function, with
  the authorizer's context, and a responding route's answer is sent back;
- the management API (``POST|GET|DELETE /_live/@connections/<id>``) is what the functions post frames
  to, through the same boto3 client as in AWS; a connection that is gone answers 410 ``GoneException``;
- a connection closes after ``idle_seconds`` without a client message and after ``max_seconds`` in
  all (API Gateway's 10 minutes and 2 hours, shorter in tests), and ``$disconnect`` runs when it ends.

WebSockets are served with the ``websockets`` library's threaded server; the gateway hands it every
connection whose request starts with ``GET /live``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from localrt.context import FakeLambdaContext
from localrt.identities import AgentTokenRejected, agent_claims

log = logging.getLogger("localrt.live")

Handler = Callable[[dict[str, Any], Any], Any]
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message limit
GONE = {"x-amzn-ErrorType": "GoneException"}


@dataclass
class LiveConnection:
    id: str
    socket: ServerConnection
    authorizer: dict[str, Any]
    source_ip: str
    connected_at: float = field(default_factory=time.time)
    last_active: float = field(default_factory=time.monotonic)
    opened: float = field(default_factory=time.monotonic)
    send_lock: threading.Lock = field(default_factory=threading.Lock)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


class LocalLiveGateway:
    def __init__(
        self,
        *,
        handler: Callable[[str], Handler],
        surface: Any,
        agent_secret: str,
        listening_socket: socket.socket,
        idle_seconds: float | None = None,
        max_seconds: float | None = None,
    ) -> None:
        self._handler = handler
        self.surface = surface
        self._agent_secret = agent_secret
        self.idle_seconds = idle_seconds if idle_seconds is not None else surface.idle_seconds
        self.max_seconds = max_seconds if max_seconds is not None else surface.max_seconds
        self.connections: dict[str, LiveConnection] = {}
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[str, dict[str, Any], str | None]] = {}
        self._stopping = threading.Event()
        self._outage_until = 0.0
        self._server: Server = serve(
            self._session,
            sock=listening_socket,
            process_request=self._handshake,
            select_subprotocol=self._subprotocol,
            max_size=MAX_MESSAGE_BYTES,
            ping_interval=20,
            ping_timeout=20,
            logger=log,
        )
        threading.Thread(target=self._watchdog, name="live-watchdog", daemon=True).start()

    # --- connections ------------------------------------------------------------------------------

    def accept(self, sock: socket.socket, address: Any) -> None:
        """Serve one connection whose request is ``GET /live``: runs until it closes (in the caller's thread)."""
        with self._server.lock:
            self._server.handler_threads.add(threading.current_thread())
        self._server.handler(sock, address)

    def _authorize(self, headers: dict[str, str], query: dict[str, str], path: str) -> dict[str, Any] | str:
        return authorize_connect(self._handler, self.surface.authorizer, self._agent_secret, headers, query)

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path != self.surface.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not found\n")
        if time.monotonic() < self._outage_until:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "The live channel is down (a local outage)\n")
        headers = {name: value for name, value in request.headers.raw_items()}
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        outcome = self._authorize(headers, query, url.path)
        if isinstance(outcome, str):
            return connection.respond(HTTPStatus.FORBIDDEN, f"{outcome}\n")
        connection_id = base64.urlsafe_b64encode(os.urandom(12)).decode()
        source_ip = str(connection.remote_address[0]) if connection.remote_address else "127.0.0.1"
        event = {
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
            "requestContext": self._context("$connect", "CONNECT", connection_id, outcome, source_ip),
            "isBase64Encoded": False,
        }
        result = self._invoke(event)
        status = int((result or {}).get("statusCode", 500))
        if status != 200:
            return connection.respond(status, str((result or {}).get("body") or HTTPStatus(status).phrase) + "\n")
        protocol = ((result or {}).get("headers") or {}).get("Sec-WebSocket-Protocol")
        self._pending[id(connection)] = (connection_id, outcome, protocol)
        return None

    def _subprotocol(self, connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        """What ``$connect`` answered in ``Sec-WebSocket-Protocol``, when the client offered it (else none)."""
        pending = self._pending.get(id(connection))
        protocol = pending[2] if pending else None
        return Subprotocol(protocol) if protocol is not None and protocol in offered else None

    def _session(self, connection: ServerConnection) -> None:
        connection_id, authorizer, _ = self._pending.pop(id(connection))
        source_ip = str(connection.remote_address[0]) if connection.remote_address else "127.0.0.1"
        live = LiveConnection(connection_id, connection, authorizer, source_ip)
        with self._lock:
            self.connections[connection_id] = live
        code, reason = 1000, ""
        try:
            for message in connection:
                live.last_active = time.monotonic()
                self._route(live, message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self.connections.pop(connection_id, None)
            if connection.close_code is not None:
                code, reason = connection.close_code, connection.close_reason or ""
            disconnect = {
                "headers": {"Host": "127.0.0.1"},
                "requestContext": self._context("$disconnect", "DISCONNECT", connection_id, authorizer, source_ip)
                | {"disconnectStatusCode": code, "disconnectReason": reason},
                "isBase64Encoded": False,
            }
            try:
                self._invoke(disconnect)
            except Exception:
                log.exception("$disconnect of %s failed", connection_id)

    def _route(self, live: LiveConnection, message: str | bytes) -> None:
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        action = body.get("action") if isinstance(body, dict) else None
        routes = self.surface.routes
        route = action if isinstance(action, str) and action in routes and not action.startswith("$") else "$default"
        event = {
            "requestContext": self._context(route, "MESSAGE", live.id, live.authorizer, live.source_ip)
            | {"messageId": uuid.uuid4().hex[:16], "messageDirection": "IN"},
            "body": text,
            "isBase64Encoded": False,
        }
        try:
            result = self._invoke(event)
        except Exception:
            log.exception("live route %s crashed", route)
            return
        answer = (result or {}).get("body")
        if route in self.surface.responding_routes and answer:
            self.send(live.id, str(answer))

    def _context(
        self, route: str, event_type: str, connection_id: str, authorizer: dict[str, Any], source_ip: str
    ) -> dict[str, Any]:
        live = self.connections.get(connection_id)
        return {
            "routeKey": route,
            "eventType": event_type,
            "extendedRequestId": uuid.uuid4().hex,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "stage": "local",
            "connectedAt": int((live.connected_at if live else time.time()) * 1000),
            "requestTimeEpoch": _now_ms(),
            "identity": {"sourceIp": source_ip},
            "requestId": str(uuid.uuid4()),
            "domainName": "127.0.0.1",
            "connectionId": connection_id,
            "apiId": "local",
            "authorizer": dict(authorizer),
        }

    def _invoke(self, event: dict[str, Any]) -> Any:
        return self._handler(self.surface.handler)(event, FakeLambdaContext(function_name="helpdesk-live"))

    # --- the management API -----------------------------------------------------------------------

    def send(self, connection_id: str, text: str) -> bool:
        live = self.connections.get(connection_id)
        if live is None:
            return False
        try:
            with live.send_lock:
                live.socket.send(text)
        except ConnectionClosed:
            return False
        return True

    def manage(self, method: str, connection_id: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """``@connections/<id>``: post to it, describe it or close it, as API Gateway's management API does."""
        live = self.connections.get(connection_id)
        if live is None:
            return 410, {**GONE, "Content-Type": "application/json"}, json.dumps({"message": None}).encode()
        if method == "POST":
            if len(body) > MAX_MESSAGE_BYTES:
                return 413, {"Content-Type": "application/json"}, b'{"message": "Message too long"}'
            if not self.send(connection_id, body.decode("utf-8", "replace")):
                return 410, {**GONE, "Content-Type": "application/json"}, json.dumps({"message": None}).encode()
            return 200, {"Content-Type": "application/json"}, b"{}"
        if method == "GET":
            info = {
                "ConnectedAt": _iso(live.connected_at),
                "LastActiveAt": _iso(live.connected_at + (live.last_active - live.opened)),
                "Identity": {"SourceIp": live.source_ip, "UserAgent": ""},
            }
            return 200, {"Content-Type": "application/json"}, json.dumps(info).encode()
        if method == "DELETE":
            self.close(connection_id, 1000, "")
            return 204, {}, b""
        return 405, {"Content-Type": "application/json"}, b'{"message": "method not allowed"}'

    def close(self, connection_id: str, code: int, reason: str) -> None:
        live = self.connections.get(connection_id)
        if live is not None:
            threading.Thread(target=live.socket.close, args=(code, reason), daemon=True).start()

    def outage(self, seconds: float) -> int:
        """Drop every connection as a lost network would (no closing handshake) and refuse new ones for
        ``seconds``: what the pages' catch-up must survive. Returns how many were dropped."""
        self._outage_until = time.monotonic() + max(0.0, seconds)
        with self._lock:
            everyone = list(self.connections.values())
        for live in everyone:
            live.socket.close_socket()
        return len(everyone)

    def _watchdog(self) -> None:
        """API Gateway's limits: 10 minutes without a client message, 2 hours in all."""
        while not self._stopping.wait(1.0):
            now = time.monotonic()
            with self._lock:
                connections = list(self.connections.values())
            for live in connections:
                if now - live.opened > self.max_seconds or now - live.last_active > self.idle_seconds:
                    self.close(live.id, 1001, "Going away")

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            everyone = list(self.connections)
        for connection_id in everyone:
            self.close(connection_id, 1001, "Going away")


def authorize_connect(
    handler: Callable[[str], Handler],
    authorizer: str,
    agent_secret: str,
    headers: dict[str, str],
    query: dict[str, str],
) -> dict[str, Any] | str:
    """``$connect``'s authorizer: its context (as routes receive it), or why the connection is refused.

    An agent's token is checked by the local stand-in for Cognito (as for the inbox API); anything
    else goes to the real live authorizer function, which checks customers' tokens.
    """
    from helpdesk.handlers.live_authorizer import token_from

    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:000000000000:local/local/$connect",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "stage": "local", "apiId": "local"},
    }
    token = token_from(event)
    if token:
        try:
            claims = agent_claims(f"Bearer {token}", agent_secret)
        except AgentTokenRejected:
            pass
        else:
            context = {"principal_type": "agent", "sub": claims["sub"], "groups": claims.get("cognito:groups", "")}
            context |= {k: claims[k] for k in ("name", "email") if claims.get(k)}
            return {"principalId": claims["sub"], **context}
    policy = handler(authorizer)(event, FakeLambdaContext(function_name="helpdesk-live-authorizer"))
    statement = policy["policyDocument"]["Statement"][0]
    if statement["Effect"] != "Allow":
        return str(policy.get("context", {}).get("reason", "Forbidden"))
    return {"principalId": policy["principalId"], **policy.get("context", {})}


def is_live_request(sock: socket.socket, path: str, timeout: float = 5.0) -> bool:
    """Whether the request waiting on ``sock`` is ``GET <path>`` (peeked: nothing is consumed)."""
    wanted = f"GET {path}".encode()
    sock.settimeout(timeout)
    try:
        for _ in range(50):
            head = sock.recv(len(wanted) + 1, socket.MSG_PEEK)
            if len(head) >= len(wanted) + 1 or not head:
                break
            time.sleep(0.01)
    except OSError:
        return False
    finally:
        sock.settimeout(None)
    return head.startswith(wanted) and head[len(wanted) : len(wanted) + 1] in (b" ", b"?", b"/")


__all__ = ["LiveConnection", "LocalLiveGateway", "authorize_connect", "is_live_request"]
