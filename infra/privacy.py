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

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from helpdesk.surfaces import EMAIL_ORIGINALS_PREFIX, ERASURE_SUBSTITUTIONS, ERASURE_WORKFLOW

from infra.functions import LOG_RETENTION
from infra.lake import lake_bucket_name
from infra.messaging import RECORD_PART_KEYS, grant_publish
from infra.monitoring import Monitoring
from infra.nag import nag
from infra.stateful import attachments_bucket_name, inbound_email_bucket_name
from infra.workflows import DEFINITIONS, TASK_RESPONSES, checked_definition, state_machine_name

FILE_PREFIXES = ("attachments/", "thumbnails/", "exports/")
ERASED_KEYS = (*RECORD_PART_KEYS, "CUSTOMER#*", "EMAILADDR#*")
"""The partitions an erasure deletes from: what belongs to their conversations and tickets, their
profile and unread counters, and the address directory's entries for them."""
LAKE_PREFIX = "events/"


class Privacy(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        tasks_queue: sqs.IQueue,
        alarm_topic: sns.ITopic,
        alarm_key: kms.IKey,
        monitoring: Monitoring,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage
        self._tasks_queue = tasks_queue
        values = {"PrivacyTasksQueueUrl": tasks_queue.queue_url, "AlarmTopicArn": alarm_topic.topic_arn}
        if set(values) != set(ERASURE_SUBSTITUTIONS):
            raise ValueError(f"ERASURE_SUBSTITUTIONS {ERASURE_SUBSTITUTIONS} differ from what the stack provides")
        log_group = logs.LogGroup(self, "ErasureLogs", retention=LOG_RETENTION, removal_policy=removal)
        self.erasure = sfn.StateMachine(
            self,
            "Erasure",
            state_machine_name=state_machine_name(stage, ERASURE_WORKFLOW),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(
                str(checked_definition(DEFINITIONS / ERASURE_WORKFLOW.definition, values))
            ),
            definition_substitutions=values,
            # Execution data is only the erasure's id: the customer's id stays in the table.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            removal_policy=removal,
        )
        tasks_queue.grant_send_messages(self.erasure)
        grant_publish(alarm_topic, alarm_key, self.erasure)
        nag(self.erasure.role).acknowledge(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="Log delivery (logs:CreateLogDelivery and friends) and X-Ray's PutTraceSegments support "
            "no resource-level permissions; the tasks' own grants name the queue and the topic.",
        )
        monitoring.watch_state_machine(ERASURE_WORKFLOW.name, self.erasure)

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
