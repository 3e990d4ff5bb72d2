"""A small factory for the system's Lambda functions, so every one is built the same way.

arm64, Python 3.13, the shared layer, powertools settings, X-Ray active tracing, JSON logs in a
log group of fixed retention, a role of its own that starts with nothing but writing its logs (the
caller then grants exactly what the function uses), and error/throttle alarms from the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import layer_code
from infra.monitoring import Monitoring
from infra.nag import nag

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
RUNTIME = lambda_.Runtime.PYTHON_3_13


def dependency_layer(scope: Construct) -> lambda_.LayerVersion:
    """The one layer of third-party dependencies every function uses (arm64, built without Docker)."""
    return lambda_.LayerVersion(
        scope,
        "Dependencies",
        code=layer_code(),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[lambda_.Architecture.ARM_64],
        description="Third-party dependencies of the helpdesk functions (built without Docker)",
    )


@dataclass
class FunctionSpec:
    name: str
    handler: str
    """Dotted ``module.function`` inside the code asset."""
    description: str
    memory_mb: int = 512
    timeout: Duration = field(default_factory=lambda: Duration.seconds(15))
    environment: dict[str, str] = field(default_factory=dict)
    layer: lambda_.ILayerVersion | None = None
    """A layer in place of the common one (the thumbnailer's: Pillow and the little it needs besides)."""


class FunctionFactory:
    def __init__(
        self,
        scope: Construct,
        *,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        environment: dict[str, str],
        removal: RemovalPolicy,
        monitoring: Monitoring,
    ) -> None:
        self._scope = scope
        self._monitoring = monitoring
        self._code = code
        self._layer = layer
        self._environment = dict(environment)
        self._removal = removal
        self.functions: list[lambda_.Function] = []

    def share_environment(self, environment: dict[str, str]) -> None:
        """Give every function, built already or later, these variables (resources created after some functions)."""
        self._environment.update(environment)
        for function in self.functions:
            for key, value in environment.items():
                function.add_environment(key, value)

    def build(self, spec: FunctionSpec, scope: Construct | None = None) -> lambda_.Function:
        """The function, its role and log group, under ``scope`` (the construct it belongs to)."""
        home = Construct(scope or self._scope, spec.name)
        log_group = logs.LogGroup(home, "Logs", retention=LOG_RETENTION, removal_policy=self._removal)
        role = iam.Role(
            home,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.name}: only what this function uses",
        )
        function = lambda_.Function(
            home,
            "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=spec.handler,
            code=self._code,
            layers=[spec.layer or self._layer],
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            role=role,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={
                **self._environment,
                "POWERTOOLS_SERVICE_NAME": spec.name,
                **spec.environment,
            },
        )
        log_group.grant_write(role)
        nag(role).acknowledge(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions; "
            "this is the only wildcard resource, added by active tracing.",
        )
        nag(function).acknowledge(
            id="AwsSolutions-L1",
            reason="Pinned to Python 3.13 on purpose: the layer's wheels are built for 3.13 and the local "
            "runtime and tests run on 3.13; moving runtime is a deliberate, tested upgrade.",
        )
        nag(function).acknowledge(
            id="Serverless-LambdaLatestVersion",
            reason="Pinned to Python 3.13 on purpose, matching the layer's wheels and the tested runtime.",
        )
        self._monitoring.watch_function(spec.name, function)
        self.functions.append(function)
        return function
