"""Fault injection for the local runtime: throttles and server errors on the AWS calls made in this process.

``LOCAL_FAULTS=dynamodb=0.1,ses=0.3,sns=0.3,events=0.3,sqs=0.05,seed=7`` makes that fraction of each
service's HTTP requests fail the way AWS fails them: a throttling error (``ThrottlingException`` or
``ProvisionedThroughputExceededException`` for DynamoDB, ``Throttling`` for SES and SNS,
``ThrottlingException`` for EventBridge and Step Functions) or a 500 ``InternalError``, as a real HTTP
response in the service's own protocol. It is answered at botocore's ``before-send`` event, so
botocore's retry policy, PynamoDB's, powertools' and ours all see what they would see from AWS.

Every botocore client created after :meth:`FaultInjector.install` gets the hook, whichever session
made it: boto3's default session, PynamoDB's own ``botocore.session.get_session()``, powertools', and
the boto3 clients moto's Step Functions engine uses to run ``sqs:sendMessage`` tasks (the state
machines' ``Retry`` policies cover those). Clients created before it are untouched, so resources set
up first are never faulted. Calls made inside :meth:`FaultInjector.suspended` (the local outbox, which
only observes) are never faulted either.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse

ENV = "LOCAL_FAULTS"

ALIASES = {
    "events": "eventbridge",
    "stepfunctions": "sfn",
    "states": "sfn",
    "dynamodbstreams": "dynamodb-streams",
    "secretsmanager": "secrets-manager",
}
"""Names accepted in ``LOCAL_FAULTS`` -> botocore's hyphenated service id (as in ``before-send.<id>.<op>``)."""

THROTTLES: dict[str, tuple[str, ...]] = {
    "dynamodb": ("ThrottlingException", "ProvisionedThroughputExceededException"),
    "dynamodb-streams": ("ThrottlingException",),
    "ses": ("Throttling",),
    "sns": ("Throttling",),
    "eventbridge": ("ThrottlingException",),
    "sfn": ("ThrottlingException",),
    "secrets-manager": ("ThrottlingException",),
    "s3": ("SlowDown",),
}
"""The throttling error codes each service answers with; a service not listed only gets 500s."""


@dataclass(frozen=True)
class FaultPlan:
    """Which fraction of each service's requests fails, and the random seed (for a repeatable run)."""

    rates: Mapping[str, float]
    seed: int | None = None

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """``service=rate,…[,seed=N]``, rates between 0 and 1; raises ``ValueError`` naming the bad part."""
        rates: dict[str, float] = {}
        seed: int | None = None
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            if not sep or not name:
                raise ValueError(f"{ENV}: {part!r} is not service=rate (e.g. dynamodb=0.1)")
            if name == "seed":
                try:
                    seed = int(value)
                except ValueError:
                    raise ValueError(f"{ENV}: seed must be an integer, not {value!r}") from None
                continue
            try:
                rate = float(value)
            except ValueError:
                raise ValueError(f"{ENV}: the rate for {name} must be a number, not {value!r}") from None
            if not 0 <= rate <= 1:
                raise ValueError(f"{ENV}: the rate for {name} must be between 0 and 1, not {rate}")
            rates[ALIASES.get(name, name)] = rate
        return cls(rates=rates, seed=seed)


class _Raw:
    """The bit of urllib3's response botocore reads an ``AWSResponse``'s body through."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def error_response(url: str, protocol: str, code: str, status: int) -> AWSResponse:
    """The HTTP response AWS sends for error ``code`` in ``protocol`` (json, query, rest-xml, rest-json)."""
    request_id = str(uuid.uuid4())
    message = "Rate exceeded" if status < 500 else "We encountered an internal error. Please try again."
    headers = {"x-amzn-RequestId": request_id}
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers |= {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    elif protocol == "query":
        body = (
            (
                "<ErrorResponse><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error>"
                "<RequestId>{}</RequestId></ErrorResponse>"
            )
            .format("Receiver" if status >= 500 else "Sender", code, message, request_id)
            .encode()
        )
        headers["Content-Type"] = "text/xml"
    else:
        xml = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        body = xml.encode()
        headers["Content-Type"] = "application/xml"
    return AWSResponse(url, status, headers, _Raw(body))


@dataclass
class FaultInjector:
    """Decides, per request, whether it fails, and counts what it injected."""

    plan: FaultPlan
    injected: Counter[str] = field(default_factory=Counter)
    """Faults injected, per service id (``dynamodb``, ``ses``, ``sns``, ``eventbridge``, ``sqs``, …)."""
    requests: Counter[str] = field(default_factory=Counter)
    """Requests seen, per service id, for the services with a rate."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)
    _original: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.plan.seed)  # noqa: S311 - chaos, not cryptography

    def fault_for(self, service: str) -> tuple[str, int] | None:
        """The error code and HTTP status this request of ``service`` fails with, or None if it goes through."""
        rate = self.plan.rates.get(service, 0.0)
        if rate <= 0 or getattr(self._local, "suspended", False):
            return None
        with self._lock:
            self.requests[service] += 1
            if self._random.random() >= rate:
                return None
            self.injected[service] += 1
            throttles = THROTTLES.get(service, ())
            if throttles and self._random.random() < 0.75:
                return self._random.choice(throttles), 400
            return ("InternalServerError" if service == "dynamodb" else "InternalError"), 500

    def before_send(self, protocol: str) -> Callable[..., AWSResponse | None]:
        """A ``before-send`` handler for a client speaking ``protocol``."""

        def handler(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
            service = event_name.split(".")[1] if event_name.count(".") >= 2 else ""
            fault = self.fault_for(service)
            if fault is None:
                return None
            code, status = fault
            return error_response(str(request.url), protocol, code, status)

        return handler

    def install(self) -> None:
        """From now on every botocore client created in this process (any session) gets the hook."""
        if self._original is not None:
            return
        original = botocore.session.Session.create_client
        injector = self

        def create_client(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-send", injector.before_send(client.meta.service_model.protocol))
            return client

        self._original = original
        botocore.session.Session.create_client = create_client

    def uninstall(self) -> None:
        """New clients are no longer faulted (clients made meanwhile keep their hook)."""
        if self._original is not None:
            botocore.session.Session.create_client = self._original
            self._original = None

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """No faults for calls this thread makes inside the block."""
        before = getattr(self._local, "suspended", False)
        self._local.suspended = True
        try:
            yield
        finally:
            self._local.suspended = before

    def snapshot(self) -> dict[str, Any]:
        """What was injected so far: the plan, and per service the requests seen and the faults injected."""
        with self._lock:
            return {
                "rates": dict(self.plan.rates),
                "seed": self.plan.seed,
                "requests": dict(self.requests),
                "injected": dict(self.injected),
            }


def install_from_environment(environ: Mapping[str, str]) -> FaultInjector | None:
    """Install the faults ``LOCAL_FAULTS`` asks for (None when it's unset or empty)."""
    spec = environ.get(ENV, "").strip()
    if not spec:
        return None
    injector = FaultInjector(FaultPlan.parse(spec))
    injector.install()
    return injector


@contextmanager
def suspended(injector: FaultInjector | None) -> Iterator[None]:
    """``injector.suspended()``, or nothing when no faults are installed."""
    if injector is None:
        yield
    else:
        with injector.suspended():
            yield
