"""The local API Gateway: HTTP in, the same REST proxy events API Gateway sends, the same handlers.

For each request it picks the API surface by path prefix (``helpdesk.surfaces``), plays the
authorizer's part (the real messenger Lambda authorizer; for agents, local tokens standing in for
Cognito), builds the proxy event (v1 payload) with the authorizer's context, calls the handler and
writes its response back. It also serves the web pages (``web/<surface>/``) as S3 + CloudFront do,
with the security headers CloudFront's response-headers policies add (``helpdesk.security_headers``);
every answer it gives (pages, the handlers' answers, its own refusals) carries them.

``/healthz`` reports each worker (``localrt.workers``) and answers 503 while any is down or not
ready yet. Local-only tools live under ``/_local/``: the outbox, the injected faults' counts, and
``POST /_local/workers/<name>/crash``, which makes a worker die so its restart can be seen.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import os
import threading
import time
import uuid
from collections.abc import Callable
from functools import cached_property
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from helpdesk.security_headers import PageName, api_headers, gateway_answer_headers, page_headers, page_policy
from helpdesk.surfaces import LIVE_MANAGEMENT_PATH

from localrt.context import FakeLambdaContext
from localrt.faults import FaultInjector, suspended
from localrt.identities import AgentTokenRejected, agent_claims
from localrt.live import LocalLiveGateway, is_live_request
from localrt.outbox import Outbox
from localrt.pollers import Handler, load_handler
from localrt.rate_limits import RateLimits, limits_from_environment
from localrt.settings import Settings
from localrt.workers import Supervisor

log = logging.getLogger("localrt.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, If-Match",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Max-Age": "600",
}


def proxy_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    body: bytes | None = None,
    authorizer: dict[str, Any] | None = None,
    stage: str = "local",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The event API Gateway (REST API, Lambda proxy integration) sends for this request."""
    surface = path.split("/")[1] if path.count("/") >= 1 else ""
    parsed_query = parse_qs(query, keep_blank_values=True)
    text: str | None = None
    encoded = False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
    header_map = dict(headers or {})
    proxy = path.split("/", 2)[2] if path.count("/") >= 2 else ""
    now = time.time()
    return {
        "resource": f"/{surface}/{{proxy+}}",
        "path": path,
        "httpMethod": method,
        "headers": header_map or None,
        "multiValueHeaders": {k: [v] for k, v in header_map.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in parsed_query.items()} or None,
        "multiValueQueryStringParameters": parsed_query or None,
        "pathParameters": {"proxy": proxy} if proxy else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": f"/{surface}/{{proxy+}}",
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{stage}{path}",
            "accountId": "000000000000",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": header_map.get("User-Agent")},
            "domainName": "localhost",
            "apiId": "local",
            "authorizer": authorizer,
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def authorizer_event(method: str, path: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    """The event API Gateway sends a REQUEST Lambda authorizer."""
    parsed = parse_qs(query)
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:us-east-1:000000000000:local/local/{method}{path}",
        "resource": f"/{path.split('/')[1]}/{{proxy+}}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": {k: v[-1] for k, v in parsed.items()},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {"path": f"/local{path}", "stage": "local", "httpMethod": method, "apiId": "local"},
    }


class LocalGateway:
    def __init__(self, settings: Settings, index: dict[str, Any]) -> None:
        from helpdesk.surfaces import API_SURFACES, MESSENGER_AUTHORIZER_HANDLER

        self.settings = settings
        self.surfaces = API_SURFACES
        self.authorizer_path = MESSENGER_AUTHORIZER_HANDLER
        self.index = index
        self.outbox: Outbox | None = None
        from helpdesk.surfaces import RATE_LIMITS

        self.rate_limits: RateLimits | None = RateLimits(limits_from_environment(RATE_LIMITS, os.environ))
        self.faults: FaultInjector | None = None
        self.workers: Supervisor | None = None
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._lock = threading.Lock()
        self._invoking = threading.Lock()  # one invocation at a time, across the gateway's functions (see handler)
        self.server: ThreadingHTTPServer | None = None
        self.live: LocalLiveGateway | None = None

    def handler(self, dotted: str) -> Callable[[dict[str, Any], Any], Any]:
        """The function, invoked like Lambda invokes it: one event at a time.

        A Lambda container never runs two invocations at once, and handler code may rely on that:
        powertools' resolvers keep the current event on their base class (``BaseRouter.current_event``),
        one value for every resolver in the process. In AWS each function has a process of its own;
        here the gateway's functions share one, so they take turns (one lock for all of them), or the
        messenger could read the inbox's event and its caller (seen in a cold-start burst).
        """
        with self._lock:
            if dotted not in self._handlers:
                self._handlers[dotted] = _one_at_a_time(load_handler(dotted), self._invoking)
            return self._handlers[dotted]

    def preload(self, dotted: str, function: Handler) -> None:
        """Serve ``dotted`` with ``function``, already imported (``localrt.pollers.import_handlers``)."""
        with self._lock:
            self._handlers[dotted] = _one_at_a_time(function, self._invoking)

    # --- request handling ------------------------------------------------------------------------

    def respond(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, client: str = "127.0.0.1"
    ) -> tuple[int, dict[str, str], bytes]:
        """The answer to one request; ``client`` is the address it came from (the rate limits' source)."""
        url = urlsplit(raw_path)
        path = url.path
        if method == "OPTIONS":
            return 204, dict(CORS_HEADERS), b""
        if path == "/healthz":
            return self.health()
        if path == "/":
            return _json(200, self.index)
        if path.startswith(f"{LIVE_MANAGEMENT_PATH}/@connections/") and self.live is not None:
            connection_id = unquote(path.removeprefix(f"{LIVE_MANAGEMENT_PATH}/@connections/"))
            return self.live.manage(method, connection_id, body)
        if path == "/_local/live/outage" and method == "POST" and self.live is not None:
            seconds = float(parse_qs(url.query).get("seconds", ["30"])[-1])
            return _json(200, {"dropped": self.live.outage(seconds), "seconds": seconds})
        if path.startswith("/_local/workers/"):
            return self.crash_worker(method, path)
        if path == "/_local/faults":
            return _json(200, self.faults.snapshot() if self.faults else {"rates": {}, "requests": {}, "injected": {}})
        if path == "/_local/outbox" and self.outbox is not None:
            with suspended(self.faults):  # it only observes: never faulted
                return _json(200, self.outbox.snapshot())
        if path == "/_local/outbox.html" and self.outbox is not None:
            with suspended(self.faults):
                page = self.outbox.page()
            return 200, {"Content-Type": "text/html; charset=utf-8", **api_headers("text/html", page)}, page.encode()
        matching = [s for s in self.surfaces if path == s.prefix or path.startswith(s.prefix + "/")]
        surface = max(matching, key=lambda s: len(s.prefix), default=None)
        if surface is None:
            return _json(404, {"error": "not_found", "message": f"nothing is served at {path}"})
        static = self.static_file(surface.name, surface.prefix, path)
        if static is not None:
            return static
        if len(body) > MAX_BODY_BYTES:
            return _json(413, {"error": "payload_too_large", "message": "request body exceeds 10 MB"})
        authorizer: dict[str, Any] | None = None
        if path not in surface.public_paths:
            outcome = self.authorize(surface.auth, method, path, headers, url.query)
            if isinstance(outcome, tuple):
                return outcome
            authorizer = outcome
        if self.rate_limits is not None:
            # After the authorizer, unlike WAF: the customer limit counts the verified identity.
            customer = str(authorizer.get("user_id") or "") if authorizer and surface.auth == "customer" else None
            limit = self.rate_limits.exceeded(
                surface=surface.name, method=method, path=path, customer=customer, client=client
            )
            if limit is not None:
                status, response_headers, payload = _json(429, limit.refusal_body())
                return status, {**response_headers, "Retry-After": str(limit.window_seconds)}, payload
        event = proxy_event(
            method, path, headers=headers, query=url.query, body=body, authorizer=authorizer, source_ip=client
        )
        try:
            result = self.handler(surface.handler)(event, FakeLambdaContext(function_name=f"helpdesk-{surface.name}"))
        except Exception:
            log.exception("handler %s crashed on %s %s", surface.handler, method, path)
            return _json(502, {"message": "Internal server error"})
        return _from_proxy_result(result)

    def authorize(
        self, kind: str, method: str, path: str, headers: dict[str, str], query: str
    ) -> dict[str, Any] | tuple[int, dict[str, str], bytes]:
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if kind == "agent":
            try:
                return {"claims": agent_claims(authorization, self.settings.agent_secret)}
            except AgentTokenRejected as rejected:
                return _json(401, {"message": rejected.reason})
        try:
            policy = self.handler(self.authorizer_path)(
                authorizer_event(method, path, headers, query), FakeLambdaContext(function_name="helpdesk-authorizer")
            )
        except Exception:
            # API Gateway answers a failed authorizer with a 500 of its own: the client still gets an answer.
            log.exception("the messenger authorizer crashed on %s %s", method, path)
            return _json(500, {"message": "Internal server error"})
        statement = policy["policyDocument"]["Statement"][0]
        if statement["Effect"] != "Allow":
            # The deployed API's ACCESS_DENIED gateway response: 401 with the authorizer's reason.
            return _json(401, {"message": policy.get("context", {}).get("reason", "Unauthorized")})
        return {"principalId": policy["principalId"], **policy.get("context", {})}

    def health(self) -> tuple[int, dict[str, str], bytes]:
        if self.workers is None:
            return _json(200, {"ok": True, "workers": []})
        ok, workers = self.workers.health()
        return _json(200 if ok else 503, {"ok": ok, "workers": workers})

    def crash_worker(self, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        """``POST /_local/workers/<name>/crash``: the worker dies at its next check (local only)."""
        name, _, action = path.removeprefix("/_local/workers/").partition("/")
        names = self.workers.names if self.workers is not None else []
        if action != "crash" or name not in names:
            return _json(
                404,
                {
                    "error": "not_found",
                    "message": f"no worker at {path}; POST /_local/workers/<name>/crash",
                    "details": [{"field": "name", "message": f"one of {', '.join(names) or 'none'}"}],
                },
            )
        if method != "POST":
            return _json(405, {"error": "method_not_allowed", "message": "crash a worker with POST"})
        if self.workers is None or not self.workers.crash(name):
            return _json(409, {"error": "not_running", "message": f"worker {name} isn't running right now"})
        return _json(202, {"crashing": name})

    @cached_property
    def messenger_origins(self) -> tuple[str, ...]:
        """The workspace's allow-list of sites that may embed the messenger."""
        from helpdesk.adapters.workspace_files import load_workspace

        return load_workspace(self.settings.workspace_dir).messenger_origins

    def page_security_headers(self, surface: str) -> dict[str, str]:
        """What CloudFront's response-headers policy adds to the pages: the API is this origin, uploads go to moto."""
        page: PageName = "inbox" if surface == "inbox" else "messenger"
        policy = page_policy(page, messenger_origins=self.messenger_origins, files=[self.settings.moto_url])
        return page_headers(page, policy)

    def page_config(self, surface: str) -> dict[str, Any]:
        """What the deployed pages get from their config.json; locally agents sign in as demo agents, and
        the demo shop page signs its shoppers in as demo customers."""
        from helpdesk.surfaces import LIVE

        # The live channel is on this origin: the page builds ws(s)://<its host><live_url>.
        config: dict[str, Any] = {
            "api_base": "",
            "title": self.index.get("workspace", "Support"),
            "live_url": LIVE.path,
        }
        if surface == "messenger":
            from helpdesk.auth.customer_tokens import sign_customer_token

            from localrt.identities import DEMO_CUSTOMERS

            config["messenger_origins"] = list(self.messenger_origins)
            # The demo shop page's stand-in for a shop's backend: fresh tokens of the demo customers.
            config["dev_customers"] = [
                {
                    "id": user_id,
                    "name": claims["name"],
                    "token": sign_customer_token(self.settings.messenger_secret, user_id, ttl_seconds=3600, **claims),
                }
                for user_id, claims in DEMO_CUSTOMERS
            ]
        if surface == "inbox":
            from localrt.identities import DEMO_AGENTS, sign_agent_token

            config["sign_in"] = "local"
            config["dev_agents"] = [
                {
                    "id": sub,
                    "name": name,
                    "teams": groups,
                    "token": sign_agent_token(self.settings.agent_secret, sub, groups, name=name),
                }
                for sub, groups, name in DEMO_AGENTS
            ]
        return config

    def static_file(self, surface: str, prefix: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        root = self.settings.web_dir / surface
        relative = path[len(prefix) :].lstrip("/")
        if relative == "config.json":
            status, headers, body = _json(200, self.page_config(surface))
            return status, {**headers, **self.page_security_headers(surface)}, body
        if relative == "":
            relative = "index.html"
        elif not (relative.startswith("static/") or relative.endswith(".html")):
            return None
        candidate = (root / relative).resolve()
        if not candidate.is_file() or root.resolve() not in candidate.parents:
            return None if relative != "index.html" else _json(404, {"message": "page not found"})
        content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        headers = {"Content-Type": content_type, "Cache-Control": "no-cache", **self.page_security_headers(surface)}
        return 200, headers, Path(candidate).read_bytes()

    # --- server ----------------------------------------------------------------------------------

    def serve(self) -> ThreadingHTTPServer:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> tuple[int, dict[str, str], bytes]:
                declared = (self.headers.get("Content-Length") or "0").strip()
                if not (declared.isascii() and declared.isdigit()):
                    self.close_connection = True  # the body's end is unknown: this connection can't go on
                    return _json(400, {"error": "bad_request", "message": "Content-Length must be a number"})
                if len(declared) > 9 or int(declared) > MAX_BODY_BYTES:
                    self.close_connection = True
                    return _json(413, {"error": "payload_too_large", "message": "request body exceeds 10 MB"})
                length = int(declared)
                body = self.rfile.read(length) if length else b""
                if len(self.headers.get_all("Authorization") or []) > 1:
                    # One header, one caller: the authorizer and the rate limits must read the same one.
                    return _json(401, {"message": "send one Authorization header"})
                headers = dict(self.headers.items())
                return gateway.respond(self.command, self.path, headers, body, self.client_address[0])

            def _handle(self) -> None:
                status, headers, payload = self._answer()
                self.send_response(status)
                # Pages and the functions' answers come with their set; what the gateway answers itself
                # (a refused token, a throttled caller) gets the one API Gateway adds to its own answers.
                present = {name.lower() for name in headers}
                security = {} if "content-security-policy" in present else gateway_answer_headers()
                security = {k: v for k, v in security.items() if k.lower() not in present}
                for name, value in {**CORS_HEADERS, **security, **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                log.info("%s %s", self.address_string(), format % args)

        self.server = _Server(("127.0.0.1", self.settings.port), Handler)
        self.server.daemon_threads = True
        from helpdesk.surfaces import LIVE

        self.live = LocalLiveGateway(
            handler=self.handler,
            surface=LIVE,
            agent_secret=self.settings.agent_secret,
            listening_socket=self.server.socket,
            idle_seconds=_seconds(os.environ.get("LOCAL_LIVE_IDLE_SECONDS")),
            max_seconds=_seconds(os.environ.get("LOCAL_LIVE_MAX_SECONDS")),
        )
        self.server.live = self.live
        threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True).start()
        return self.server

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _one_at_a_time(function: Handler, one_at_a_time: threading.Lock) -> Handler:
    def invoke(event: dict[str, Any], context: Any) -> Any:
        with one_at_a_time:
            return function(event, context)

    return invoke


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _from_proxy_result(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.setdefault(name, ", ".join(str(v) for v in values))
    raw = result.get("body") or ""
    payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result.get("statusCode", HTTPStatus.OK)), headers, payload


def _seconds(value: str | None) -> float | None:
    return float(value) if value else None


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many customers at once (socketserver's default backlog is 5)
    live: LocalLiveGateway | None = None

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """A ``GET /live`` request is a WebSocket handshake: the live gateway serves it; the rest is HTTP."""
        from helpdesk.surfaces import LIVE

        if self.live is not None and is_live_request(request, LIVE.path):
            try:
                self.live.accept(request, client_address)
            except Exception:
                log.exception("live connection from %s failed", client_address)
            return
        super().process_request_thread(request, client_address)
