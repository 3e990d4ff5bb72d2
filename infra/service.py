"""The stateless stack: functions, the API, the workers and their queues, the event bus, topics and
workflows, notifications, the web pages, monitoring.

Every function gets a role holding only the actions it uses, on the resources it uses them on.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from helpdesk.surfaces import (
    API_SURFACES,
    INBOX,
    MESSENGER_AUTHORIZER_HANDLER,
    NOTIFIER,
    QUEUE_CONSUMERS,
    REPORT_ROLLUP,
    REPORTS,
    WORKFLOW_STARTER,
    WORKFLOW_TASKS,
)

from infra.api import Api
from infra.bundling import REPO, function_code, layer_code
from infra.config import DeploymentConfig
from infra.custom_actions import wire_custom_actions
from infra.functions import LOG_RETENTION, FunctionFactory, FunctionSpec
from infra.lake import Lake
from infra.messaging import Messaging
from infra.monitoring import Monitoring
from infra.nag import nag
from infra.notifications import Notifications
from infra.stateful import StatefulStack, attachments_bucket_name
from infra.table_access import grant_table_items
from infra.workflows import Workflows


class ServiceStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, data: StatefulStack, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = RemovalPolicy.RETAIN if config.is_production else RemovalPolicy.DESTROY
        layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=layer_code(),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Third-party dependencies of the helpdesk functions (built without Docker)",
        )
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
            layer=layer,
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

        # --- asynchronous workers, each behind its queue and dead-letter queue --------------------
        queues: dict[str, sqs.Queue] = {}
        workers: dict[str, lambda_.Function] = {}
        for consumer in QUEUE_CONSUMERS:
            timeout = Duration.seconds(60)
            dlq = sqs.Queue(
                self,
                f"{_camel(consumer.name)}Dlq",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
                nag(dlq).acknowledge(
                    id=rule, reason="This is a dead-letter queue; it has no dead-letter queue of its own."
                )
            queue = sqs.Queue(
                self,
                f"{_camel(consumer.name)}Queue",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                visibility_timeout=Duration.seconds(timeout.to_seconds() * 6),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5),
            )
            worker = factory.build(
                FunctionSpec(
                    name=consumer.name,
                    handler=consumer.handler,
                    description=f"Worker fed by the {consumer.name} queue",
                    timeout=timeout,
                    environment={consumer.queue_url_env: queue.queue_url},
                )
            )
            worker.add_event_source(
                event_sources.SqsEventSource(queue, batch_size=consumer.batch_size, report_batch_item_failures=True)
            )
            if consumer.schedule is not None:
                # A scheduled worker gets its ticks through its queue, like any other work.
                events.Rule(
                    self,
                    f"{_camel(consumer.name)}Schedule",
                    schedule=events.Schedule.expression(consumer.schedule),
                    targets=[
                        events_targets.SqsQueue(
                            queue,
                            message=events.RuleTargetInput.from_object({"tick": True}),
                            dead_letter_queue=dlq,  # a tick EventBridge can't deliver is kept and alarmed
                            retry_attempts=3,
                        )
                    ],
                )
            nag(worker).acknowledge(
                id="Serverless-LambdaEventSourceMappingDestination",
                reason="SQS event sources can't take an on-failure destination; failed messages go to the "
                "queue's dead-letter queue after 5 receives, which is alarmed.",
            )
            nag(worker).acknowledge(
                id="Serverless-LambdaDLQ",
                reason="Invoked only by its SQS event source, never asynchronously; the queue's DLQ catches failures.",
            )
            queue.grant_send_messages(worker)  # a worker queues its next page
            grant_table_items(worker, data.table)
            monitoring.watch_dead_letter_queue(consumer.name, dlq)
            queues[consumer.name] = queue
            workers[consumer.name] = worker

        # --- domain events, topics, workflows and notifications -------------------------------------
        messaging = Messaging(
            self, "Messaging", stage=config.stage, queues=queues, monitoring=monitoring, removal=removal
        )
        workflows = Workflows(
            self,
            "Workflows",
            stage=config.stage,
            tasks_queue=queues[WORKFLOW_TASKS.name],
            alarm_topic=monitoring.topic,
            alarm_key=monitoring.key,
            monitoring=monitoring,
            removal=removal,
        )
        # Every function, built already or below, learns the bus, the topics and the workflows.
        factory.share_environment({**messaging.environment, **workflows.environment})
        messaging.add_event_publisher(factory, data.table, workflows.arns)
        workflows.grant_start(workers[WORKFLOW_STARTER.name])
        workflows.grant_task_responses(workers[WORKFLOW_TASKS.name])
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
        rollup = workers[REPORT_ROLLUP.name]
        rollup.add_environment("LAKE_DATABASE", lake.database)
        rollup.add_environment("LAKE_WORKGROUP", lake.workgroup)
        lake.grant_queries(rollup)
        notifications = Notifications(self, "Notifications", stage=config.stage, from_email=config.notify_from_email)
        notifications.grant_send(workers[NOTIFIER.name])

        # --- the API functions ----------------------------------------------------------------------
        queue_environment = {c.queue_url_env: queues[c.name].queue_url for c in QUEUE_CONSUMERS}
        surface_functions: dict[str, lambda_.Function] = {}
        for surface in API_SURFACES:
            function = factory.build(
                FunctionSpec(
                    name=f"{surface.name}-api",
                    handler=surface.handler,
                    description=f"The {surface.name} API",
                    # The bot's custom actions run inside a customer's request; API Gateway waits 29 s.
                    timeout=Duration.seconds(28 if surface.name == "messenger" else 15),
                    environment={
                        "ATTACHMENTS_BUCKET": data.attachments.bucket_name,
                        "MESSENGER_SECRET_ARN": data.messenger_secret.secret_arn,
                        **queue_environment,
                    },
                )
            )
            nag(function).acknowledge(
                id="Serverless-LambdaDLQ",
                reason="Invoked synchronously by API Gateway only; errors go back to the caller, "
                "nothing to dead-letter.",
            )
            surface_functions[surface.name] = function
        messenger, inbox = surface_functions["messenger"], surface_functions[INBOX.name]
        reports = surface_functions[REPORTS.name]
        reports.add_environment("LAKE_DATABASE", lake.database)
        reports.add_environment("LAKE_WORKGROUP", lake.workgroup)
        lake.grant_queries(reports)  # the only API function that may query the lake
        grant_table_items(reports, data.table)  # its answers are kept in the table
        wire_custom_actions(config, messenger)  # the bot runs in the messenger function
        monitoring.show_bot_resolution_rate("Helpdesk")
        workflows.grant_task_responses(inbox)  # an agent's approval decision completes the workflow's task
        grant_table_items(messenger, data.table)
        grant_table_items(inbox, data.table, delete_roster_entries=True)  # an agent leaving a team
        data.messenger_secret.grant_read(messenger)  # issues visitor tokens, verifies them on identify
        attachments = f"arn:{Aws.PARTITION}:s3:::{attachments_bucket_name(config.stage)}/attachments/*"
        # Presigned uploads and downloads are signed with these roles; HeadObject needs GetObject.
        messenger.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject"], resources=[attachments])
        )
        inbox.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[attachments]))
        rendered = f"arn:<AWS::Partition>:s3:::helpdesk-{config.stage}-attachments-<AWS::AccountId>-<AWS::Region>"
        for function in (messenger, inbox):
            nag(function.role or function).acknowledge(
                id=f"AwsSolutions-IAM5[Resource::{rendered}/attachments/*]",
                reason="Object keys are generated per upload (attachments/<customer>/<id>), so the grant names "
                "the attachments prefix of the one bucket, never the whole bucket or other buckets.",
            )
        queues["tracker-fanout"].grant_send_messages(inbox)

        authorizer = factory.build(
            FunctionSpec(
                name="messenger-authorizer",
                handler=MESSENGER_AUTHORIZER_HANDLER,
                description="Verifies customers' messenger tokens",
                memory_mb=256,
                timeout=Duration.seconds(5),
                environment={"MESSENGER_SECRET_ARN": data.messenger_secret.secret_arn},
            )
        )
        data.messenger_secret.grant_read(authorizer)
        nag(authorizer).acknowledge(
            id="Serverless-LambdaDLQ",
            reason="Invoked synchronously by API Gateway as an authorizer; there is no asynchronous failure to keep.",
        )

        # --- the hosted messenger page --------------------------------------------------------------
        site = s3.Bucket(
            self,
            "WebPages",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=data.access_logs,
            server_access_logs_prefix="web-pages/",
            removal_policy=removal,
            auto_delete_objects=not config.is_production,
        )
        distribution = cloudfront.Distribution(
            self,
            "Pages",
            comment="Helpdesk messenger page",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(site),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            default_root_object="messenger/index.html",
            enable_logging=True,
            log_bucket=data.access_logs,
            log_file_prefix="cloudfront/",
        )
        nag(distribution).acknowledge(
            id="AwsSolutions-CFR1", reason="The messenger serves customers wherever they are; no geo restriction."
        )
        nag(distribution).acknowledge(
            id="AwsSolutions-CFR2",
            reason="The distribution serves static files only; every API call goes to the API, which has a WAF.",
        )
        nag(distribution).acknowledge(
            id="AwsSolutions-CFR4",
            reason="Uses the default *.cloudfront.net certificate, which can't pin a minimum TLS version; put a "
            "custom domain and certificate in front for TLS 1.2+ only.",
        )
        # The pages call the API from CloudFront's origin; the business's site embeds the messenger.
        allowed_origins = sorted({f"https://{distribution.distribution_domain_name}", config.messenger_origin})
        if "*" in allowed_origins:
            allowed_origins = ["*"]
        for function in surface_functions.values():
            function.add_environment("ALLOWED_ORIGINS", ",".join(allowed_origins))
        # Status updates link customers to the messenger page.
        workers[NOTIFIER.name].add_environment(
            "MESSENGER_URL", f"https://{distribution.distribution_domain_name}/messenger/"
        )
        api = Api(
            self,
            "Api",
            stage=config.stage,
            functions=dict(surface_functions),
            messenger_authorizer=authorizer,
            user_pool=data.user_pool,
            allowed_origins=allowed_origins,
            removal=removal,
        )
        monitoring.watch_api(api.rest_api)

        # CDK's copy handler logs here, kept as long as the functions' own logs.
        deploy_logs = logs.LogGroup(self, "PageDeploymentLogs", retention=LOG_RETENTION, removal_policy=removal)
        s3deploy.BucketDeployment(
            self,
            "DeployPages",
            log_group=deploy_logs,
            destination_bucket=site,
            distribution=distribution,
            destination_key_prefix="messenger",
            sources=[
                s3deploy.Source.asset(str(REPO / "web" / "messenger")),
                s3deploy.Source.json_data("config.json", {"api_base": api.rest_api.url.rstrip("/")}),
            ],
        )

        inbox_url = f"https://{distribution.distribution_domain_name}/inbox/"
        page_client = cognito.UserPoolClient(
            self,
            "InboxPageClient",
            user_pool=data.user_pool,
            generate_secret=False,
            prevent_user_existence_errors=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[inbox_url],
                logout_urls=[inbox_url],
            ),
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(1),
        )
        s3deploy.BucketDeployment(
            self,
            "DeployInbox",
            log_group=deploy_logs,
            destination_bucket=site,
            distribution=distribution,
            destination_key_prefix="inbox",
            sources=[
                s3deploy.Source.asset(str(REPO / "web" / "inbox")),
                s3deploy.Source.json_data(
                    "config.json",
                    {
                        "api_base": api.rest_api.url.rstrip("/"),
                        "sign_in": "cognito",
                        "cognito_domain": data.user_pool_domain.base_url(),
                        "client_id": page_client.user_pool_client_id,
                        "redirect_uri": inbox_url,
                    },
                ),
            ],
        )
        _acknowledge_bucket_deployment(self)

        for name, value in {
            "ApiUrl": api.rest_api.url,
            "MessengerApiUrl": api.url_for("/messenger"),
            "InboxApiUrl": api.url_for("/inbox"),
            "MessengerOpenApiUrl": api.url_for("/messenger/openapi.json"),
            "InboxOpenApiUrl": api.url_for("/inbox/openapi.json"),
            "MessengerPageUrl": f"https://{distribution.distribution_domain_name}/messenger/",
            "EmbedScriptUrl": f"https://{distribution.distribution_domain_name}/messenger/static/embed.js",
            "InboxPageUrl": inbox_url,
            "AlarmTopicArn": monitoring.topic.topic_arn,
            "EventBusName": messaging.bus.event_bus_name,
            "LakeDatabase": lake.database,
            "ReportsWorkgroup": lake.workgroup,
            **{f"{_camel(name)}TopicArn": topic.topic_arn for name, topic in messaging.topics.items()},
            **{
                f"{_camel(name)}WorkflowArn": machine.state_machine_arn
                for name, machine in workflows.state_machines.items()
            },
        }.items():
            CfnOutput(self, name, value=value)


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("-"))


BUCKET_DEPLOYMENT_FINDINGS = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AwsSolutions-IAM5[Action::s3:Abort*]",
    "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
    "AwsSolutions-IAM5[Action::s3:GetBucket*]",
    "AwsSolutions-IAM5[Action::s3:GetObject*]",
    "AwsSolutions-IAM5[Action::s3:List*]",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM5[Resource::<WebPages94A4F65B.Arn>/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
    "AwsSolutions-L1",
    "Serverless-LambdaDLQ",
    "Serverless-LambdaLatestVersion",
    "Serverless-LambdaTracing",
)


def _acknowledge_bucket_deployment(stack: Stack) -> None:
    """CDK's BucketDeployment brings its own handler (a singleton) that copies the pages at deploy time."""
    for child in stack.node.children:
        if child.node.id.startswith("Custom::CDKBucketDeployment"):
            for finding in BUCKET_DEPLOYMENT_FINDINGS:
                nag(child).acknowledge(
                    id=finding,
                    reason="CDK's own BucketDeployment handler: it runs only during deployment to copy the "
                    "static pages from the CDK asset bucket into the pages bucket; its role and runtime are "
                    "managed by aws-cdk-lib.",
                )
