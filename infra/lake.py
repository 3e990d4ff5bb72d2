"""The event lake: every domain event from the bus into S3 through Firehose, described in Glue, queried
with Athena (see ``helpdesk.domain.lake`` for the layout and why it is newline-delimited JSON).

- ``LakeBuckets`` (in the data stack, retained): the lake bucket and the Athena results bucket, both
  encrypted, TLS only, private, access-logged, with lifecycle rules;
- ``Lake`` (in the service stack): a rule on the bus sending every ``helpdesk`` event to a Firehose
  stream (dynamic partitioning by detail type and day, gzip, 5-minute buffers, encrypted, errors
  to their own prefix, undeliverable events to the alarmed event-targets DLQ); the Glue database and
  one table per detail type (partition projection on ``dt``, so no crawler and no partition upkeep);
  an Athena workgroup (engine v3, enforced settings, a bytes-scanned limit per query, encrypted
  results); and the views, created by a custom resource that runs the generated base views and the
  metric views (``helpdesk.domain.metrics``) on Athena at every deployment that changes them.

Why views by a custom resource rather than named queries: the reports function and any tool that
speaks Athena/Trino read the same views by name, and they exist the moment the deployment finishes;
named queries would only be text someone has to run. The statements are properties of the custom
resource, so the synthesized template carries the exact SQL Athena runs.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, CustomResource, Duration, RemovalPolicy, Size, Stack, Validations
from aws_cdk import aws_athena as athena
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from helpdesk.domain import lake
from helpdesk.domain.metrics import metric_views
from helpdesk.domain.retention import Retention
from helpdesk.surfaces import EVENT_SOURCE, LAKE_VIEWS_HANDLER

from infra.buckets import private_bucket
from infra.bundling import REPO
from infra.functions import LOG_RETENTION, FunctionFactory, FunctionSpec
from infra.nag import nag
from infra.retention import expiry_rules

BUFFER_INTERVAL = Duration.minutes(5)
BUFFER_SIZE = Size.mebibytes(64)  # the least Firehose allows with dynamic partitioning
BYTES_SCANNED_CUTOFF = 1_000_000_000
"""Athena refuses a query that would scan more than 1 GB: years of a busy help desk's events."""
RESULTS_EXPIRE = Duration.days(7)


def lake_bucket_name(stage: str) -> str:
    return f"helpdesk-{stage}-lake-{Aws.ACCOUNT_ID}-{Aws.REGION}"


def results_bucket_name(stage: str) -> str:
    return f"helpdesk-{stage}-query-results-{Aws.ACCOUNT_ID}-{Aws.REGION}"


def database_name(stage: str) -> str:
    return f"helpdesk_{stage.replace('-', '_')}_lake"


def workgroup_name(stage: str) -> str:
    return f"helpdesk-{stage}-reports"


