"""The HTTP surfaces of the system: which function serves which path prefix, behind which authorizer.

Read by the CDK app (to build API Gateway resources and authorizers) and by the local runtime
(to route requests and play the authorizers' part), so the two can't disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

AuthKind = Literal["customer", "agent"]


def handler_of(module: str) -> str:
    """The Lambda handler of the module ``helpdesk.handlers.<module>``."""
    return f"helpdesk.handlers.{module}.lambda_handler"


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
    messenger the endpoint that issues anonymous visitors their token and the exchange of links
    from emails (which carry their own signed token)."""


MESSENGER = ApiSurface(
    name="messenger",
    prefix="/messenger",
    handler=handler_of("messenger_api"),
    auth="customer",
    public_paths=(
        "/messenger/openapi.json",
        "/messenger/docs",
        "/messenger/visitors",
        "/messenger/links",
        "/messenger/links/renewals",
    ),
)

INBOX = ApiSurface(
    name="inbox",
    prefix="/inbox",
    handler=handler_of("inbox_api"),
    auth="agent",
    public_paths=("/inbox/openapi.json", "/inbox/docs"),
)

REPORTS = ApiSurface(
    name="reports",
    prefix="/inbox/reports",
    handler=handler_of("reports_api"),
    auth="agent",
    public_paths=("/inbox/reports/openapi.json", "/inbox/reports/docs"),
)
"""The Reports page's API: its own function, the only one that may query the lake (Athena)."""

API_SURFACES: tuple[ApiSurface, ...] = (MESSENGER, INBOX, REPORTS)
"""A request goes to the surface with the longest prefix that matches its path."""


