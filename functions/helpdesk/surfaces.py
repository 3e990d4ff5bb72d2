"""The HTTP surfaces of the system: which function serves which path prefix, behind which authorizer.

Read by the CDK app (to build API Gateway resources and authorizers) and by the local runtime
(to route requests and play the authorizers' part), so the two can't disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AuthKind = Literal["customer", "agent"]


@dataclass(frozen=True)
class ApiSurface:
    name: str
    prefix: str
    handler: str
    """Dotted path of the Lambda handler, ``module.function``."""
    auth: AuthKind
    """``customer``: the messenger Lambda authorizer; ``agent``: the Cognito user pool authorizer."""
    public_paths: tuple[str, ...]
    """Exact paths served without any token: the OpenAPI document, Swagger UI, and on the
    messenger the endpoint that issues anonymous visitors their token."""


MESSENGER = ApiSurface(
    name="messenger",
    prefix="/messenger",
    handler="helpdesk.handlers.messenger_api.lambda_handler",
    auth="customer",
    public_paths=("/messenger/openapi.json", "/messenger/docs", "/messenger/visitors"),
)

INBOX = ApiSurface(
    name="inbox",
    prefix="/inbox",
    handler="helpdesk.handlers.inbox_api.lambda_handler",
    auth="agent",
    public_paths=("/inbox/openapi.json", "/inbox/docs"),
)

API_SURFACES: tuple[ApiSurface, ...] = (MESSENGER, INBOX)

MESSENGER_AUTHORIZER_HANDLER = "helpdesk.handlers.messenger_authorizer.lambda_handler"

ADMIN_GROUP = "admins"
"""Cognito group whose agents may act on tickets of any team."""


@dataclass(frozen=True)
class QueueConsumer:
    """An asynchronous worker: a Lambda fed by an SQS queue (with a DLQ), or a poller locally."""

    name: str
    handler: str
    queue_url_env: str
    """The environment variable through which producers and the worker learn the queue's URL."""
    batch_size: int = 10
    schedule: str | None = None
    """An EventBridge schedule expression: the queue also gets a tick on this schedule."""


TRACKER_FANOUT = QueueConsumer(
    name="tracker-fanout",
    handler="helpdesk.handlers.tracker_fanout.lambda_handler",
    queue_url_env="FANOUT_QUEUE_URL",
    batch_size=5,
)

SNOOZE_WAKER = QueueConsumer(
    name="snooze-waker",
    handler="helpdesk.handlers.snooze_waker.lambda_handler",
    queue_url_env="SNOOZE_QUEUE_URL",
    batch_size=10,
    schedule="rate(1 minute)",
)

QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (TRACKER_FANOUT, SNOOZE_WAKER)
