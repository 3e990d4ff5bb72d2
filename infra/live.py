"""The live channel: an API Gateway WebSocket API and the functions behind it (``helpdesk.surfaces.LIVE``).

- ``$connect`` runs the **live authorizer** (a customer's messenger JWT or an agent's Cognito ID token,
  sent in ``Sec-WebSocket-Protocol`` or as ``?token=``, since browsers can't set headers on a
  WebSocket), then the **live socket** function, which keeps the connection in the table with a TTL
  (``expires_at``: a little after API Gateway's 2 h limit, for when ``$disconnect`` never comes);
- ``$disconnect``, ``$default`` and the ``action`` routes (``watch``, ``unwatch``, ``typing``, ``ping``)
  go to the live socket function; ``ping`` answers through the route's response;
- the **live fan-out** reads the table's stream (a second reader beside the event publisher) and posts
  frames to the connections through the stage's management API.

Least privilege: ``execute-api:ManageConnections`` only on this API's stage's ``@connections``, POST for
the socket function (typing to others), POST and DELETE for the fan-out (a gone connection); table
deletes only on the live connections' partitions (``LIVE#``).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from helpdesk.adapters.store.live import connection_pk
from helpdesk.surfaces import LIVE, LIVE_FANOUT

from infra.functions import FunctionFactory, FunctionSpec
from infra.messaging import dead_letter_queue
from infra.monitoring import Monitoring
from infra.nag import nag
from infra.table_access import grant_table_items

LIVE_PARTITIONS = f"{connection_pk('')}*"
"""``LIVE#*``: the partitions of connections and their subscriptions, the only ones the live functions delete."""
FANOUT_RETRY_ATTEMPTS = 3
FANOUT_MAX_RECORD_AGE = Duration.minutes(5)
"""Frames are ephemeral: a page that missed one catches up through the APIs when it next reconnects."""
STAGE_THROTTLE = apigwv2.ThrottleSettings(rate_limit=500, burst_limit=1000)
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"routeKey":"$context.routeKey","eventType":"$context.eventType","status":"$context.status",'
    '"connectionId":"$context.connectionId","error":"$context.error.message",'
    '"authorizerError":"$context.authorizer.error","integrationError":"$context.integrationErrorMessage"}'
)


