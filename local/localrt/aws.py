"""The embedded AWS: moto's server in this process, and the resources the system needs on it.

Resources come from the same definitions the CDK app deploys: the table from the PynamoDB
models' ``table_definition()``, the queues from ``QUEUE_CONSUMERS``.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass, field

import boto3
from moto.server import ThreadedMotoServer

from localrt.settings import Settings

MESSENGER_SECRET_NAME = "helpdesk-local/messenger-secret"


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

    def start(self) -> None:
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
        from helpdesk.adapters.table import table_definition
        from helpdesk.surfaces import QUEUE_CONSUMERS

        settings = self.settings
        boto3.client("dynamodb").create_table(**table_definition().create_table_kwargs(settings.table_name))
        secret = boto3.client("secretsmanager").create_secret(
            Name=MESSENGER_SECRET_NAME, SecretString=settings.messenger_secret
        )
        os.environ["MESSENGER_SECRET_ARN"] = secret["ARN"]
        boto3.client("s3").create_bucket(Bucket=settings.attachments_bucket)
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
