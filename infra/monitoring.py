"""Operators' view: alarms on every function's errors and throttles, the API's 5XX, every DLQ's depth,
every workflow's failed and timed-out executions, sent to one encrypted SNS topic, and a dashboard.

The function factory registers every function it builds (``watch_function``); whoever adds a queue
registers its dead-letter queue (``watch_dead_letter_queue``), so nothing asynchronous fails silently.
``watched_functions`` and ``watched_dlqs`` let the tests check that coverage.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.nag import nag

PERIOD = Duration.minutes(5)


def publishing_key(
    scope: Construct, construct_id: str, *, description: str, service: str, sid: str, removal: RemovalPolicy
) -> kms.Key:
    """A customer-managed key for topics that ``service`` (``events``, ``cloudwatch``) publishes to: the
    AWS-managed alias/aws/sns key's policy can't let a service encrypt what it publishes."""
    key = kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=removal,
        pending_window=Duration.days(7),
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(f"{service}.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        )
    )
    return key


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        removal: RemovalPolicy,
        alarm_email: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = publishing_key(
            self,
            "AlarmsKey",
            description="Encrypts the helpdesk alarm topic; CloudWatch alarms may publish through it",
            service="cloudwatch",
            sid="CloudWatchAlarmsPublish",
            removal=removal,
        )
        self.topic = sns.Topic(self, "Alarms", display_name="Helpdesk alarms", master_key=self.key, enforce_ssl=True)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        if alarm_email:  # AWS emails a confirmation link; alarms arrive once it is clicked
            subscription = self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            nag(subscription).acknowledge(
                id="Serverless-SNSRedrivePolicy",
                reason="Delivers alarms to a person's mailbox, with SNS's own email retries; a dead-letter "
                "queue of undelivered alarms would need a reader and an alarm of its own, and the alarm "
                "state stays visible in CloudWatch and on the dashboard either way.",
            )
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.alarms: list[cloudwatch.Alarm] = []
        self.watched_functions: dict[str, lambda_.IFunction] = {}
        self.watched_dlqs: dict[str, sqs.IQueue] = {}
        self.watched_state_machines: dict[str, sfn.IStateMachine] = {}

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str, threshold: float = 1) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)

    def watch_function(self, name: str, function: lambda_.IFunction) -> None:
        self._alarm(f"{name}Errors", function.metric_errors(period=PERIOD), f"{name}: the function raised errors")
        self._alarm(f"{name}Throttles", function.metric_throttles(period=PERIOD), f"{name}: invocations were throttled")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=name,
                left=[function.metric_invocations(period=PERIOD), function.metric_errors(period=PERIOD)],
                right=[function.metric_duration(period=PERIOD)],
            )
        )
        self.watched_functions[name] = function

    def watch_api(self, api: apigw.RestApi) -> None:
        self._alarm("Api5xx", api.metric_server_error(period=PERIOD), "The API answered with 5XX errors (a bug)")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API",
                left=[
                    api.metric_count(period=PERIOD),
                    api.metric_client_error(period=PERIOD),
                    api.metric_server_error(period=PERIOD),
                ],
                right=[api.metric_latency(period=PERIOD)],
            )
        )

    def show_bot_resolution_rate(self, namespace: str) -> None:
        """The share of conversations the bot settled without a person (``BotConversationsEnded``)."""
        ended = f'{{{namespace},outcome,resolved_by,service}} MetricName="BotConversationsEnded"'
        resolved = cloudwatch.MathExpression(
            expression=f"SUM(SEARCH('{ended} outcome=\"resolved\"', 'Sum', 3600))",
            using_metrics={},
            label="resolved by the bot",
            period=Duration.hours(1),
        )
        everything = cloudwatch.MathExpression(
            expression=f"SUM(SEARCH('{ended}', 'Sum', 3600))", using_metrics={}, label="ended", period=Duration.hours(1)
        )
        rate = cloudwatch.MathExpression(
            expression="100 * resolved / ended",
            using_metrics={"resolved": resolved, "ended": everything},
            label="bot resolution rate (%)",
            period=Duration.hours(1),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Bot resolution rate", left=[rate], right=[resolved, everything])
        )

    def watch_dead_letter_queue(self, name: str, queue: sqs.IQueue) -> None:
        """One message in a DLQ is an alarm: it is work a customer or agent expected to happen."""
        metric = queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1))
        self._alarm(
            f"{name}DlqDepth",
            metric,
            f"{name}: messages that could not be processed are waiting in the dead-letter queue",
        )
        self.dashboard.add_widgets(cloudwatch.GraphWidget(title=f"{name} dead letters", left=[metric]))
        self.watched_dlqs[name] = queue

    def watch_state_machine(self, name: str, state_machine: sfn.IStateMachine) -> None:
        """A failed or timed-out execution is a ticket whose clocks and reminders stopped."""
        failed = state_machine.metric_failed(period=PERIOD)
        timed_out = state_machine.metric_timed_out(period=PERIOD)
        self._alarm(f"{name}WorkflowFailed", failed, f"{name} workflow: executions failed")
        self._alarm(f"{name}WorkflowTimedOut", timed_out, f"{name} workflow: executions timed out")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"{name} workflow",
                left=[state_machine.metric_started(period=PERIOD), failed, timed_out],
            )
        )
        self.watched_state_machines[name] = state_machine
