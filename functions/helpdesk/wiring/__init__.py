"""The composition root: builds the adapters and services the functions use, lazily, once per container.

Handlers import this module and ask for what their route needs (``wiring.tickets()``); nothing is
built, no environment variable read and no AWS client made until a function first asks. Adapters
(DynamoDB stores, S3, SQS, Step Functions, SES/SNS, EventBridge) are built once and kept; services
are cheap and built per call, over the kept adapters. Each import sits inside the function that
needs it, so a handler only loads the code of what it uses.

The email channel's factories are in ``helpdesk.wiring.email``, the inbox search's in
``helpdesk.wiring.search``, and a customer's data export and erasure's in
``helpdesk.wiring.customer_data``. Tests and the local runtime call ``reset()`` after changing the
environment: it forgets what every ``@cache`` factory here and there kept.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from helpdesk.settings import reset as reset_settings
from helpdesk.settings import settings

if TYPE_CHECKING:
    from helpdesk.adapters.athena_lake import AthenaLake
    from helpdesk.adapters.attachment_files import S3AttachmentFiles
    from helpdesk.adapters.channels import DynamoDeliveryLedger, SesSnsChannels
    from helpdesk.adapters.cloudformation import CustomResourceReply
    from helpdesk.adapters.cognito_keys import CognitoKeys
    from helpdesk.adapters.custom_actions import CustomActionRunner
    from helpdesk.adapters.event_bus import EventBusPublisher
    from helpdesk.adapters.fanout_queue import SqsFanOutQueue
    from helpdesk.adapters.json_queue import SqsJsonQueue
    from helpdesk.adapters.live_gateway import ApiGatewayConnections
    from helpdesk.adapters.status_topic import StatusTopicPublisher
    from helpdesk.adapters.store import TableStores
    from helpdesk.adapters.store.record_parts import RecordPartsTable
    from helpdesk.adapters.workflow_engine import StepFunctionsEngine
    from helpdesk.auth.agent_tokens import CognitoPool, RsaKey
    from helpdesk.domain.changes import CommittedChange
    from helpdesk.domain.knowledge import KnowledgeBase
    from helpdesk.domain.live import TableChange
    from helpdesk.domain.macros import Macro
    from helpdesk.domain.workspace import Workspace
    from helpdesk.services.agents import AgentService
    from helpdesk.services.attachments import AttachmentService
    from helpdesk.services.bot import BotEngine
    from helpdesk.services.conversations import ConversationService
    from helpdesk.services.customer_profiles import CustomerProfiles
    from helpdesk.services.customers import CustomerService
    from helpdesk.services.home import MessengerHome
    from helpdesk.services.inbound import InboundEventService
    from helpdesk.services.live import LiveService
    from helpdesk.services.live_fanout import LiveFanOut
    from helpdesk.services.macros import MacroService
    from helpdesk.services.notifications import NotificationService, OutcomeObserver
    from helpdesk.services.ports import LakeQueries
    from helpdesk.services.reports import ReportService
    from helpdesk.services.tags import TagService
    from helpdesk.services.thumbnails import ThumbnailService
    from helpdesk.services.ticket_drafts import TicketDrafts
    from helpdesk.services.tickets import TicketService
    from helpdesk.services.trackers import TrackerService
    from helpdesk.services.transcripts import TranscriptService
    from helpdesk.services.workflows import TicketWorkflowService

# --- configuration -------------------------------------------------------------------------------


@cache
def workspace() -> Workspace:
    """The workspace configuration (``WORKSPACE_DIR``), loaded and validated once per container."""
    from helpdesk.adapters.workspace_files import WorkspaceConfigError, load_workspace

    directory = settings().workspace_dir
    if directory is None:
        raise WorkspaceConfigError("WORKSPACE_DIR is not set: point it at the workspace configuration directory")
    return load_workspace(directory)


@cache
def knowledge_base() -> KnowledgeBase:
    """The workspace's knowledge base (indexed on its first search)."""
    from helpdesk.adapters.knowledge_files import load_articles
    from helpdesk.domain.knowledge import KnowledgeBase

    directory = settings().workspace_dir
    assert directory is not None, "workspace() is loaded first and names the missing setting"
    return KnowledgeBase(load_articles(directory / "knowledge"))