RateKey = Literal["customer", "source"]


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` per ``window_seconds`` for each caller: over it, 429 until the window moves on.

    Who "each caller" is (``key``):

    - ``customer``: each customer. In AWS a WAF rate-based rule keyed on the ``Authorization`` header,
      lower-cased and with its white space compressed, so re-spelling ``Bearer`` or the spacing counts
      as the same caller (and the authorizer accepts a token in one spelling only). WAF can't read a
      JWT: a customer holding several valid tokens gets a budget per token. Locally the gateway keys
      on the identity the authorizer verified, so there every token of a customer shares one budget.
    - ``source``: each client address (WAF: the source IP; locally: the client's address).

    ``surface``: only requests to this API surface count (None: both); ``path``: only ``POST`` to
    this exact path. ``local``: whether the local gateway plays it too.

    The WAF rules (``infra/api.py``) and the local gateway (``localrt.rate_limits``) are both built
    from ``RATE_LIMITS``; the 429's body is ``refusal_body`` in both.
    """

    name: str
    requests: int
    window_seconds: int
    key: RateKey
    surface: str | None = None
    path: str | None = None
    local: bool = True

    @property
    def counted_by(self) -> str:
        """The part of the request that tells callers apart, as the 429's ``details`` name it."""
        return "Authorization" if self.key == "customer" else "source address"

    @property
    def local_override(self) -> str:
        """The environment variable that sets another ``<requests>/<seconds>`` for the local runtime."""
        return f"LOCAL_{self.name.upper().replace('-', '_')}_RATE_LIMIT"

    def refusal_body(self) -> dict[str, Any]:
        who = "per customer" if self.key == "customer" else "from one address"
        what = f"requests to {self.path}" if self.path else "requests"
        return {
            "error": "rate_limited",
            "message": f"too many {what}: at most {self.requests} every {self.window_seconds} s {who}",
            "details": [{"field": self.counted_by, "message": "slow down and retry"}],
        }


CUSTOMER_RATE_LIMIT = RateLimit(
    name="customer", requests=300, window_seconds=60, key="customer", surface=MESSENGER.name
)
"""Generous for a person chatting (a poll every few seconds plus messages), tight for a script."""

VISITOR_CREATION_LIMIT = RateLimit(
    name="visitor-creation",
    requests=30,
    window_seconds=300,
    key="source",
    surface=MESSENGER.name,
    path=f"{MESSENGER.prefix}/visitors",
)
"""Anyone may ask for a visitor token, and each token has a customer's budget: so tokens are limited
per address. A visitor keeps theirs for a day, so 30 new ones in 5 minutes is a busy office, not a person."""

LINK_EXCHANGE_LIMIT = RateLimit(
    name="link-exchange",
    requests=60,
    window_seconds=300,
    key="source",
    surface=MESSENGER.name,
    path=f"{MESSENGER.prefix}/links",
)
"""Links from emails are exchanged without a token: so per address. A link opens once; 60 in 5 minutes
is an office opening its mail, not a person, and far too few to guess a signed link."""

LINK_RENEWAL_LIMIT = RateLimit(
    name="link-renewal",
    requests=20,
    window_seconds=300,
    key="source",
    surface=MESSENGER.name,
    path=f"{MESSENGER.prefix}/links/renewals",
)
"""Asking for a fresh link sends an email (at most one per link's ticket and customer every 10 minutes):
per address, so a script can't make us write to many customers at once."""

SOURCE_RATE_LIMIT = RateLimit(name="source", requests=2000, window_seconds=300, key="source", local=False)
"""A backstop against floods from one address, on both APIs. Not played locally: there every client
is 127.0.0.1, so it would be one budget for everyone (and the tests send thousands of requests)."""

RATE_LIMITS: tuple[RateLimit, ...] = (
    SOURCE_RATE_LIMIT,
    CUSTOMER_RATE_LIMIT,
    VISITOR_CREATION_LIMIT,
    LINK_EXCHANGE_LIMIT,
    LINK_RENEWAL_LIMIT,
)
WAF_EVALUATION_WINDOWS = (60, 120, 300, 600)
"""The windows a WAF rate-based rule can count over (seconds)."""

MESSENGER_AUTHORIZER_HANDLER = handler_of("messenger_authorizer")

LAKE_VIEWS_HANDLER = handler_of("lake_views")
"""The custom resource that creates the lake's views on Athena at deployment (``infra.lake``)."""


@dataclass(frozen=True)
class LiveSurface:
    """The live channel: an API Gateway WebSocket API (locally: the gateway's ``/live``).

    ``$connect`` runs ``authorizer`` first (a customer's messenger JWT or an agent's Cognito ID token,
    as ``?token=`` or in ``Sec-WebSocket-Protocol``); client messages are JSON routed on their
    ``action`` (``route_selection``); ``responding_routes`` send the function's answer back.
    """

    name: str
    path: str
    handler: str
    authorizer: str
    routes: tuple[str, ...]
    responding_routes: tuple[str, ...]
    route_selection: str = "$request.body.action"
    idle_seconds: int = 10 * 60
    max_seconds: int = 2 * 60 * 60


LIVE = LiveSurface(
    name="live",
    path="/live",
    handler=handler_of("live_socket"),
    authorizer=handler_of("live_authorizer"),
    routes=("$connect", "$disconnect", "$default", "watch", "unwatch", "typing", "ping"),
    responding_routes=("ping",),
)
LIVE_AUTHORIZER_HANDLER = LIVE.authorizer
"""The live channel's ``$connect`` authorizer, a Lambda function of its own."""
LIVE_MANAGEMENT_PATH = "/_live"
"""Locally, the gateway serves the management API (``@connections``) under this path."""

ADMIN_GROUP = "admins"
"""Cognito group of the admins: they may do everything in every team (``helpdesk.domain.policy``)."""
LEAD_GROUP = "leads"
"""Cognito group of the team leads: their teams' work, plus reassigning it to anyone and approvals."""


@dataclass(frozen=True)
class QueueConsumer:
    """An asynchronous worker: a Lambda fed by an SQS queue (with a DLQ), or a poller locally."""

    name: str
    handler: str = ""
    """Its module is named after it (``email-ingest``: ``helpdesk.handlers.email_ingest``) unless given."""
    queue_url_env: str = ""
    """The environment variable through which producers and the worker learn the queue's URL
    (``<NAME>_QUEUE_URL`` unless given)."""
    batch_size: int = 10
    schedule: str | None = None
    """An EventBridge schedule expression (``rate(...)`` or ``cron(...)``): the queue also gets a tick on it."""
    local_tick_seconds: float | None = None
    """How often the local runtime ticks it (None: its ``rate`` scaled by ``LOCAL_TICK_SECONDS`` per minute)."""

    def __post_init__(self) -> None:
        module = self.name.replace("-", "_")
        object.__setattr__(self, "handler", self.handler or handler_of(module))
        object.__setattr__(self, "queue_url_env", self.queue_url_env or f"{module.upper()}_QUEUE_URL")

    @property
    def schedule_seconds(self) -> int | None:
        """A ``rate`` schedule's period: ``rate(10 minutes)`` -> 600 (None without one, or for a ``cron``)."""
        if self.schedule is None or not self.schedule.startswith("rate("):
            return None
        amount, unit = self.schedule.removeprefix("rate(").removesuffix(")").split()
        return int(amount) * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]


TRACKER_FANOUT = QueueConsumer(name="tracker-fanout", queue_url_env="FANOUT_QUEUE_URL", batch_size=5)

SNOOZE_WAKER = QueueConsumer(
    name="snooze-waker",
    queue_url_env="SNOOZE_QUEUE_URL",
    batch_size=10,
    schedule="rate(1 minute)",
)

WORKFLOW_STARTER = QueueConsumer(name="workflow-starter")
"""Starts a ticket's workflow execution (named after the ticket) on ``TicketCreated``."""

WORKFLOW_TASKS = QueueConsumer(name="workflow-tasks", schedule="rate(10 minutes)")
"""Does the work of the workflows' ``sqs:sendMessage.waitForTaskToken`` tasks and answers with the token;
on its schedule, sends the heartbeats parked workflows expect (several per ``HeartbeatSeconds``)."""

NOTIFIER = QueueConsumer(name="notifier")
"""Delivers status updates (from the status-update topic) by email, SMS and in the messenger."""

INBOUND_EVENTS = QueueConsumer(name="inbound-events")
"""Events the business's systems put on the bus (e.g. ``OrderUpdated``), for the tickets linked to them."""

EMAIL_INGEST = QueueConsumer(name="email-ingest", batch_size=5)
"""Emails SES received for the support address (receipt rule -> S3 -> the inbound-email topic -> here)."""

EMAIL_FEEDBACK = QueueConsumer(name="email-feedback")
"""SES's bounces and complaints about the email we sent (configuration set -> topic -> here): suppressions."""

REPORT_ROLLUP = QueueConsumer(name="report-rollup", batch_size=1, schedule="cron(20 0 * * ? *)", local_tick_seconds=300)
"""Every morning (00:20 UTC, once yesterday's events have landed) computes the reports' common ranges, so
the Reports page opens on figures already in the table; it queues itself again while Athena works."""

PRIVACY_TASKS = QueueConsumer(name="privacy-tasks", batch_size=1)
"""Builds a customer's data export, and runs the steps of the erasure workflow (one at a time: each
reads and rewrites much)."""

THUMBNAILER = QueueConsumer(name="thumbnailer", batch_size=5)
"""Draws a small JPEG of each uploaded image (the attachments bucket's ``ObjectCreated`` notifications)."""

QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (
    TRACKER_FANOUT,
    SNOOZE_WAKER,
    WORKFLOW_STARTER,
    WORKFLOW_TASKS,
    NOTIFIER,
    INBOUND_EVENTS,
    EMAIL_INGEST,
    EMAIL_FEEDBACK,
    REPORT_ROLLUP,
    PRIVACY_TASKS,
    THUMBNAILER,
)


INBOUND_EMAIL_PREFIX = "inbound/"
"""Where SES's receipt rule (and locally the SMTP server) stores each received email, by SES message id."""
EMAIL_ORIGINALS_PREFIX = INBOUND_EMAIL_PREFIX + "customers/"
"""Where the ingest worker then files each email under its customer (``helpdesk.domain.privacy``)."""

# --- events, topics and workflows ------------------------------------------------------------------

EVENT_SOURCE = "helpdesk"
"""The ``source`` of every domain event this system publishes."""
EVENT_BUS_ENV = "EVENT_BUS_NAME"


@dataclass(frozen=True)
class StreamConsumer:
    """A Lambda fed by the table's DynamoDB stream (locally: a poller on moto's stream)."""

    name: str
    handler: str
    batch_size: int = 100


EVENT_PUBLISHER = StreamConsumer(name="event-publisher", handler=handler_of("event_publisher"))
LIVE_FANOUT = StreamConsumer(name="live-fanout", handler=handler_of("live_fanout"), batch_size=50)
"""Turns committed changes into live frames: the stream's second reader (a shard serves two at full speed)."""
SEARCH_INDEXER = StreamConsumer(name="search-indexer", handler=handler_of("search_indexer"), batch_size=500)
"""Keeps the full-text index of messages and the search keys up to date (the stream's third reader)."""
STREAM_CONSUMERS: tuple[StreamConsumer, ...] = (EVENT_PUBLISHER, LIVE_FANOUT, SEARCH_INDEXER)


@dataclass(frozen=True)
class Topic:
    name: str
    arn_env: str
    """The environment variable through which publishers learn the topic's ARN."""
    description: str


STATUS_UPDATES = Topic(
    name="status-updates",
    arn_env="STATUS_TOPIC_ARN",
    description="Customer-visible changes; the notifier's queue is subscribed (raw message delivery).",
)
ESCALATIONS = Topic(
    name="escalations",
    arn_env="ESCALATIONS_TOPIC_ARN",
    description="SLA breaches for team leads (subscribe by email or chat); fed by the SlaBreached rule.",
)
INBOUND_EMAIL = Topic(
    name="inbound-email",
    arn_env="INBOUND_EMAIL_TOPIC_ARN",
    description="SES receiving announces each stored email here; the email-ingest queue is subscribed.",
)
EMAIL_EVENTS = Topic(
    name="email-events",
    arn_env="EMAIL_EVENTS_TOPIC_ARN",
    description="SES's bounce and complaint events (configuration set); the email-feedback queue is subscribed.",
)
TOPICS: tuple[Topic, ...] = (STATUS_UPDATES, ESCALATIONS, INBOUND_EMAIL, EMAIL_EVENTS)
TOPIC_SUBSCRIPTIONS: tuple[tuple[str, str], ...] = (
    (STATUS_UPDATES.name, NOTIFIER.name),
    (INBOUND_EMAIL.name, EMAIL_INGEST.name),
    (EMAIL_EVENTS.name, EMAIL_FEEDBACK.name),
)
"""(topic, queue consumer): the consumer's queue is subscribed to the topic with raw message delivery."""


@dataclass(frozen=True)
class EventRoute:
    """An EventBridge rule on the bus: events matching ``pattern`` go to a consumer's queue or a topic."""

    name: str
    pattern: dict[str, Any]
    queue: str | None = None
    topic: str | None = None


EVENT_ROUTES: tuple[EventRoute, ...] = (
    EventRoute(
        name="start-workflows",
        pattern={"source": [EVENT_SOURCE], "detail-type": ["TicketCreated"]},
        queue=WORKFLOW_STARTER.name,
    ),
    EventRoute(
        name="escalate-breaches",
        pattern={"source": [EVENT_SOURCE], "detail-type": ["SlaBreached"]},
        topic=ESCALATIONS.name,
    ),
    EventRoute(
        name="inbound-events",
        pattern={"source": [{"anything-but": EVENT_SOURCE}], "detail-type": ["OrderUpdated"]},
        queue=INBOUND_EVENTS.name,
    ),
)


@dataclass(frozen=True)
class Workflow:
    """A Step Functions Standard state machine; a ticket type names one in its ``workflow`` setting."""

    name: str
    definition: str
    """The ASL file under ``workflows/``; ``${...}`` are substituted with ``WORKFLOW_SUBSTITUTIONS``."""

    @property
    def arn_env(self) -> str:
        return f"WORKFLOW_ARN_{self.name.upper()}"


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(name="standard", definition="standard.asl.json"),
    Workflow(name="approval", definition="approval.asl.json"),
)
WORKFLOW_SUBSTITUTIONS = ("WorkflowTasksQueueUrl", "AlarmTopicArn")
ERASURE_WORKFLOW = Workflow(name="erasure", definition="erasure.asl.json")
"""A customer's erasure (not a ticket workflow: started by an admin's request, run by ``PRIVACY_TASKS``)."""
ERASURE_SUBSTITUTIONS = ("PrivacyTasksQueueUrl", "AlarmTopicArn")
"""What the definitions refer to: the workflow-tasks queue's URL and the operators' alarm topic ARN."""
