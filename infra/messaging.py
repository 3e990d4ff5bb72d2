"""Domain events and topics, built from the declarations in ``helpdesk.surfaces``.

- the ``helpdesk-<stage>`` EventBridge bus, with an archive of everything this system publishes;
- one rule per ``EVENT_ROUTES`` entry, to a consumer's queue or a topic, retried, with a dead-letter
  queue on every target (the shared, alarmed ``event-targets`` DLQ);
- one SNS topic per ``TOPICS`` entry, encrypted with a customer-managed key (EventBridge and
  publishers may use it), TLS only; ``TOPIC_SUBSCRIPTIONS`` subscribe consumers' queues with raw
  message delivery (the queues use SQS-managed encryption, which SNS can deliver to; the AWS-managed
  ``aws/sqs`` key would refuse it);
- the stream consumer (``EVENT_PUBLISHER``): a Lambda on the table's DynamoDB stream that publishes
  domain events and status updates, with an alarmed on-failure destination.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from helpdesk.surfaces import (
    EVENT_BUS_ENV,
    EVENT_PUBLISHER,
    EVENT_ROUTES,
    EVENT_SOURCE,
    STATUS_UPDATES,
    TOPIC_SUBSCRIPTIONS,
    TOPICS,
    EventRoute,
)

from infra.functions import FunctionFactory, FunctionSpec
from infra.monitoring import Monitoring, publishing_key
from infra.nag import nag

ARCHIVE_RETENTION = Duration.days(30)
TARGET_RETRY_ATTEMPTS = 8
TARGET_MAX_EVENT_AGE = Duration.hours(24)
STREAM_RETRY_ATTEMPTS = 10
STREAM_MAX_RECORD_AGE = Duration.days(1)
EVENT_TARGETS_DLQ = "event-targets"
STREAM_FAILURES_DLQ = f"{EVENT_PUBLISHER.name}-failures"

RECORD_PART_KEYS = (
    "CONV#*",
    "TICKET#*",
    "FIRSTREPLY#*",
    "EMAILTHREAD#*",
    "ATTACHMENT#*",
    "OBJECT#*",
    "TAG#*",
    "FIND#*",
)
"""The partitions of what belongs to a conversation or ticket (``adapters/store/record_parts.py``)."""


def camel(name: str) -> str:
    """``workflow-tasks`` → ``WorkflowTasks``: construct ids from declared names."""
    return "".join(part.title() for part in name.split("-"))


def dead_letter_queue(scope: Construct, construct_id: str, monitoring: Monitoring, name: str) -> sqs.Queue:
    """An encrypted, TLS-only DLQ keeping messages 14 days, whose depth is alarmed."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
        nag(queue).acknowledge(id=rule, reason="This is a dead-letter queue; it has no dead-letter queue of its own.")
    monitoring.watch_dead_letter_queue(name, queue)
    return queue


def grant_publish(topic: sns.ITopic, key: kms.IKey, grantee: iam.IGrantable) -> None:
    """``sns:Publish`` on a KMS-encrypted topic: the publisher encrypts with the topic's key.

    Named actions rather than ``Topic.grant_publish``, whose ``kms:GenerateDataKey*`` is a wildcard.
    """
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn])
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn])
    )


