"""Thumbnails of image attachments: S3's notifications of new uploads, the Pillow layer, and the grants.

- **Notification**: the attachments bucket sends ``s3:ObjectCreated:*`` for keys under ``attachments/``
  to the ``THUMBNAILER`` queue (built with its DLQ and alarm by ``QueueWorkers``). The bucket lives in
  the stateful stack; it is referenced here by name so that stack doesn't depend on this one (CDK keeps
  the notification with a custom resource that leaves the bucket's other notifications alone). The
  queue's policy lets only S3, for this bucket and this account, send to it.
- **Layer**: the thumbnailer's only layer (``thumbnails_layer``, the ``thumbnails`` dependency group):
  Pillow without the plugins thumbnails never use, powertools, pydantic, python-ulid. It replaces the common
  layer, so the thumbnailer too stays within the 25 MB package budget.
- **Grants**: the thumbnailer reads ``attachments/*`` (and may list only that prefix, so a vanished
  upload reads as "no such key") and writes ``thumbnails/*``; nothing else in the bucket. It decodes
  pictures up to 40 megapixels, so it gets more memory than the other workers.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from helpdesk.domain.thumbnails import ATTACHMENTS_PREFIX, THUMBNAILS_PREFIX

from infra.bundling import layer_code
from infra.functions import RUNTIME
from infra.nag import acknowledge_cdk_handler, nag
from infra.stateful import attachments_bucket_name

THUMBNAILER_MEMORY_MB = 1024


def thumbnails_layer(scope: Construct) -> lambda_.LayerVersion:
    """The thumbnailer's layer, in place of the common one (``QueueWorkers(own_layers=...)``)."""
    return lambda_.LayerVersion(
        scope,
        "PillowLayer",
        code=layer_code("thumbnails"),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[lambda_.Architecture.ARM_64],
        description="Pillow and the little else the thumbnailer loads (its only layer)",
    )


class Thumbnails(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, queue: sqs.IQueue, worker: lambda_.Function
    ) -> None:
        super().__init__(scope, construct_id)
        bucket_name = attachments_bucket_name(stage)
        bucket = s3.Bucket.from_bucket_attributes(
            self, "Attachments", bucket_name=bucket_name, bucket_arn=f"arn:{Aws.PARTITION}:s3:::{bucket_name}"
        )
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED, s3n.SqsDestination(queue), s3.NotificationKeyFilter(prefix=ATTACHMENTS_PREFIX)
        )
        _acknowledge_notifications_handler(Stack.of(self))
        worker.add_environment("ATTACHMENTS_BUCKET", bucket_name)
        function = worker.node.default_child
        assert isinstance(function, lambda_.CfnFunction)
        function.memory_size = THUMBNAILER_MEMORY_MB
        uploads = f"{bucket.bucket_arn}/{ATTACHMENTS_PREFIX}*"
        thumbnails = f"{bucket.bucket_arn}/{THUMBNAILS_PREFIX}*"
        worker.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[uploads]))
        worker.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[thumbnails]))
        worker.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{ATTACHMENTS_PREFIX}*", f"{THUMBNAILS_PREFIX}*"]}},
            )
        )
        rendered = f"arn:<AWS::Partition>:s3:::helpdesk-{stage}-attachments-<AWS::AccountId>-<AWS::Region>"
        for prefix in (ATTACHMENTS_PREFIX, THUMBNAILS_PREFIX):
            nag(worker.role or worker).acknowledge(
                id=f"AwsSolutions-IAM5[Resource::{rendered}/{prefix}*]",
                reason="Uploads and thumbnails are named per file (attachments/<owner>/<id>); the grant names "
                "one prefix of the one bucket: read the uploads, write the thumbnails.",
            )


NOTIFICATIONS_HANDLER_FINDINGS = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-L1",
    "Serverless-LambdaDLQ",
    "Serverless-LambdaLatestVersion",
    "Serverless-LambdaTracing",
    "Serverless-LambdaDefaultMemorySize",
    "Serverless-LambdaDefaultTimeout",
)


def _acknowledge_notifications_handler(stack: Stack) -> None:
    """CDK's own handler (one per stack) that sets a bucket's notifications at deploy time."""
    acknowledge_cdk_handler(
        stack,
        "BucketNotificationsHandler",
        NOTIFICATIONS_HANDLER_FINDINGS,
        "CDK's own BucketNotificationsHandler: it runs only during deployment to put the "
        "attachments bucket's notification configuration (it may call s3:PutBucketNotification, "
        "which has no resource-level scoping in CDK's handler); its role and runtime are managed "
        "by aws-cdk-lib.",
    )