def messenger_secret() -> str:
    """The workspace's messenger secret (Secrets Manager, cached a few minutes by powertools)."""
    from helpdesk.adapters.secrets import read_messenger_secret

    return read_messenger_secret(settings().require("messenger_secret_arn"))


# --- adapters ------------------------------------------------------------------------------------


@cache
def stores() -> TableStores:
    from helpdesk.adapters.store import ConversationTable, TableStores, TicketTable

    # Closing and resolving set the table's TTL from the workspace's retention settings.
    retention = workspace().retention
    return TableStores(conversations=ConversationTable(retention=retention), tickets=TicketTable(retention=retention))


def record_parts() -> RecordPartsTable:
    """What goes with a conversation or ticket the table no longer has (``services/record_removal``)."""
    from helpdesk.adapters.store.record_parts import RecordPartsTable

    return RecordPartsTable()


@cache
def attachment_files() -> S3AttachmentFiles:
    from helpdesk.adapters.attachment_files import S3AttachmentFiles

    config = settings()
    return S3AttachmentFiles(config.attachments_bucket, path_style=config.endpoint_url is not None)


@cache
def fanout_queue() -> SqsFanOutQueue:
    from helpdesk.adapters.fanout_queue import SqsFanOutQueue

    return SqsFanOutQueue(settings().fanout_queue_url)


@cache
def workflow_engine() -> StepFunctionsEngine:
    from helpdesk.adapters.workflow_engine import StepFunctionsEngine

    return StepFunctionsEngine(settings().workflow_arn)


@cache
def workflow_task_queue() -> SqsJsonQueue:
    from helpdesk.adapters.json_queue import SqsJsonQueue

    return SqsJsonQueue(settings().require("workflow_tasks_queue_url"))


@cache
def action_runner() -> CustomActionRunner | None:
    """The custom actions' client, or None when the workspace declares no actions."""
    from helpdesk.adapters.custom_actions import CustomActionRunner

    actions = workspace().actions
    return CustomActionRunner(actions, environ=settings().action_variables) if actions else None


@cache
def event_bus() -> EventBusPublisher:
    from helpdesk.adapters.event_bus import EventBusPublisher

    return EventBusPublisher(settings().require("event_bus_name"))


@cache
def status_topic() -> StatusTopicPublisher:
    from helpdesk.adapters.status_topic import StatusTopicPublisher

    return StatusTopicPublisher(settings().require("status_topic_arn"))


@cache
def channels() -> SesSnsChannels:
    from helpdesk.adapters.channels import SesSnsChannels

    config = settings()
    return SesSnsChannels(
        from_email=config.notify_from_email,
        configuration_set=config.notify_configuration_set,
        template_name=config.status_template_name,
    )


@cache
def delivery_ledger() -> DynamoDeliveryLedger:
    from helpdesk.adapters.channels import DynamoDeliveryLedger

    return DynamoDeliveryLedger()


@cache
def lake_queries() -> LakeQueries:
    """What runs the reports' queries: Athena in AWS; DuckDB (``LAKE_ENGINE=duckdb``, the local runtime
    and tests) over a mirror of the lake bucket. DuckDB is imported only when chosen: the Lambda
    package never needs it."""
    config = settings()
    if config.lake_engine == "duckdb":
        import tempfile
        from pathlib import Path

        from helpdesk.adapters.duckdb_lake import DuckDbLake

        mirror = config.lake_mirror_dir or Path(tempfile.mkdtemp(prefix="helpdesk-lake-"))
        return DuckDbLake(mirror, bucket=config.lake_bucket)
    from helpdesk.adapters.athena_lake import AthenaLake

    return AthenaLake(config.require("lake_database"), config.require("lake_workgroup"))


