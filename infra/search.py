"""The inbox search's infrastructure: the message index's bucket and the indexer on the stream.

- **Bucket**: the full-text index of messages as one object (an SQLite FTS5 database,
  ``messages.sqlite3``, see ``helpdesk/adapters/message_index.py``); encrypted, TLS only, private,
  access-logged. Derived data: the indexer rebuilds what the stream still holds, and an erasure reaches
  it through the stream. SQLite comes with the Lambda runtime's Python: no layer of its own.
- **Indexer**: the stream's third reader, ``SEARCH_INDEXER``, only for the items the search cares about
  (messages, conversations, customers, tickets: an event-source filter), bisecting failing batches, and
  sending what keeps failing to an alarmed on-failure queue. It may read and write the one index object
  and write and delete search keys (``FIND#`` partitions) in the table, nothing else.
- ``allow_search(function)``: the inbox function reads the index (GetObject on the one object).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from constructs import Construct
from helpdesk.adapters.message_index import INDEX_OBJECT
from helpdesk.adapters.search_keys import FIND_PREFIX
from helpdesk.surfaces import SEARCH_INDEXER

from infra.functions import FunctionFactory, FunctionSpec
from infra.messaging import dead_letter_queue
from infra.monitoring import Monitoring
from infra.nag import nag

INDEXER_RETRY_ATTEMPTS = 5
INDEXER_MAX_RECORD_AGE = Duration.hours(24)


class Search(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        monitoring: Monitoring,
        access_logs: s3.IBucket,
        removal: RemovalPolicy,
        is_production: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "MessageIndex",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="message-index/",
            removal_policy=removal,
            auto_delete_objects=not is_production,
        )
        self.indexer = self._indexer(factory, table, monitoring)

    @property
    def index_object_arn(self) -> str:
        return self.bucket.arn_for_objects(INDEX_OBJECT)

    def allow_search(self, function: lambda_.Function) -> None:
        """The function reads the index (and learns where it is); it may not change it."""
        function.add_environment("SEARCH_INDEX_BUCKET", self.bucket.bucket_name)
        function.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.index_object_arn]))
        self._allow_listing(function)

    def _allow_listing(self, function: lambda_.Function) -> None:
        # Without ListBucket, S3 answers "access denied" for the index before its first version, not "no such key".
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": [INDEX_OBJECT]}},
            )
        )

    def _indexer(self, factory: FunctionFactory, table: dynamodb.ITableV2, monitoring: Monitoring) -> lambda_.Function:
        function = factory.build(
            FunctionSpec(
                name=SEARCH_INDEXER.name,
                handler=SEARCH_INDEXER.handler,
                description="Keeps the full-text index of messages and the search keys up to date from the stream",
                memory_mb=1024,
                timeout=Duration.seconds(120),
                environment={"SEARCH_INDEX_BUCKET": self.bucket.bucket_name},
            ),
            scope=self,
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[self.index_object_arn])
        )
        self._allow_listing(function)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{FIND_PREFIX}*"]}},
            )
        )
        failures = dead_letter_queue(self, "IndexerFailuresDlq", monitoring, "search-indexer-failures")
        function.add_event_source(
            event_sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=SEARCH_INDEXER.batch_size,
                max_batching_window=Duration.seconds(2),
                bisect_batch_on_error=True,
                retry_attempts=INDEXER_RETRY_ATTEMPTS,
                max_record_age=INDEXER_MAX_RECORD_AGE,
                on_failure=event_sources.SqsDlq(failures),
                filters=[
                    lambda_.FilterCriteria.filter({"dynamodb": {"Keys": {"PK": {"S": [{"prefix": prefix}]}}}})
                    for prefix in ("CONV#", "CUSTOMER#", "TICKET#")
                ],
            )
        )
        nag(function).acknowledge(
            id="Serverless-LambdaDLQ",
            reason="Invoked only by its DynamoDB stream event source; batches that keep failing go to the event "
            "source's on-failure queue, which is alarmed.",
        )
        return function