class LiveChannel(Construct):
    """``api`` and ``stage`` are the WebSocket API; ``url`` is what pages connect to (``wss://…``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        factory: FunctionFactory,
        table: dynamodb.ITableV2,
        messenger_secret: secretsmanager.ISecret,
        user_pool_id: str,
        agent_client_ids: list[str],
        monitoring: Monitoring,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.socket = factory.build(
            FunctionSpec(
                name="live-socket",
                handler=LIVE.handler,
                description="The live channel's WebSocket routes: connections, subscriptions, typing",
                memory_mb=256,
                timeout=Duration.seconds(10),
            ),
            scope=self,
        )
        self.authorizer = factory.build(
            FunctionSpec(
                name="live-authorizer",
                handler=LIVE.authorizer,
                description="Verifies customers' and agents' tokens on the live channel's $connect",
                memory_mb=256,
                timeout=Duration.seconds(5),
                environment={
                    "MESSENGER_SECRET_ARN": messenger_secret.secret_arn,
                    "COGNITO_USER_POOL_ID": user_pool_id,
                    "COGNITO_CLIENT_IDS": ",".join(agent_client_ids),
                },
            ),
            scope=self,
        )
        messenger_secret.grant_read(self.authorizer)
        self.fanout = self._fanout(factory, table, monitoring)
        for function in (self.socket, self.fanout):
            grant_table_items(function, table)
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:DeleteItem"],
                    resources=[table.table_arn],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [LIVE_PARTITIONS]}},
                )
            )
        for function, reason in (
            (self.socket, "Invoked synchronously by the WebSocket API only; errors go back to the client."),
            (self.authorizer, "Invoked synchronously by API Gateway as the $connect authorizer."),
        ):
            nag(function).acknowledge(id="Serverless-LambdaDLQ", reason=reason)

        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"helpdesk-{stage}-live",
            description="The messenger's and the inbox's live channel",
            route_selection_expression=LIVE.route_selection,
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("Connect", self.socket),
                # No identity source: the token may come in Sec-WebSocket-Protocol or ?token=, and the
                # authorizer refuses a connection that has neither (a 403 with its reason logged).
                authorizer=authorizers.WebSocketLambdaAuthorizer("Authorizer", self.authorizer, identity_source=[]),
            ),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("Disconnect", self.socket)
            ),
            default_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("Fallback", self.socket)
            ),
        )
        for route in LIVE.routes:
            if route.startswith("$"):
                continue
            self.api.add_route(
                route,
                integration=integrations.WebSocketLambdaIntegration(f"Route{route.title()}", self.socket),
                return_response=route in LIVE.responding_routes,
            )
        self.stage = apigwv2.WebSocketStage(
            self, "Stage", web_socket_api=self.api, stage_name=stage, auto_deploy=True, throttle=STAGE_THROTTLE
        )
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal)
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
        )
        self._acknowledge_routes()

        self.url = self.stage.url
        self.management_url = self.stage.callback_url
        api_arn = f"arn:{Aws.PARTITION}:execute-api:{Aws.REGION}:{Aws.ACCOUNT_ID}:{self.api.api_id}"

        def connections(method: str) -> str:
            return f"{api_arn}/{stage}/{method}/@connections/*"

        self.socket.add_to_role_policy(
            iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=[connections("POST")])
        )
        self.fanout.add_to_role_policy(
            iam.PolicyStatement(
                actions=["execute-api:ManageConnections"],
                resources=[connections("POST"), connections("DELETE")],
            )
        )
        cfn_api = self.api.node.default_child
        assert isinstance(cfn_api, apigwv2.CfnApi)
        rendered_api = Stack.of(self).resolve(Stack.of(self).get_logical_id(cfn_api))
        for function, methods in ((self.socket, ("POST",)), (self.fanout, ("POST", "DELETE"))):
            function.add_environment("LIVE_ENDPOINT", self.management_url)
            for method in methods:
                nag(function.role or function).acknowledge(
                    id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                    f"<{rendered_api}>/{stage}/{method}/@connections/*]",
                    reason="Connection ids are API Gateway's, one per open page: the grant names this API's stage "
                    "and the one method, never another API or stage.",
                )

    def _fanout(self, factory: FunctionFactory, table: dynamodb.ITableV2, monitoring: Monitoring) -> lambda_.Function:
        function = factory.build(
            FunctionSpec(
                name=LIVE_FANOUT.name,
                handler=LIVE_FANOUT.handler,
                description="Turns the table's committed changes into live frames for the connected pages",
                timeout=Duration.seconds(30),
            ),
            scope=self,
        )
        failures = dead_letter_queue(self, "FanoutFailuresDlq", monitoring, "live-fanout-failures")
        function.add_event_source(
            event_sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.LATEST,
                batch_size=LIVE_FANOUT.batch_size,
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                retry_attempts=FANOUT_RETRY_ATTEMPTS,
                max_record_age=FANOUT_MAX_RECORD_AGE,
                on_failure=event_sources.SqsDlq(failures),
            )
        )
        nag(function).acknowledge(
            id="Serverless-LambdaDLQ",
            reason="Invoked only by its DynamoDB stream event source; batches that keep failing go to the event "
            "source's on-failure queue, which is alarmed.",
        )
        return function

    def _acknowledge_routes(self) -> None:
        for child in self.api.node.find_all():
            if isinstance(child, apigwv2.CfnRoute) and child.route_key != "$connect":
                nag(child).acknowledge(
                    id="AwsSolutions-APIG4",
                    reason="A WebSocket API authorizes on $connect only; every later route runs on a connection "
                    "that passed it, and the function reads the identity it granted from the authorizer context.",
                )
