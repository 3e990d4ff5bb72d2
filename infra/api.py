"""The REST API: one surface per ``helpdesk.surfaces`` entry, each behind its authorizer.

- ``/messenger/...``: the messenger Lambda authorizer verifies the customer token; a refused token
  becomes a 401 whose body carries the authorizer's reason (ACCESS_DENIED gateway response).
- ``/inbox/...``: the Cognito user pool authorizer; groups are team ids.
- The OpenAPI documents, Swagger UI, the visitor-token endpoint and the exchange of links from emails
  (which carry their own signed link token) are the only public routes.

Access logs (JSON), stage throttling, X-Ray, execution logging and a WAF web ACL (``infra.firewall``:
the rate limits of ``helpdesk.surfaces.RATE_LIMITS``) come with it.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from helpdesk.surfaces import API_SURFACES

from infra.firewall import web_acl
from infra.nag import nag
from infra.security_headers import gateway_response_headers

AUTHORIZER_CACHE = Duration.minutes(1)
"""Short on purpose. The decision is cached per Authorization header and covers every route of the
stage (the authorizer allows ``<api>/<stage>/*``), so a customer's burst of calls costs one
authorizer run; but a token that expires, or a rotated messenger secret, stops working within a
minute. (0 would re-verify every call, adding the authorizer's latency to each request.)"""
PUBLIC_METHODS = {"/messenger/visitors": "POST", "/messenger/links": "POST", "/messenger/links/renewals": "POST"}
"""How each public path is called; GET unless listed. The tests check this against the handlers'
own routes, so a public route can't be wired with the wrong method."""
JSON_HEADERS = {"Content-Type": "'application/json'"}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        functions: dict[str, lambda_.IFunction],
        messenger_authorizer: lambda_.IFunction,
        user_pool: cognito.IUserPool,
        allowed_origins: list[str],
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="Helpdesk messenger and inbox APIs",
            # Execution logging needs the account's API Gateway CloudWatch role. It is account-wide,
            # shared with every other REST API in the region: keep it when this stack goes away.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=stage,
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                throttling_rate_limit=200,
                throttling_burst_limit=400,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=allowed_origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
                max_age=Duration.minutes(10),
            ),
        )
        nag(self.rest_api).acknowledge(
            id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            reason="The account-level role API Gateway needs to write execution logs; AWS maintains this policy.",
        )
        validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        # Gateway-made errors (401 from an authorizer, throttling) can't vary the header per origin:
        # they name the first allowed origin, or every origin when any is allowed.
        cors = {"Access-Control-Allow-Origin": f"'{allowed_origins[-1] if '*' not in allowed_origins else '*'}'"}
        # and the security headers every API answer carries (helpdesk.security_headers)
        answer_headers = {**JSON_HEADERS, **cors, **gateway_response_headers()}
        gateway_error = '{"error": "gateway", "message": $context.error.messageString}'
        unauthorized = '{{"error": "unauthorized", "message": "{}"}}'
        for name, response_type, status, body in (
            ("Denied", apigw.ResponseType.ACCESS_DENIED, "401", unauthorized.format("$context.authorizer.reason")),
            ("Unauthorized", apigw.ResponseType.UNAUTHORIZED, "401", unauthorized.format("a valid token is required")),
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX, None, gateway_error),  # the status of the error
            ("Default5xx", apigw.ResponseType.DEFAULT_5_XX, None, gateway_error),
        ):
            self.rest_api.add_gateway_response(
                name,
                type=response_type,
                status_code=status,
                response_headers=answer_headers,
                templates={"application/json": body},
            )

        customer_authorizer = apigw.RequestAuthorizer(
            self,
            "MessengerAuthorizer",
            handler=messenger_authorizer,
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            results_cache_ttl=AUTHORIZER_CACHE,
        )
        agent_authorizer = apigw.CognitoUserPoolsAuthorizer(self, "InboxAuthorizer", cognito_user_pools=[user_pool])
        authorizers = {"customer": customer_authorizer, "agent": agent_authorizer}
        for surface in API_SURFACES:
            integration = apigw.LambdaIntegration(functions[surface.name])
            authorization_type = (
                apigw.AuthorizationType.CUSTOM if surface.auth == "customer" else apigw.AuthorizationType.COGNITO
            )
            protected = apigw.MethodOptions(
                authorizer=authorizers[surface.auth], authorization_type=authorization_type, request_validator=validator
            )
            root = self.rest_api.root.resource_for_path(surface.prefix)  # /inbox/reports nests under /inbox
            root.add_method(
                "ANY",
                integration,
                authorizer=authorizers[surface.auth],
                authorization_type=authorization_type,
                request_validator=validator,
            )
            root.add_proxy(default_integration=integration, default_method_options=protected, any_method=True)
            for path in surface.public_paths:
                resource = self.rest_api.root.resource_for_path(path)  # its own resource: wins over {proxy+}
                method = PUBLIC_METHODS.get(path, "GET")
                public = resource.add_method(
                    method, integration, authorization_type=apigw.AuthorizationType.NONE, request_validator=validator
                )
                nag(public).acknowledge(
                    id="AwsSolutions-APIG4",
                    reason=f"{path} is public by design: the API description, the endpoint that gives an "
                    "anonymous visitor their (restricted) token, or a link from an email, which carries its own "
                    "signed, single-use link token.",
                )
                nag(public).acknowledge(
                    id="AwsSolutions-COG4",
                    reason=f"{path} is public by design and takes no identity.",
                )
            if surface.auth == "customer":
                for api_method in self.rest_api.methods:
                    if api_method.resource.path.startswith(surface.prefix) and api_method.http_method != "OPTIONS":
                        nag(api_method).acknowledge(
                            id="AwsSolutions-COG4",
                            reason="Customers are not Cognito users: the business signs their tokens, verified "
                            "by the messenger Lambda authorizer.",
                        )

        self.web_acl = web_acl(self, stage_arn=self.rest_api.deployment_stage.stage_arn)

    def url_for(self, path: str) -> str:
        return self.rest_api.url_for_path(path)
