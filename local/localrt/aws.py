"""The embedded AWS: moto's server in this process, and the resources the system needs on it.

Resources come from the same definitions the CDK app deploys: the table from the PynamoDB
models' ``table_definition()``, the queues from ``QUEUE_CONSUMERS``, the bus's rules from
``EVENT_ROUTES``, the topics from ``TOPICS``, and the state machines from the same ASL files
(``workflows/``) with the same substitutions.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from localrt.settings import Settings

MESSENGER_SECRET_NAME = "helpdesk-local/messenger-secret"
EMAIL_SECRET_NAME = "helpdesk-local/email-secret"
REPO = Path(__file__).resolve().parents[2]
NOTIFY_FROM_EMAIL = "support@demo-shop.example"
ORDERS_API_SECRET = "helpdesk/orders-api"
"""Where the demo custom actions (workspace/demo/actions) read the order system's API key."""


def point_sdk_at(settings: Settings) -> None:
    """Every AWS client made in this process talks to the embedded AWS, with clearly fake credentials.

    Must run before any ``helpdesk`` module is imported: the table models read TABLE_NAME then.
    """
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": settings.moto_url,
            "AWS_ACCESS_KEY_ID": "local-dev",
            "AWS_SECRET_ACCESS_KEY": "local-dev",
            "AWS_DEFAULT_REGION": settings.region,
            "AWS_REGION": settings.region,
            "TABLE_NAME": settings.table_name,
            "WORKSPACE_DIR": str(settings.workspace_dir),
            "ATTACHMENTS_BUCKET": settings.attachments_bucket,
            "LAKE_BUCKET": settings.lake_bucket,
            "SEARCH_INDEX_BUCKET": settings.search_index_bucket,
            "SEARCH_INDEX_REFRESH_SECONDS": os.environ.get("SEARCH_INDEX_REFRESH_SECONDS", "0.5"),
            # moto has no Athena that runs SQL: the reports run on DuckDB over a mirror of the lake bucket.
            "LAKE_ENGINE": "duckdb",
            "REPORTS_FRESH_SECONDS": os.environ.get("REPORTS_FRESH_SECONDS", "3"),
            "LAKE_MIRROR_DIR": os.environ.get("LAKE_MIRROR_DIR") or tempfile.mkdtemp(prefix="helpdesk-local-lake-"),
            "POWERTOOLS_SERVICE_NAME": "helpdesk-local",
            "POWERTOOLS_METRICS_NAMESPACE": "HelpdeskLocal",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "MOTO_PORT": str(settings.moto_port),
        }
    )
    os.environ.pop("AWS_PROFILE", None)