class Messaging(Construct):
    """The event bus, its archive and rules, and the topics; ``environment`` is what functions learn of them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        queues: Mapping[str, sqs.IQueue],
        monitoring: Monitoring,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._monitoring = monitoring
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"helpdesk-{stage}")
        self.archive = self.bus.archive(
            "Archive",
            description=f"Every event the helpdesk published (source {EVENT_SOURCE}), for replay",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            retention=ARCHIVE_RETENTION,
        )
        self.target_dlq = dead_letter_queue(self, "EventTargetsDlq", monitoring, EVENT_TARGETS_DLQ)
        """Events a rule could not deliver and topic messages SNS could not deliver to a queue."""

        self.key = publishing_key(
            self,
            "TopicsKey",
            description="Encrypts the helpdesk topics; EventBridge rules may publish through it",
            service="events",
            sid="EventBridgeRulesPublish",
            removal=removal,
        )
        self.topics: dict[str, sns.Topic] = {
            topic.name: sns.Topic(
                self,
                f"{camel(topic.name)}Topic",
                topic_name=f"helpdesk-{stage}-{topic.name}",
                display_name=f"Helpdesk {topic.name}",
                master_key=self.key,
                enforce_ssl=True,
            )
            for topic in TOPICS
        }
        for topic_name, consumer in TOPIC_SUBSCRIPTIONS:
            self._topic(topic_name, f"subscription of {consumer}").add_subscription(
                subscriptions.SqsSubscription(
                    self._queue(queues, consumer, f"subscription to {topic_name}"),
                    raw_message_delivery=True,
                    dead_letter_queue=self.target_dlq,
                )
            )
        self.rules: dict[str, events.Rule] = {route.name: self._route(route, queues) for route in EVENT_ROUTES}

    def _topic(self, name: str, user: str) -> sns.Topic:
        if name not in self.topics:
            raise ValueError(f"{user} names topic {name!r}, which is not declared in TOPICS ({', '.join(self.topics)})")
        return self.topics[name]

    @staticmethod
    def _queue(queues: Mapping[str, sqs.IQueue], name: str, user: str) -> sqs.IQueue:
        if name not in queues:
            raise ValueError(f"{user} names queue consumer {name!r}, not one of QUEUE_CONSUMERS ({', '.join(queues)})")
        return queues[name]

    def _route(self, route: EventRoute, queues: Mapping[str, sqs.IQueue]) -> events.Rule:
        user = f"event route {route.name!r}"
        target: events.IRuleTarget
        if route.queue is not None and route.topic is None:
            target = events_targets.SqsQueue(
                self._queue(queues, route.queue, user),
                dead_letter_queue=self.target_dlq,
                retry_attempts=TARGET_RETRY_ATTEMPTS,
                max_event_age=TARGET_MAX_EVENT_AGE,
            )
        elif route.topic is not None and route.queue is None:
            target = events_targets.SnsTopic(
                self._topic(route.topic, user),
                dead_letter_queue=self.target_dlq,
                retry_attempts=TARGET_RETRY_ATTEMPTS,
                max_event_age=TARGET_MAX_EVENT_AGE,
            )
        else:
            raise ValueError(f"{user} must name exactly one target: a queue or a topic")
        if not route.pattern:
            raise ValueError(f"{user} has an empty pattern; it would match every event on the bus")
        rule = events.Rule(
            self,
            f"{camel(route.name)}Rule",
            event_bus=self.bus,
            description=f"{route.name}: {route.queue or route.topic}",
            # Replaced below by the declared pattern verbatim: EventPattern's typed fields can't carry
            # content filters such as {"anything-but": ...} in "source".
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            targets=[target],
        )
        cfn_rule = rule.node.default_child
        assert isinstance(cfn_rule, events.CfnRule)
        cfn_rule.add_property_override("EventPattern", route.pattern)
        return rule

    @property
    def environment(self) -> dict[str, str]:
        """The bus name and every topic's ARN, under the variables the code reads them from."""
        return {
            EVENT_BUS_ENV: self.bus.event_bus_name,
            **{topic.arn_env: self.topics[topic.name].topic_arn for topic in TOPICS},
        }

    def add_event_publisher(
        self, factory: FunctionFactory, table: dynamodb.ITableV2, state_machine_arns: list[str]
    ) -> lambda_.Function:
        """The stream consumer: reads the table's stream and publishes events and status updates.

        It reads the changed tickets (GetItem/Query), puts events on the bus, publishes to the
        status-update topic, and completes parked workflow tasks (``SendTaskSuccess`` is authorised
        on the state machine, hence ``state_machine_arns``).
        """
        function = factory.build(
            FunctionSpec(
                name=EVENT_PUBLISHER.name,
                handler=EVENT_PUBLISHER.handler,
                description="Publishes domain events and status updates from the table's stream",
                timeout=Duration.seconds(60),
            ),
            scope=self,
        )
        failures = dead_letter_queue(self, "StreamFailuresDlq", self._monitoring, STREAM_FAILURES_DLQ)
        function.add_event_source(
            event_sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=EVENT_PUBLISHER.batch_size,
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                retry_attempts=STREAM_RETRY_ATTEMPTS,
                max_record_age=STREAM_MAX_RECORD_AGE,
                on_failure=event_sources.SqsDlq(failures),
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:GetItem", "dynamodb:Query"], resources=[table.table_arn])
        )
        # A conversation or ticket its retention's TTL removed takes its other items with it (only those).
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(RECORD_PART_KEYS)}},
            )
        )
        self.bus.grant_put_events_to(function)
        grant_publish(self.topics[STATUS_UPDATES.name], self.key, function)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=state_machine_arns)
        )
        nag(function).acknowledge(
            id="Serverless-LambdaDLQ",
            reason="Invoked only by its DynamoDB stream event source, never asynchronously; records that keep "
            "failing go to the event source's on-failure destination, which is alarmed.",
        )
        return function