@cache
def athena_lake() -> AthenaLake:
    """The lake on Athena, whatever ``LAKE_ENGINE`` says: the views are created there at deployment."""
    from helpdesk.adapters.athena_lake import AthenaLake

    config = settings()
    return AthenaLake(config.require("lake_database"), config.require("lake_workgroup"))


def custom_resource_reply() -> CustomResourceReply:
    """How a custom resource answers CloudFormation (a PUT to the request's pre-signed URL)."""
    from helpdesk.adapters.cloudformation import respond

    return respond


@cache
def report_rollup_queue() -> SqsJsonQueue:
    from helpdesk.adapters.json_queue import SqsJsonQueue

    return SqsJsonQueue(settings().require("report_rollup_queue_url"))


@cache
def live_connections() -> ApiGatewayConnections:
    """The WebSocket stage's management API, where frames are posted."""
    from helpdesk.adapters.live_gateway import ApiGatewayConnections

    return ApiGatewayConnections(settings().require("live_endpoint"))


def stream_decoder() -> Callable[[Mapping[str, Any]], TableChange | None]:
    from helpdesk.adapters.stream_records import decode

    return decode


def agent_pool() -> CognitoPool | None:
    """The user pool agents' tokens come from, or None where there is none (the live channel then
    takes customers' tokens only; locally the gateway checks agents' tokens itself)."""
    from helpdesk.auth.agent_tokens import CognitoPool

    config = settings()
    if not config.cognito_user_pool_id:
        return None
    issuer = f"https://cognito-idp.{config.region}.amazonaws.com/{config.cognito_user_pool_id}"
    clients = frozenset(c.strip() for c in config.cognito_client_ids.split(",") if c.strip())
    return CognitoPool(issuer=issuer, client_ids=clients)


@cache
def _cognito_keys() -> CognitoKeys:
    from helpdesk.adapters.cognito_keys import CognitoKeys

    pool = agent_pool()
    assert pool is not None, "agent_keys() is asked only when there is a user pool"
    return CognitoKeys(pool.issuer)


def agent_keys(kid: str | None = None) -> Mapping[str, RsaKey]:
    """The user pool's signing keys (fetched again when ``kid`` is new to us)."""
    return _cognito_keys().keys(kid)


# --- services ------------------------------------------------------------------------------------


def bot() -> BotEngine | None:
    """The workspace's bot, or None when it has no ``bot.yaml``."""
    config = workspace().bot
    if config is None:
        return None
    from helpdesk.services.bot import BotEngine

    ws = workspace()
    return BotEngine(
        config,
        default_team=ws.default_team,
        team_names={t.id: t.name for t in ws.teams},
        knowledge=knowledge_base(),
        actions=action_runner(),
        someone_present=agents().someone_present,
    )


def conversations() -> ConversationService:
    from helpdesk.services.conversations import ConversationService

    engine = bot()
    return ConversationService(
        stores().conversations, workspace(), engine, tickets() if engine else None, files=attachments()
    )


def trackers() -> TrackerService:
    from helpdesk.services.trackers import TrackerService

    table = stores()
    return TrackerService(table.tickets, table.trackers, workspace(), fanout_queue())


def tickets() -> TicketService:
    from helpdesk.services.tickets import TicketService

    table = stores()
    return TicketService(
        table.tickets, table.conversations, table.attachments, workspace(), trackers(), files=attachments()
    )


def attachments() -> AttachmentService:
    from helpdesk.services.attachments import AttachmentService

    table = stores()
    return AttachmentService(
        table.attachments,
        attachment_files(),
        conversations=table.conversations,
        tickets=table.tickets,
        visibility=workspace().agent_visibility,
    )


def customers() -> CustomerService:
    from helpdesk.services.customers import CustomerService

    return CustomerService(stores().customers)


def agents() -> AgentService:
    from helpdesk.services.agents import AgentService

    return AgentService(stores().agents, workspace())


def workflows() -> TicketWorkflowService:
    from helpdesk.services.workflows import TicketWorkflowService

    table = stores()
    return TicketWorkflowService(table.tickets, workspace(), tickets(), workflow_engine(), table.parked_workflows)