@dataclass
class EmbeddedAws:
    settings: Settings
    server: ThreadedMotoServer | None = None
    queue_urls: dict[str, str] = field(default_factory=dict)
    topic_relays: dict[str, str] = field(default_factory=dict)
    """Relay queue URL -> topic ARN, for the rules that target a topic."""

    def start(self) -> None:
        from localrt import moto_transactions

        moto_transactions.install()  # transactions cost what they touch, not the whole table
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.settings.moto_port, verbose=False)
        self.server.start()
        # Step Functions really execute (used by the specialist workflows).
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            f"{self.settings.moto_url}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - our own loopback server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def create_resources(self) -> None:
        from helpdesk.adapters.table_definition import table_definition
        from helpdesk.surfaces import QUEUE_CONSUMERS

        settings = self.settings
        boto3.client("dynamodb").create_table(**table_definition().create_table_kwargs(settings.table_name))
        secret = boto3.client("secretsmanager").create_secret(
            Name=MESSENGER_SECRET_NAME, SecretString=settings.messenger_secret
        )
        os.environ["MESSENGER_SECRET_ARN"] = secret["ARN"]
        boto3.client("s3").create_bucket(Bucket=settings.attachments_bucket)
        boto3.client("s3").create_bucket(Bucket=settings.search_index_bucket)
        self._create_email(settings)
        sqs = boto3.client("sqs")
        for consumer in QUEUE_CONSUMERS:
            dlq = sqs.create_queue(QueueName=f"{consumer.name}-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            url = sqs.create_queue(
                QueueName=consumer.name,
                Attributes={
                    "VisibilityTimeout": "30",
                    "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
                },
            )["QueueUrl"]
            os.environ[consumer.queue_url_env] = url
            self.queue_urls[consumer.name] = url
        self._notify_uploads()
        self._create_messaging()
        self._create_workflows()

    def _create_email(self, settings: Settings) -> None:
        """The inbound bucket SES receiving stores into, the email key (LOCAL DEV ONLY), the support address."""
        boto3.client("s3").create_bucket(Bucket=settings.inbound_email_bucket)
        secret = boto3.client("secretsmanager").create_secret(
            Name=EMAIL_SECRET_NAME, SecretString=settings.email_secret
        )
        os.environ.update(
            {
                "EMAIL_SECRET_ARN": secret["ARN"],
                "INBOUND_EMAIL_BUCKET": settings.inbound_email_bucket,
                "SUPPORT_ADDRESS": settings.support_address,
                # The embedded SES keeps our Message-ID; SES in AWS replaces it with its own.
                "SES_REWRITES_MESSAGE_ID": "false",
            }
        )

    def _notify_uploads(self) -> None:
        """The attachments bucket announces new uploads to the thumbnailer's queue, as in the CDK app
        (``infra/thumbnails.py``). The embedded S3 sends S3's own ``ObjectCreated:Post`` notification for
        a browser's presigned POST too (and ``s3:TestEvent`` now, which the thumbnailer ignores)."""
        from helpdesk.domain.thumbnails import ATTACHMENTS_PREFIX
        from helpdesk.surfaces import THUMBNAILER

        boto3.client("s3").put_bucket_notification_configuration(
            Bucket=self.settings.attachments_bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "thumbnails",
                        "QueueArn": self.queue_arn(THUMBNAILER.name),
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": ATTACHMENTS_PREFIX}]}},
                    }
                ]
            },
        )

    def queue_arn(self, consumer: str) -> str:
        return str(
            boto3.client("sqs").get_queue_attributes(QueueUrl=self.queue_urls[consumer], AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        )

    def _create_messaging(self) -> None:
        """The bus (with its archive and rules), the topics and their subscriptions, SES's sender."""
        from helpdesk.surfaces import EVENT_BUS_ENV, EVENT_ROUTES, EVENT_SOURCE, TOPIC_SUBSCRIPTIONS, TOPICS

        events, sns = boto3.client("events"), boto3.client("sns")
        bus_name = "helpdesk-local"
        bus_arn = events.create_event_bus(Name=bus_name)["EventBusArn"]
        events.create_archive(
            ArchiveName="helpdesk-local-events",
            EventSourceArn=bus_arn,
            EventPattern=json.dumps({"source": [EVENT_SOURCE]}),
            RetentionDays=30,
        )
        os.environ[EVENT_BUS_ENV] = bus_name
        topic_arns: dict[str, str] = {}
        for topic in (*TOPICS,):
            topic_arns[topic.name] = sns.create_topic(Name=f"helpdesk-local-{topic.name}")["TopicArn"]
            os.environ[topic.arn_env] = topic_arns[topic.name]
        self.alarm_topic_arn = sns.create_topic(Name="helpdesk-local-alarms")["TopicArn"]
        for topic_name, consumer in TOPIC_SUBSCRIPTIONS:
            sns.subscribe(
                TopicArn=topic_arns[topic_name],
                Protocol="sqs",
                Endpoint=self.queue_arn(consumer),
                Attributes={"RawMessageDelivery": "true"},
            )
        # Everything on the bus is also kept in a queue, for the local events page and the tests.
        self.event_log_url = boto3.client("sqs").create_queue(QueueName="local-event-log")["QueueUrl"]
        log_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=self.event_log_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        routes = [*EVENT_ROUTES]
        for route in routes:
            if route.queue:
                target = self.queue_arn(route.queue)
            else:
                # moto's EventBridge can't deliver to SNS: a queue stands in, and a forwarder publishes
                # what arrives to the topic (see pollers.TopicForwarder).
                relay = boto3.client("sqs").create_queue(QueueName=f"local-relay-{route.topic}")["QueueUrl"]
                self.topic_relays[relay] = topic_arns[str(route.topic)]
                target = boto3.client("sqs").get_queue_attributes(QueueUrl=relay, AttributeNames=["QueueArn"])[
                    "Attributes"
                ]["QueueArn"]
            events.put_rule(Name=route.name, EventBusName=bus_name, EventPattern=json.dumps(route.pattern))
            events.put_targets(Rule=route.name, EventBusName=bus_name, Targets=[{"Id": "target", "Arn": target}])
        # The lake: moto's EventBridge can't target Firehose, so the same rule feeds the local lake writer.
        boto3.client("s3").create_bucket(Bucket=self.settings.lake_bucket)
        self.lake_queue_url = boto3.client("sqs").create_queue(QueueName="local-lake-delivery")["QueueUrl"]
        lake_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=self.lake_queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(Name="to-lake", EventBusName=bus_name, EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
        events.put_targets(Rule="to-lake", EventBusName=bus_name, Targets=[{"Id": "lake", "Arn": lake_arn}])
        events.put_rule(
            Name="local-event-log", EventBusName=bus_name, EventPattern=json.dumps({"source": [{"prefix": ""}]})
        )
        events.put_targets(Rule="local-event-log", EventBusName=bus_name, Targets=[{"Id": "log", "Arn": log_arn}])
        ses = boto3.client("ses")
        ses.verify_email_identity(EmailAddress=NOTIFY_FROM_EMAIL)
        ses.verify_domain_identity(Domain=self.settings.support_address.rpartition("@")[2])
        os.environ["NOTIFY_FROM_EMAIL"] = NOTIFY_FROM_EMAIL
        os.environ["MESSENGER_URL"] = f"{self.settings.api_url}/messenger/"
        try:
            from helpdesk.adapters.channels import STATUS_UPDATE_TEMPLATE
        except ImportError:  # pragma: no cover - the notifier ships with its template
            return
        ses.create_template(Template=STATUS_UPDATE_TEMPLATE)
        os.environ["STATUS_TEMPLATE_NAME"] = str(STATUS_UPDATE_TEMPLATE["TemplateName"])

    def _create_workflows(self) -> None:
        from helpdesk.surfaces import WORKFLOW_TASKS, WORKFLOWS

        sfn = boto3.client("stepfunctions")
        values = {
            "WorkflowTasksQueueUrl": self.queue_urls[WORKFLOW_TASKS.name],
            "AlarmTopicArn": self.alarm_topic_arn,
        }
        for workflow in WORKFLOWS:
            definition = (REPO / "workflows" / workflow.definition).read_text()
            for name, value in values.items():
                definition = definition.replace("${" + name + "}", value)
            arn = sfn.create_state_machine(
                name=f"helpdesk-local-{workflow.name}",
                definition=definition,
                roleArn="arn:aws:iam::123456789012:role/helpdesk-local-workflows",
                type="STANDARD",
            )["stateMachineArn"]
            os.environ[workflow.arn_env] = arn
        self._create_erasure_workflow(sfn)

    def _create_erasure_workflow(self, sfn: Any) -> None:
        """A customer's erasure, on the privacy worker's queue (``workflows/erasure.asl.json``)."""
        from helpdesk.surfaces import ERASURE_WORKFLOW, PRIVACY_TASKS

        definition = (REPO / "workflows" / ERASURE_WORKFLOW.definition).read_text()
        values = {"PrivacyTasksQueueUrl": self.queue_urls[PRIVACY_TASKS.name], "AlarmTopicArn": self.alarm_topic_arn}
        for name, value in values.items():
            definition = definition.replace("${" + name + "}", value)
        arn = sfn.create_state_machine(
            name=f"helpdesk-local-{ERASURE_WORKFLOW.name}",
            definition=definition,
            roleArn="arn:aws:iam::123456789012:role/helpdesk-local-workflows",
            type="STANDARD",
        )["stateMachineArn"]
        os.environ[ERASURE_WORKFLOW.arn_env] = arn
