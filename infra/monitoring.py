"""Operators' view: alarms on every function's errors and throttles, the API's 5XX, every DLQ's depth,
sent to one encrypted SNS topic, and a dashboard.

Later features register their functions and dead-letter queues here (``watch_function``,
``watch_dead_letter_queue``) so nothing asynchronous fails silently.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, dashboard_name: str) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Alarms",
            display_name="Helpdesk alarms",
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
            enforce_ssl=True,
        )
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.alarms: list[cloudwatch.Alarm] = []
        self.watched_dlqs: list[sqs.IQueue] = []

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
        period = Duration.minutes(5)
        self._alarm(f"{name}Errors", function.metric_errors(period=period), f"{name}: the function raised errors")
        self._alarm(f"{name}Throttles", function.metric_throttles(period=period), f"{name}: invocations were throttled")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=name,
                left=[function.metric_invocations(period=period), function.metric_errors(period=period)],
                right=[function.metric_duration(period=period)],
            )
        )

    def watch_api(self, api: apigw.RestApi) -> None:
        period = Duration.minutes(5)
        self._alarm("Api5xx", api.metric_server_error(period=period), "The API answered with 5XX errors (a bug)")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API",
                left=[
                    api.metric_count(period=period),
                    api.metric_client_error(period=period),
                    api.metric_server_error(period=period),
                ],
                right=[api.metric_latency(period=period)],
            )
        )

    def watch_dead_letter_queue(self, name: str, queue: sqs.IQueue) -> None:
        self._alarm(
            f"{name}DlqDepth",
            queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            f"{name}: messages that could not be processed are waiting in the dead-letter queue",
        )
        self.watched_dlqs.append(queue)
