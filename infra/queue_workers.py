"""The asynchronous workers: one Lambda per ``QUEUE_CONSUMERS`` entry, each behind its own queue.

Every worker gets an encrypted, TLS-only queue whose visibility timeout is six times the function's,
a dead-letter queue after 5 receives (alarmed), partial-batch-failure reporting, leave to send to its
own queue (a worker queues its next page) and to read and write the table's items. A consumer with a
``schedule`` also gets an EventBridge rule putting a tick into its queue, so scheduled work goes
through the same queue, retries and DLQ as any other.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from helpdesk.surfaces import QUEUE_CONSUMERS, QueueConsumer

from infra.functions import FunctionFactory, FunctionSpec
from infra.messaging import camel
from infra.monitoring import Monitoring
from infra.nag import nag
from infra.table_access import grant_table_items

WORKER_TIMEOUT = Duration.seconds(60)
MAX_RECEIVES = 5
SCHEDULE_RETRY_ATTEMPTS = 3


class QueueWorkers(Construct):
    """``queues`` and ``workers`` by consumer name; ``environment`` is every queue's URL for producers."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        monitoring: Monitoring,
        own_layers: Mapping[str, lambda_.ILayerVersion] | None = None,
    ) -> None:
        """``own_layers``: by worker name, a layer in place of the common one (the thumbnailer's)."""
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        self.workers: dict[str, lambda_.Function] = {}
        for consumer in QUEUE_CONSUMERS:
            self._worker(consumer, factory, table, monitoring, (own_layers or {}).get(consumer.name))

    def _worker(
        self,
        consumer: QueueConsumer,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        monitoring: Monitoring,
        layer: lambda_.ILayerVersion | None,
    ) -> None:
        dlq = sqs.Queue(
            self,
            f"{camel(consumer.name)}Dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
            nag(dlq).acknowledge(id=rule, reason="This is a dead-letter queue; it has no dead-letter queue of its own.")
        queue = sqs.Queue(
            self,
            f"{camel(consumer.name)}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(WORKER_TIMEOUT.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=MAX_RECEIVES),
        )
        worker = factory.build(
            FunctionSpec(
                name=consumer.name,
                handler=consumer.handler,
                description=f"Worker fed by the {consumer.name} queue",
                timeout=WORKER_TIMEOUT,
                environment={consumer.queue_url_env: queue.queue_url},
                layer=layer,
            ),
            scope=self,
        )
        worker.add_event_source(
            event_sources.SqsEventSource(queue, batch_size=consumer.batch_size, report_batch_item_failures=True)
        )
        if consumer.schedule is not None:
            # A scheduled worker gets its ticks through its queue, like any other work.
            events.Rule(
                self,
                f"{camel(consumer.name)}Schedule",
                schedule=events.Schedule.expression(consumer.schedule),
                targets=[
                    events_targets.SqsQueue(
                        queue,
                        message=events.RuleTargetInput.from_object({"tick": True}),
                        dead_letter_queue=dlq,  # a tick EventBridge can't deliver is kept and alarmed
                        retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                    )
                ],
            )
        nag(worker).acknowledge(
            id="Serverless-LambdaEventSourceMappingDestination",
            reason="SQS event sources can't take an on-failure destination; failed messages go to the "
            f"queue's dead-letter queue after {MAX_RECEIVES} receives, which is alarmed.",
        )
        nag(worker).acknowledge(
            id="Serverless-LambdaDLQ",
            reason="Invoked only by its SQS event source, never asynchronously; the queue's DLQ catches failures.",
        )
        queue.grant_send_messages(worker)  # a worker queues its next page
        grant_table_items(worker, table)
        monitoring.watch_dead_letter_queue(consumer.name, dlq)
        self.queues[consumer.name] = queue
        self.workers[consumer.name] = worker

    def worker(self, consumer: QueueConsumer) -> lambda_.Function:
        return self.workers[consumer.name]

    @property
    def environment(self) -> dict[str, str]:
        """Every queue's URL under the variable producers read it from."""
        return {c.queue_url_env: self.queues[c.name].queue_url for c in QUEUE_CONSUMERS}
