"""The stateless stack, composed of named constructs (each in its own module):

- ``Monitoring`` (``infra.monitoring``): the alarm topic, alarms and the dashboard;
- ``QueueWorkers`` (``infra.queue_workers``): every asynchronous worker behind its queue and DLQ;
- ``Messaging`` (``infra.messaging``): the event bus, rules and topics, and the stream consumer;
- ``Workflows`` (``infra.workflows``): the ticket workflows' state machines;
- ``Notifications`` (``infra.notifications``): the status-update email template and sending;
- ``EmailChannel`` (``infra.email``): SES receiving into the inbound bucket and the ingest queue, the
  configuration set whose bounces and complaints reach the feedback worker, and who may send;
- ``ApiFunctions`` (``infra.api_functions``): the messenger and inbox functions and the authorizer;
- ``WebHosting`` (``infra.web_hosting``): the pages bucket, CloudFront and the page deployments;
- ``Api`` (``infra.api``): the REST API, its authorizers and WAF;
- ``InboxSignIn`` (``infra.agent_identity``): the inbox page's Cognito client;
- ``LiveChannel`` (``infra.live``): the WebSocket API, its authorizer and the live fan-out from the stream;
- ``Search`` (``infra.search``): the message index's bucket and layer, and the search indexer on the stream.

This module only connects them: who may call whom, and what each function is told about the others.
Every function gets a role holding only the actions it uses, on the resources it uses them on.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, RemovalPolicy, Stack
from constructs import Construct
from helpdesk.surfaces import (
    EMAIL_EVENTS,
    EMAIL_INGEST,
    INBOUND_EMAIL,
    INBOUND_EMAIL_PREFIX,
    NOTIFIER,
    PRIVACY_TASKS,
    REPORT_ROLLUP,
    THUMBNAILER,
    WORKFLOW_STARTER,
    WORKFLOW_TASKS,
)

from infra.agent_identity import InboxSignIn
from infra.api import Api
from infra.api_functions import ApiFunctions
from infra.bundling import function_code
from infra.config import DeploymentConfig
from infra.email import EmailChannel
from infra.functions import FunctionFactory, dependency_layer
from infra.lake import Lake
from infra.live import LiveChannel
from infra.messaging import Messaging, camel
from infra.monitoring import Monitoring
from infra.notifications import Notifications
from infra.privacy import Privacy
from infra.queue_workers import QueueWorkers
from infra.search import Search
from infra.security_headers import PageHeaderPolicies, attachments_origins, workspace_messenger_origins
from infra.stateful import StatefulStack, attachments_bucket_name, inbound_email_bucket_name
from infra.thumbnails import Thumbnails, thumbnails_layer
from infra.web_hosting import WebHosting
from infra.workflows import Workflows


class ServiceStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, data: StatefulStack, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = RemovalPolicy.RETAIN if config.is_production else RemovalPolicy.DESTROY
        monitoring = Monitoring(
            self,
            "Monitoring",
            dashboard_name=f"helpdesk-{config.stage}",
            removal=removal,
            alarm_email=config.alarm_email,
        )
        factory = FunctionFactory(
            self,
            code=function_code(config.workspace_dir),
            layer=dependency_layer(self),
            removal=removal,
            monitoring=monitoring,
            environment={
                "TABLE_NAME": data.table.table_name,
                "WORKSPACE_DIR": "/var/task/workspace",
                "POWERTOOLS_METRICS_NAMESPACE": "Helpdesk",
                "LOG_LEVEL": "INFO",
                "STAGE": config.stage,
            },
        )
        workers = QueueWorkers(
            self,
            "QueueWorkers",
            factory=factory,
            table=data.table,
            monitoring=monitoring,
            own_layers={THUMBNAILER.name: thumbnails_layer(self)},
        )

        # --- domain events, topics, workflows and notifications -------------------------------------
        messaging = Messaging(
            self, "Messaging", stage=config.stage, queues=workers.queues, monitoring=monitoring, removal=removal
        )
        workflows = Workflows(
            self,
            "Workflows",
            stage=config.stage,
            tasks_queue=workers.queues[WORKFLOW_TASKS.name],
            monitoring=monitoring,
            removal=removal,
        )
        privacy = Privacy(
            self,
            "Privacy",
            stage=config.stage,
            tasks_queue=workers.queues[PRIVACY_TASKS.name],
            monitoring=monitoring,
            removal=removal,
        )
        # Every function, built already or below, learns the bus, the topics and the workflows.
        factory.share_environment({**messaging.environment, **workflows.environment, **privacy.environment})
        publisher = messaging.add_event_publisher(factory, data.table, workflows.arns)
        workflows.grant_start(workers.worker(WORKFLOW_STARTER))
        workflows.grant_task_responses(workers.worker(WORKFLOW_TASKS))
        notifications = Notifications(self, "Notifications", stage=config.stage, from_email=config.notify_from_email)
        notifications.grant_send(workers.worker(NOTIFIER))
        # --- the event lake: every domain event to S3 through Firehose, Glue, Athena and the views ----
        lake = Lake(
            self,
            "Lake",
            stage=config.stage,
            bus=messaging.bus,
            buckets=data.lake,
            factory=factory,
            target_dlq=messaging.target_dlq,
            removal=removal,
        )
        lake.allow_queries(workers.worker(REPORT_ROLLUP))  # the daily rollup computes the common ranges

        # --- the API and the pages that call it -----------------------------------------------------
        functions = ApiFunctions(
            self,
            "ApiFunctions",
            config=config,
            data=data,
            factory=factory,
            queue_environment=workers.environment,
            queues=workers.queues,
        )
        lake.allow_queries(functions.reports)  # the only API function that may query the lake
        monitoring.show_bot_resolution_rate("Helpdesk")
        workflows.grant_task_responses(functions.inbox)  # an agent's approval decision completes the workflow's task
        search = Search(
            self,
            "Search",
            factory=factory,
            table=data.table,
            monitoring=monitoring,
            access_logs=data.access_logs,
            removal=removal,
            is_production=config.is_production,
        )
        search.allow_search(functions.inbox)  # GET /inbox/search reads the message index
        privacy.grant_requests(functions.inbox)  # an admin's export or erasure of a customer
        privacy.grant_worker(workers.worker(PRIVACY_TASKS), data.table)

        # --- the email channel ----------------------------------------------------------------------
        email = EmailChannel(
            self,
            "Email",
            stage=config.stage,
            support_email=config.support_email,
            sender_email=config.notify_from_email,
            inbound_bucket=data.inbound_email,
            inbound_objects_arn=f"arn:{Aws.PARTITION}:s3:::{inbound_email_bucket_name(config.stage)}/"
            f"{INBOUND_EMAIL_PREFIX}*",
            attachments_prefix_arn=f"arn:{Aws.PARTITION}:s3:::{attachments_bucket_name(config.stage)}/attachments/*",
            inbound_topic=messaging.topics[INBOUND_EMAIL.name],
            events_topic=messaging.topics[EMAIL_EVENTS.name],
            topics_key=messaging.key,
            email_secret=data.email_secret,
        )
        email.grant_ingest(workers.worker(EMAIL_INGEST), data.attachments)
        # --- thumbnails of image attachments ---------------------------------------------------------
        Thumbnails(
            self,
            "Thumbnails",
            stage=config.stage,
            queue=workers.queues[THUMBNAILER.name],
            worker=workers.worker(THUMBNAILER),
        )
        email.grant_directory(publisher, data.table)
        # Status updates, fresh links and agents' replies in email conversations go out by email.
        email.grant_send([workers.worker(NOTIFIER)])
        email.grant_links(functions.messenger)  # exchanges links from emails for email sessions
        email.grant_links(functions.inbox)  # shows an email conversation's address and suppression
        messenger_origins = workspace_messenger_origins(config.workspace_dir)
        page_headers = PageHeaderPolicies(
            self,
            "PageHeaders",
            messenger_origins=messenger_origins,
            files=attachments_origins(config.stage),
            sign_in=data.user_pool_domain.base_url(),
        )
        web = WebHosting(
            self,
            "WebHosting",
            access_logs=data.access_logs,
            removal=removal,
            auto_delete=not config.is_production,
            page_headers=page_headers,
        )
        allowed_origins = web.allowed_origins(config.messenger_origin)
        functions.allow_origins(allowed_origins)
        workers.worker(NOTIFIER).add_environment("MESSENGER_URL", web.url("messenger"))  # status updates link there
        api = Api(
            self,
            "Api",
            stage=config.stage,
            functions=dict(functions.by_surface),
            messenger_authorizer=functions.authorizer,
            user_pool=data.user_pool,
            allowed_origins=allowed_origins,
            removal=removal,
        )
        monitoring.watch_api(api.rest_api)
        page_headers.allow_api(api.rest_api.url)
        api_base = api.rest_api.url.rstrip("/")
        sign_in = InboxSignIn(
            self,
            "InboxSignIn",
            user_pool=data.user_pool,
            user_pool_domain=data.user_pool_domain,
            inbox_url=web.url("inbox"),
        )
        live = LiveChannel(
            self,
            "LiveChannel",
            stage=config.stage,
            factory=factory,
            table=data.table,
            messenger_secret=data.messenger_secret,
            user_pool_id=data.user_pool.user_pool_id,
            agent_client_ids=[sign_in.client.user_pool_client_id],
            monitoring=monitoring,
            removal=removal,
        )
        page_headers.allow_api(live.url)
        web.deploy(
            "messenger",
            {"api_base": api_base, "messenger_origins": list(messenger_origins), "live_url": live.url},
        )
        web.deploy("inbox", {"api_base": api_base, "live_url": live.url, **sign_in.page_config})

        outputs = {
            "ApiUrl": api.rest_api.url,
            "MessengerApiUrl": api.url_for("/messenger"),
            "InboxApiUrl": api.url_for("/inbox"),
            "MessengerOpenApiUrl": api.url_for("/messenger/openapi.json"),
            "InboxOpenApiUrl": api.url_for("/inbox/openapi.json"),
            "MessengerPageUrl": web.url("messenger"),
            "EmbedScriptUrl": f"{web.url('messenger')}static/embed.js",
            "InboxPageUrl": web.url("inbox"),
            "LiveUrl": live.url,
            "AlarmTopicArn": monitoring.topic.topic_arn,
            "EventBusName": messaging.bus.event_bus_name,
            "EmailReceiptRuleSet": email.rule_set.receipt_rule_set_name,
            "EmailConfigurationSet": email.configuration_set.configuration_set_name,
            "SupportAddress": config.support_email,
            "LakeDatabase": lake.database,
            "ReportsWorkgroup": lake.workgroup,
            **{f"{camel(name)}TopicArn": topic.topic_arn for name, topic in messaging.topics.items()},
            **{f"{camel(name)}WorkflowArn": m.state_machine_arn for name, m in workflows.state_machines.items()},
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