def inbound_events() -> InboundEventService:
    from helpdesk.services.inbound import InboundEventService

    return InboundEventService(stores().tickets)


def notifications(on_outcome: OutcomeObserver | None = None) -> NotificationService:
    from datetime import timedelta

    from helpdesk.services.notifications import DEFAULT_LEASE, NotificationService
    from helpdesk.wiring import email

    config = settings()
    lease = config.delivery_lease_seconds
    table = stores()
    return NotificationService(
        table.customers,
        table.conversations,
        channels(),
        workspace(),
        messenger_url=config.require("messenger_url"),
        ledger=delivery_ledger(),
        lease=timedelta(seconds=lease) if lease else DEFAULT_LEASE,
        on_outcome=on_outcome,
        emails=email.email_delivery() if config.email_channel else None,
    )


def reports() -> ReportService:
    from datetime import timedelta

    from helpdesk.services.reports import ReportService

    fresh_for = timedelta(seconds=settings().reports_fresh_seconds)
    return ReportService(lake_queries(), stores().report_results, fresh_for=fresh_for)


def live() -> LiveService:
    from helpdesk.services.live import LiveService

    table = stores()
    return LiveService(table.live, table.conversations, table.tickets, workspace(), live_connections())


def live_fanout() -> LiveFanOut:
    from helpdesk.services.live_fanout import LiveFanOut

    table = stores()
    return LiveFanOut(table.live, table.conversations, table.tickets, table.agents, workspace(), live_connections())


def home() -> MessengerHome:
    from helpdesk.services.home import MessengerHome

    table = stores()
    return MessengerHome(workspace(), table.live, table.conversations, table.tickets)


# --- customer profile (the inbox's side panel and its profile actions) ----------------------------


def customer_profiles() -> CustomerProfiles:
    from helpdesk.services.customer_profiles import CustomerProfiles

    return CustomerProfiles(stores().customers, workspace(), action_runner())


def ticket_drafts() -> TicketDrafts:
    from helpdesk.services.ticket_drafts import TicketDrafts

    return TicketDrafts(stores().conversations, workspace())


def read_change(record: Mapping[str, Any]) -> CommittedChange:
    """A record of the table's stream, read into the change the domain derives events from."""
    from helpdesk.adapters.stream_changes import read_change as decode

    return decode(record)


# --- tags and macros ------------------------------------------------------------------------------


@cache
def workspace_macros() -> tuple[Macro, ...]:
    """The workspace's macros (``macros/*.yaml``), loaded and validated once per container."""
    from helpdesk.adapters.macro_files import load_macros

    directory = settings().workspace_dir
    assert directory is not None, "workspace() names the missing WORKSPACE_DIR first"
    return load_macros(directory / "macros", workspace())


def tags() -> TagService:
    from helpdesk.services.tags import TagService

    table = stores()
    return TagService(table.tags, table.macros, workspace())


def macros() -> MacroService:
    from helpdesk.services.macros import MacroService

    table = stores()
    return MacroService(table.macros, table.tickets, workspace(), workspace_macros(), trackers())


# --- the conversation transcript on a ticket ----------------------------------------------------


def transcripts() -> TranscriptService:
    from helpdesk.services.transcripts import TranscriptService

    table = stores()
    return TranscriptService(table.tickets, table.conversations, workspace())


# --- tests and the local runtime -----------------------------------------------------------------


def reset() -> None:
    """Forget everything built so far and the settings read (after the environment changed)."""
    reset_settings()
    for name, module in list(sys.modules.items()):
        if name == __name__ or name.startswith(f"{__name__}."):
            for kept in vars(module).values():  # every factory here that keeps what it built (``@cache``)
                if getattr(kept, "__module__", None) == name and callable(getattr(kept, "cache_clear", None)):
                    kept.cache_clear()


# --- thumbnails of image attachments ---------------------------------------------------------------


def thumbnails() -> ThumbnailService:
    from helpdesk.adapters.thumbnail_images import PillowShrinker
    from helpdesk.services.thumbnails import ThumbnailService

    return ThumbnailService(attachment_files(), PillowShrinker())