class LakeBuckets(Construct):
    """The lake's data and Athena's results: in the data stack, so a service change never risks them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        access_logs: s3.IBucket,
        removal: RemovalPolicy,
        production: bool,
        retention: Retention | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        kept = expiry_rules(retention or Retention(), "lake")  # the workspace's lake_days
        # Predictable names let the functions' policies name the prefixes they may use.
        self.lake = private_bucket(
            self,
            "Lake",
            access_logs=access_logs,
            logs_prefix="lake/",
            removal=removal,
            auto_delete=not production,
            bucket_name=lake_bucket_name(stage),
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
                s3.LifecycleRule(
                    id="events-infrequent-access",
                    prefix=lake.EVENTS_PREFIX,
                    # Reports read recent days most; older days stay queryable at a lower storage price.
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(90)
                        )
                    ],
                ),
                s3.LifecycleRule(id="errors-expire", prefix="errors/", expiration=Duration.days(30)),
                *kept,
            ],
        )
        self.results = private_bucket(
            self,
            "QueryResults",
            access_logs=access_logs,
            logs_prefix="query-results/",
            removal=removal,
            auto_delete=not production,
            bucket_name=results_bucket_name(stage),
            lifecycle_rules=[
                s3.LifecycleRule(id="results-expire", expiration=RESULTS_EXPIRE),
                s3.LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )


class Lake(Construct):
    """Firehose, Glue, the Athena workgroup and the views; ``grant_queries`` lets a function run reports."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        bus: events.IEventBus,
        buckets: LakeBuckets,
        factory: FunctionFactory,
        target_dlq: sqs.IQueue,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.lake_bucket, self.results_bucket = buckets.lake, buckets.results
        self.database = database_name(stage)
        self.workgroup = workgroup_name(stage)
        self.tables = lake.event_tables(REPO / "events" / "schemas")
        self._delivery(bus, target_dlq, removal)
        self._catalog()
        self._workgroup(removal)
        self._views(factory)

    # --- bus -> Firehose -> S3 ---------------------------------------------------------------------

    def _delivery(self, bus: events.IEventBus, target_dlq: sqs.IQueue, removal: RemovalPolicy) -> None:
        log_group = logs.LogGroup(self, "DeliveryLogs", retention=LOG_RETENTION, removal_policy=removal)
        destination = firehose.S3Bucket(
            self.lake_bucket,
            dynamic_partitioning=firehose.DynamicPartitioningProps(enabled=True),
            processors=[
                firehose.MetadataExtractionProcessor.jq16(dict(lake.PARTITION_QUERIES)),
                firehose.AppendDelimiterToRecordProcessor(),
            ],
            data_output_prefix=lake.OBJECT_PREFIX,
            error_output_prefix=lake.ERROR_PREFIX,
            file_extension=lake.FILE_EXTENSION,
            compression=firehose.Compression.GZIP,
            buffering_interval=BUFFER_INTERVAL,
            buffering_size=BUFFER_SIZE,
            logging_config=firehose.EnableLogging(log_group),
        )
        self.stream = firehose.DeliveryStream(
            self,
            "Delivery",
            delivery_stream_name=f"helpdesk-{self.stage}-lake",
            destination=destination,
            encryption=firehose.StreamEncryption.aws_owned_key(),
        )
        Validations.of(Stack.of(self)).acknowledge(
            Acknowledgment(
                id="CloudFormation-Validate::W7001",
                reason="aws-cdk-lib's Firehose construct adds a mapping of its service CIDR blocks, used only by "
                "Redshift and Splunk destinations; the lake's S3 destination doesn't need it.",
            )
        )
        for action in ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*"):
            nag(self.stream).acknowledge(
                id=f"AwsSolutions-IAM5[Action::{action}]",
                reason="Firehose's destination role as aws-cdk-lib grants it on the one lake bucket: Firehose "
                "writes, lists and aborts multipart uploads of its own objects there.",
            )
        nag(self.stream).acknowledge(
            id=f"AwsSolutions-IAM5[Resource::{self.lake_bucket.stack.stack_name}:"
            f"ExportsOutputFnGetAttEventLakeAA068743ArnB9599CC2/*]",
            reason="Firehose writes objects whose keys it makes (partition prefix, stream, time, id) anywhere in "
            "the lake bucket, errors included; the grant names that one bucket.",
        )
        rule = events.Rule(
            self,
            "ToLake",
            event_bus=bus,
            description="Every event the helpdesk publishes, into the event lake",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
        )
        # The L2 Firehose target takes no DLQ or retry policy; set them on the rule's target directly.
        role = iam.Role(
            self,
            "RuleRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="The to-lake rule puts events into the lake's Firehose stream",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["firehose:PutRecord", "firehose:PutRecordBatch"],
                resources=[self.stream.delivery_stream_arn],
            )
        )
        cfn_rule = rule.node.default_child
        assert isinstance(cfn_rule, events.CfnRule)
        nag(rule).acknowledge(
            id="Serverless-EventBusDLQ",
            reason="The target's dead-letter queue (the alarmed event-targets DLQ) is set by a property override "
            "with an ARN the rule pack can't resolve at synth; the infrastructure test checks it is there.",
        )
        cfn_rule.add_property_override(
            "Targets",
            [
                {
                    "Id": "lake",
                    "Arn": self.stream.delivery_stream_arn,
                    "RoleArn": role.role_arn,
                    "DeadLetterConfig": {"Arn": target_dlq.queue_arn},
                    "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 24 * 3600},
                }
            ],
        )
        target_dlq.add_to_resource_policy(
            iam.PolicyStatement(
                sid="LakeRuleDeadLetters",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[target_dlq.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
            )
        )

    # --- Glue --------------------------------------------------------------------------------------

    def _catalog(self) -> None:
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database, description="The helpdesk's domain events and the reports' views"
            ),
        )
        bucket = self.lake_bucket.bucket_name
        for table in self.tables:
            prefix = f"s3://{bucket}/{lake.object_prefix(table.detail_type, '')}".removesuffix("dt=/")
            resource = glue.CfnTable(
                self,
                f"Table{table.detail_type}",
                catalog_id=Aws.ACCOUNT_ID,
                database_name=self.database,
                table_input=glue.CfnTable.TableInputProperty(
                    name=table.raw,
                    description=f"{table.detail_type} events as the bus delivered them (detail only)",
                    table_type="EXTERNAL_TABLE",
                    partition_keys=[glue.CfnTable.ColumnProperty(name="dt", type="string")],
                    parameters={
                        "classification": "json",
                        "compressionType": "gzip",
                        "projection.enabled": "true",
                        "projection.dt.type": "date",
                        "projection.dt.format": "yyyy-MM-dd",
                        "projection.dt.range": f"{lake.FIRST_DAY},NOW",
                        "projection.dt.interval": "1",
                        "projection.dt.interval.unit": "DAYS",
                        "storage.location.template": prefix + "dt=${dt}/",
                    },
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        columns=[glue.CfnTable.ColumnProperty(name="detail", type=table.glue_struct())],
                        location=prefix,
                        input_format="org.apache.hadoop.mapred.TextInputFormat",
                        output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                        serde_info=glue.CfnTable.SerdeInfoProperty(
                            serialization_library="org.openx.data.jsonserde.JsonSerDe",
                            parameters={"case.insensitive": "false"},
                        ),
                    ),
                ),
            )
            resource.node.add_dependency(database)

    # --- Athena ------------------------------------------------------------------------------------

    def _workgroup(self, removal: RemovalPolicy) -> None:
        self.workgroup_resource = athena.CfnWorkGroup(
            self,
            "Workgroup",
            name=self.workgroup,
            description="The helpdesk reports: the lake's views, a scan limit per query, encrypted results",
            recursive_delete_option=removal is RemovalPolicy.DESTROY,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results_bucket.bucket_name}/athena/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )

    def statements(self) -> list[str]:
        """What the views custom resource runs, in order: the base views, then the metric views."""
        return [table.base_view_sql() for table in self.tables] + [view.sql for view in metric_views()]

    def _views(self, factory: FunctionFactory) -> None:
        function = factory.build(
            FunctionSpec(
                name="lake-views",
                handler=LAKE_VIEWS_HANDLER,
                description="Creates the lake's views on Athena at deployment",
                timeout=Duration.minutes(10),
                environment={"LAKE_DATABASE": self.database, "LAKE_WORKGROUP": self.workgroup},
            ),
            scope=self,
        )
        nag(function).acknowledge(
            id="Serverless-LambdaDLQ",
            reason="Invoked synchronously by CloudFormation's custom-resource provider, which reports failures "
            "to the stack; there is no asynchronous failure to keep.",
        )
        self.grant_queries(function, create_views=True)
        # The function answers CloudFormation itself (its response URL), so no provider framework is needed.
        views = CustomResource(
            self,
            "Views",
            service_token=function.function_arn,
            resource_type="Custom::LakeViews",
            properties={"Statements": self.statements()},
        )
        views.node.add_dependency(self.workgroup_resource)
        for child in self.node.children:
            if isinstance(child, Construct) and child.node.id.startswith("Table"):
                views.node.add_dependency(child)

    # --- grants ------------------------------------------------------------------------------------

    def allow_queries(self, function: lambda_.Function) -> None:
        """``function`` runs the reports' queries: it learns the database and workgroup, and may query."""
        function.add_environment("LAKE_DATABASE", self.database)
        function.add_environment("LAKE_WORKGROUP", self.workgroup)
        self.grant_queries(function)

    def grant_queries(self, grantee: iam.IGrantable, *, create_views: bool = False) -> None:
        """Run queries in the workgroup over the lake (and, for the custom resource, create views)."""
        stack = Stack.of(self)
        workgroup_arn = stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup)
        catalog = stack.format_arn(service="glue", resource="catalog")
        database = stack.format_arn(service="glue", resource="database", resource_name=self.database)
        tables = stack.format_arn(service="glue", resource="table", resource_name=f"{self.database}/*")
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "athena:StartQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:StopQueryExecution",
                ],
                resources=[workgroup_arn],
            )
        )
        glue_actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"]
        if create_views:
            glue_actions += ["glue:CreateTable", "glue:UpdateTable"]
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=glue_actions, resources=[catalog, database, tables])
        )
        lake_arn = f"arn:{Aws.PARTITION}:s3:::{lake_bucket_name(self.stage)}"
        results_arn = f"arn:{Aws.PARTITION}:s3:::{results_bucket_name(self.stage)}"
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{lake_arn}/{lake.EVENTS_PREFIX}*"])
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resources=[f"{results_arn}/athena/*"],
            )
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[lake_arn, results_arn],
            )
        )
        role = getattr(grantee, "role", None) or grantee
        rendered = "arn:<AWS::Partition>:s3:::helpdesk-{}-{}-<AWS::AccountId>-<AWS::Region>"
        for finding, reason in (
            (
                f"Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/{self.database}/*",
                "Athena reads every table and view of the lake's own database (one per detail type, plus the "
                "views); the grant names that database and nothing else.",
            ),
            (
                f"Resource::{rendered.format(self.stage, 'lake')}/{lake.EVENTS_PREFIX}*",
                "Athena reads the event objects under the lake's events/ prefix, whose keys Firehose generates "
                "per partition and buffer; the grant names that prefix of the one bucket.",
            ),
            (
                f"Resource::{rendered.format(self.stage, 'query-results')}/athena/*",
                "Athena writes each query's results under a key of its own making in the workgroup's result "
                "prefix; the grant names that prefix of the results bucket.",
            ),
        ):
            nag(role).acknowledge(id=f"AwsSolutions-IAM5[{finding}]", reason=reason)  # type: ignore[arg-type]
