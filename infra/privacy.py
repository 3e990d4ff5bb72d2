"""A customer's export and erasure: the erasure's state machine and what the privacy worker may touch.

The state machine (``workflows/erasure.asl.json``, the same file the local runtime runs) sends each
step to the privacy-tasks queue with a task token and waits; the worker answers through the token.
Its role may only send to that queue and publish to the alarm topic. The worker may read, write and
delete the customers' files (``attachments/``) and exports (``exports/``) in the attachments bucket,
read and delete their emails as received (``inbound/customers/``, filed there by the ingest worker),
rewrite the lake's objects (``events/``) and answer the erasure's tasks (``CustomerErased`` comes from
the stream, through the event publisher, like every event); the inbox function may start an erasure and queue an export.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from helpdesk.surfaces import EMAIL_ORIGINALS_PREFIX, ERASURE_SUBSTITUTIONS, ERASURE_WORKFLOW

from infra.lake import lake_bucket_name
from infra.messaging import RECORD_PART_KEYS
from infra.nag import nag
from infra.stateful import attachments_bucket_name, inbound_email_bucket_name
from infra.workflows import TASK_RESPONSES, TaskStateMachines

FILE_PREFIXES = ("attachments/", "thumbnails/", "exports/")
ERASED_KEYS = (*RECORD_PART_KEYS, "CUSTOMER#*", "EMAILADDR#*")
"""The partitions an erasure deletes from: what belongs to their conversations and tickets, their
profile and unread counters, and the address directory's entries for them."""
LAKE_PREFIX = "events/"


class Privacy(TaskStateMachines):
    QUEUE_PLACEHOLDER = "PrivacyTasksQueueUrl"
    SUBSTITUTIONS = ERASURE_SUBSTITUTIONS

    def _build(self) -> None:
        self.erasure = self._state_machine(self, "ErasureLogs", "Erasure", ERASURE_WORKFLOW)

    @property
    def environment(self) -> dict[str, str]:
        return {ERASURE_WORKFLOW.arn_env: self.erasure.state_machine_arn}

    def grant_requests(self, inbox: lambda_.Function) -> None:
        """The inbox's routes: start an erasure (executions are named after requests), queue an export."""
        inbox.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.erasure.state_machine_arn])
        )
        self._tasks_queue.grant_send_messages(inbox)
        inbox.add_environment("PRIVACY_TASKS_QUEUE_URL", self._tasks_queue.queue_url)

    def grant_worker(self, worker: lambda_.Function, table: dynamodb.ITableV2) -> None:
        """The privacy worker: the customers' files and exports, their filed emails, the lake's objects,
        the erasure's tasks; and deleting a customer's items (only in the partitions that hold them)."""
        worker.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(ERASED_KEYS)}},
            )
        )
        worker.add_environment("ATTACHMENTS_BUCKET", attachments_bucket_name(self._stage))
        worker.add_environment("LAKE_BUCKET", lake_bucket_name(self._stage))
        worker.add_environment("INBOUND_EMAIL_BUCKET", inbound_email_bucket_name(self._stage))
        worker.add_to_role_policy(
            iam.PolicyStatement(actions=list(TASK_RESPONSES), resources=[self.erasure.state_machine_arn])
        )
        for bucket, prefixes in (
            (attachments_bucket_name(self._stage), FILE_PREFIXES),
            (lake_bucket_name(self._stage), (LAKE_PREFIX,)),
            (inbound_email_bucket_name(self._stage), (EMAIL_ORIGINALS_PREFIX,)),
        ):
            objects = [f"arn:{Aws.PARTITION}:s3:::{bucket}/{prefix}*" for prefix in prefixes]
            worker.add_to_role_policy(
                iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources=objects)
            )
            worker.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[f"arn:{Aws.PARTITION}:s3:::{bucket}"],
                    conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
                )
            )
        rendered = "arn:<AWS::Partition>:s3:::helpdesk-{stage}-{bucket}-<AWS::AccountId>-<AWS::Region>/{prefix}*"
        for bucket, prefix in (("attachments", p) for p in FILE_PREFIXES):
            self._acknowledge(worker, rendered.format(stage=self._stage, bucket=bucket, prefix=prefix))
        self._acknowledge(worker, rendered.format(stage=self._stage, bucket="lake", prefix=LAKE_PREFIX))
        self._acknowledge(worker, rendered.format(stage=self._stage, bucket="inbound", prefix=EMAIL_ORIGINALS_PREFIX))

    @staticmethod
    def _acknowledge(worker: lambda_.Function, resource: str) -> None:
        nag(worker.role or worker).acknowledge(
            id=f"AwsSolutions-IAM5[Resource::{resource}]",
            reason="A customer's files, exports and lake objects are named per object; the grant names one "
            "prefix of one bucket, never the whole bucket or other buckets.",
        )
