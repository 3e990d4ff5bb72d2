"""Every Python function of the synthesized app, run from its built artifacts as Lambda runs it.

For each function in the templates: its code asset as ``/var/task``, its layer as ``/opt``, the
Lambda runtime's own boto3 and friends, nothing else, in an isolated interpreter with no system
time-zone database; its ``Handler`` string imported and called with a sample event from
``events/``, against moto's server holding the template's resources (``cloud_resources``). The
layer is the deployed one's x86_64 twin: the same requirements, built the same way for this
machine. This is the evidence that ``cdk deploy`` gives working functions.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpdesk.surfaces import API_SURFACES, EVENT_PUBLISHER, LIVE_FANOUT, QUEUE_CONSUMERS, SEARCH_INDEXER

from tests.infra.cloud_resources import CloudResources, moto_server
from tests.infra.conftest import REPO, Assembly, exclusive
from tests.infra.lambda_runtime import LambdaLayout, Outcome, runtime_packages

SERVICE = "Helpdesk-dev-Service"


def api_answered(result: Any) -> bool:
    return 200 <= int(result["statusCode"]) < 300


def no_failed_records(result: Any) -> bool:
    return result == {"batchItemFailures": []}


def allowed(result: Any) -> bool:
    return bool(result["policyDocument"]["Statement"][0]["Effect"] == "Allow")


@dataclass(frozen=True)
class Invocation:
    sample: str
    """``events/<sample>.json``."""
    succeeded: Callable[[Any], bool]


INVOCATIONS: dict[str, Invocation] = {
    "messenger-api": Invocation("messenger_api/start_conversation", api_answered),
    "inbox-api": Invocation("inbox_api/create_ticket", api_answered),  # SLA deadlines in Europe/London hours
    "messenger-authorizer": Invocation("messenger_authorizer/request", allowed),
    EVENT_PUBLISHER.name: Invocation("event_publisher/ticket_created", no_failed_records),
    "tracker-fanout": Invocation("tracker_fanout/page", no_failed_records),
    "snooze-waker": Invocation("snooze_waker/tick", no_failed_records),
    "workflow-starter": Invocation("workflow_starter/ticket_created", no_failed_records),
    "workflow-tasks": Invocation("workflow_tasks/tick", no_failed_records),
    "notifier": Invocation("notifier/status_update", no_failed_records),
    "inbound-events": Invocation("inbound_events/order_updated", no_failed_records),
    "email-feedback": Invocation("email_feedback/complaint", no_failed_records),
    "email-ingest": Invocation("email_ingest/received", no_failed_records),
    "reports-api": Invocation("reports_api/openapi", api_answered),
    "report-rollup": Invocation("report_rollup/tick", no_failed_records),
    "privacy-tasks": Invocation("privacy_tasks/export", no_failed_records),  # an export nobody recorded: dropped
    "live-socket": Invocation("live_socket/ping", api_answered),
    "live-authorizer": Invocation("live_authorizer/connect", lambda result: "policyDocument" in result),
    LIVE_FANOUT.name: Invocation("live_fanout/agent_reply", no_failed_records),
    SEARCH_INDEXER.name: Invocation("search_indexer/agent_reply", no_failed_records),
    "thumbnailer": Invocation("thumbnailer/image_uploaded", no_failed_records),  # a PNG uploaded: drawn small
}
"""One sample per function; a Python function in the templates without one fails the test."""
THUMBNAILS_LAYER = "PillowLayer"
"""The logical id's beginning of the thumbnailer's layer, which replaces the common one for it."""


@dataclass(frozen=True)
class PythonFunction:
    stack: str
    logical_id: str
    name: str
    handler: str
    code: Path
    layers: list[str]
    """Logical ids of its layers (in ``stack``)."""
    environment: dict[str, Any]
    memory_mb: int


def python_functions(assembly: Assembly) -> dict[str, PythonFunction]:
    """Every function of a Python runtime in the templates, by its declared name."""
    found: dict[str, PythonFunction] = {}
    for stack, template in assembly.templates.items():
        for logical_id, resource in template["Resources"].items():
            properties = resource["Properties"]
            if resource["Type"] != "AWS::Lambda::Function" or not properties.get("Runtime", "").startswith("python"):
                continue
            if "ZipFile" in properties.get("Code", {}):
                continue  # aws-cdk-lib's inline BucketNotificationsHandler: no asset, runs only at deploy time
            variables = properties.get("Environment", {}).get("Variables", {})
            name = variables.get("POWERTOOLS_SERVICE_NAME", logical_id)
            found[name] = PythonFunction(
                stack=stack,
                logical_id=logical_id,
                name=name,
                handler=properties["Handler"],
                code=assembly.asset_dir(properties["Code"]),
                layers=[layer["Ref"] for layer in properties.get("Layers", [])],
                environment=variables,
                memory_mb=int(properties.get("MemorySize", 128)),
            )
    return found


def dependency_layer(assembly: Assembly) -> tuple[str, str]:
    """(stack, logical id) of the one layer our functions use (but the thumbnailer): the third-party dependencies."""
    ours = [f for f in python_functions(assembly).values() if f.name in INVOCATIONS and f.name != "thumbnailer"]
    [layer] = {(f.stack, f.layers[0]) for f in ours}
    return layer


def cdk_own_functions(assembly: Assembly) -> set[str]:
    """aws-cdk-lib's own Python functions (the BucketDeployment handler that copies the pages at deploy time)."""
    return {name for name in python_functions(assembly) if name.startswith("CustomCDKBucketDeployment")}


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((REPO / "events" / f"{name}.json").read_text())
    return event


@dataclass
class World:
    """The twin layer, the runtime's packages, and moto's server holding the app's resources."""

    assembly: Assembly
    resources: CloudResources
    twin_layer: Path
    runtime: Path
    layouts_root: Path

    def layer_dir(self, stack: str, layer_id: str) -> Path:
        """A layer as deployed, except the dependency layer, which is replaced by its twin for this machine."""
        if (stack, layer_id) == dependency_layer(self.assembly):
            return self.twin_layer
        if layer_id.startswith(THUMBNAILS_LAYER):
            from infra.bundling import HOST_ARCH, build_layer

            return build_layer(HOST_ARCH, group="thumbnails")  # the thumbnailer's only layer, for this machine
        asset = self.assembly.asset_dir(self.assembly.templates[stack]["Resources"][layer_id]["Properties"]["Content"])
        return asset if asset.exists() else asset.with_name(asset.name + ".zip")

    def layout(self, function: PythonFunction, *, code: Path | None = None, layer: Path | None = None) -> LambdaLayout:
        layers = [layer] if layer else [self.layer_dir(function.stack, layer_id) for layer_id in function.layers]
        root = self.layouts_root / f"{function.logical_id}-{len(list(self.layouts_root.iterdir()))}"
        return LambdaLayout.build(root, code or function.code, layers, self.runtime)

    def invoke(self, function: PythonFunction, layout: LambdaLayout, handler: str | None = None) -> Outcome:
        invocation = INVOCATIONS[function.name]
        event = sample(invocation.sample)
        environment = self.resources.environment(function.stack, function.environment)
        if function.name == "messenger-authorizer":
            event = signed_in(event, self.resources.secret_values[environment["MESSENGER_SECRET_ARN"]])
        if function.name == "email-ingest":
            event = self.received_email(event, environment["INBOUND_EMAIL_BUCKET"])
        if function.name == "thumbnailer":
            self.uploaded_image(event, environment["ATTACHMENTS_BUCKET"])
        return layout.invoke(
            handler or function.handler,
            event,
            {**environment, **self.endpoint_environment},
            name=function.name,
            memory_mb=function.memory_mb,
        )

    def uploaded_image(self, event: dict[str, Any], bucket: str) -> None:
        """The picture the sample's notification announces, stored under its key in the attachments bucket
        (the stateful stack's, which the service stack names but the world doesn't build)."""
        from PIL import Image

        s3 = self.resources.client("s3")
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
        picture = io.BytesIO()
        Image.new("RGB", (800, 600), (200, 40, 40)).save(picture, format="PNG")
        key = json.loads(event["Records"][0]["body"])["Records"][0]["s3"]["object"]["key"]
        s3.put_object(Bucket=bucket, Key=key, Body=picture.getvalue())

    def received_email(self, event: dict[str, Any], bucket: str) -> dict[str, Any]:
        """What SES receiving stored before it announced the sample's email: the raw message, under the
        key the notification names, in this stack's inbound bucket (which the notification then names)."""
        notification = json.loads(event["Records"][0]["body"])
        notification["receipt"]["action"]["bucketName"] = bucket
        raw = (
            "From: Frank <frank@example.net>\r\nTo: support@help.demo-shop.example\r\n"
            "Subject: Dented lamp\r\nMessage-ID: <layout-test@example.net>\r\n"
            "Date: Wed, 04 Mar 2026 09:15:22 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Hello, my lamp arrived dented.\r\n"
        )
        key = notification["receipt"]["action"]["objectKey"]
        self.resources.client("s3").put_object(Bucket=bucket, Key=key, Body=raw.encode())
        return {"Records": [event["Records"][0] | {"body": json.dumps(notification)}]}

    @property
    def endpoint_environment(self) -> dict[str, str]:
        """What Lambda gives every function (region, credentials), with the SDK pointed at moto's server."""
        return {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "layout-test",
            "AWS_SECRET_ACCESS_KEY": "layout-test",
            "AWS_SESSION_TOKEN": "layout-test",
            "AWS_ENDPOINT_URL": self.resources.endpoint,
        }


def signed_in(event: dict[str, Any], secret: str) -> dict[str, Any]:
    """The authorizer's sample with a customer token really signed with the deployed secret."""
    from helpdesk.auth.customer_tokens import sign_customer_token

    token = sign_customer_token(secret, "demo-customer-1", ttl_seconds=300)
    return {**event, "headers": {**event["headers"], "Authorization": f"Bearer {token}"}}


def twin_layer(shared: Path) -> Path:
    from infra.bundling import HOST_ARCH, build_layer

    with exclusive(shared / "twin-layer.lock"):  # pytest-xdist workers build it once
        return build_layer(HOST_ARCH)


@pytest.fixture(scope="module")
def world(assembly: Assembly, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[World]:
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    scratch = tmp_path_factory.mktemp("lambda-layout")
    runtime = runtime_packages(scratch / "runtime-root")
    (scratch / "layouts").mkdir()
    with moto_server(scratch / "moto.log") as endpoint:
        resources = CloudResources(endpoint, assembly.templates, assembly.outdir)
        # What the code reaches by name rather than through its environment: the status-update email
        # template, and the sender address the operator verifies in SES before deploying (infra/README.md).
        resources.make_all(SERVICE, "AWS::SES::Template")
        resources.make_all(SERVICE, "AWS::Athena::WorkGroup")  # named in the lake functions' settings
        for function in python_functions(assembly).values():
            sender = function.environment.get("NOTIFY_FROM_EMAIL")
            if sender:
                resources.client("ses").verify_email_identity(EmailAddress=sender)
        yield World(assembly, resources, twin_layer(shared), runtime, scratch / "layouts")


def test_every_python_function_in_the_templates_has_a_sample_to_run(assembly: Assembly) -> None:
    functions = python_functions(assembly)
    ours = {s.name + "-api" for s in API_SURFACES} | {c.name for c in QUEUE_CONSUMERS}
    ours |= {EVENT_PUBLISHER.name, "messenger-authorizer"}
    assert ours <= set(functions)
    assert set(functions) - cdk_own_functions(assembly) - {"lake-views"} == set(INVOCATIONS), "a function nobody ran"


def test_the_lake_views_function_creates_the_views_from_its_layout(world: World) -> None:
    # Run with its own sample but checked apart: its last step answers CloudFormation at the request's
    # https pre-signed URL, which moto's plain-http S3 can't give (and which it rightly refuses).
    function = python_functions(world.assembly)["lake-views"]
    layout = world.layout(function)
    # (answered to moto's S3, never to the sample's address at AWS: the function refuses a plain-http URL)
    s3 = world.resources.client("s3")
    s3.create_bucket(Bucket="layout-test-cfn-responses")
    answer_url = s3.generate_presigned_url("put_object", Params={"Bucket": "layout-test-cfn-responses", "Key": "r"})
    event = sample("lake_views/create") | {"ResponseURL": answer_url}
    environment = {**world.resources.environment(function.stack, function.environment), **world.endpoint_environment}
    statements = event["ResourceProperties"]["Statements"]

    outcome = layout.invoke(function.handler, event, environment, name=function.name, memory_mb=function.memory_mb)

    # Then every view was run on Athena, in the workgroup its settings name, and only then the answer refused
    athena = world.resources.client("athena")
    ran = athena.list_query_executions(WorkGroup=environment["LAKE_WORKGROUP"])["QueryExecutionIds"]
    assert len(ran) >= len(statements), outcome.describe()
    assert outcome.error_type == "ValueError", outcome.describe()
    assert "https pre-signed S3 URL" in outcome.describe()
    assert outcome.foreign_modules == []


def check_runs(world: World, function: PythonFunction, layout: LambdaLayout, handler: str | None = None) -> None:
    """The layout test itself: the handler, invoked with the function's sample, answers as it should,
    having imported nothing from outside the layout."""
    outcome = world.invoke(function, layout, handler)
    assert outcome.error_type is None, outcome.describe()
    assert INVOCATIONS[function.name].succeeded(outcome.result), f"{outcome.result}\n{outcome.log[-3000:]}"
    assert outcome.foreign_modules == []


@pytest.mark.parametrize("name", sorted(INVOCATIONS))
def test_the_function_runs_from_its_artifacts_as_lambda_lays_them_out(world: World, name: str) -> None:
    function = python_functions(world.assembly)[name]
    check_runs(world, function, world.layout(function))


def test_the_thumbnailer_draws_a_thumbnail_with_its_one_layer_in_place_of_the_common_one(world: World) -> None:
    function = python_functions(world.assembly)["thumbnailer"]
    assert [layer for layer in function.layers if layer.startswith(THUMBNAILS_LAYER)] == function.layers
    check_runs(world, function, world.layout(function))
    bucket = world.resources.environment(function.stack, function.environment)["ATTACHMENTS_BUCKET"]
    thumbnails = world.resources.client("s3").list_objects_v2(Bucket=bucket, Prefix="thumbnails/")
    assert [o["Key"] for o in thumbnails.get("Contents", [])] == [
        "thumbnails/attachments/cus_01JZ8Q7W3K4M5N6P7R8S9T0V1W/att_01JZ8Q9B2C3D4E5F6G7H8J9K0M.jpg"
    ]


def layer_without(layer: Path, distribution: str, into: Path) -> Path:
    """The layer as pip would have built it had ``distribution`` not been in the requirements."""
    from infra.bundling import canonical_name

    shutil.copytree(layer, into, symlinks=True)
    site = into / "python"
    [info] = [p for p in site.glob("*.dist-info") if canonical_name(p.name.split("-", 1)[0]) == distribution]
    for line in (info / "RECORD").read_text().splitlines():
        (site / line.split(",", 1)[0]).unlink(missing_ok=True)
    shutil.rmtree(info, ignore_errors=True)
    for directory in sorted((d for d in site.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True):
        if not any(directory.iterdir()):  # what only that distribution had
            directory.rmdir()
    return into


@pytest.mark.parametrize(
    ("distribution", "function_name"),
    [("pyjwt", "messenger-authorizer"), ("tzdata", "inbox-api")],
)
def test_the_layout_test_fails_when_a_dependency_is_left_out_of_the_layer(
    world: World, distribution: str, function_name: str, tmp_path: Path
) -> None:
    function = python_functions(world.assembly)[function_name]
    # Given the layer built without one of the requirements the function needs
    layer = layer_without(world.twin_layer, distribution, tmp_path / "layer")
    # When the layout test runs the function, Then it fails
    with pytest.raises(AssertionError):
        check_runs(world, function, world.layout(function, layer=layer))


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        ("helpdesk.handlers.notifier.handler", "Runtime.HandlerNotFound"),
        ("helpdesk.handler.notifier.lambda_handler", "Runtime.ImportModuleError"),
    ],
)
def test_the_layout_test_fails_when_a_handler_string_is_wrong(world: World, handler: str, error: str) -> None:
    function = python_functions(world.assembly)["notifier"]
    with pytest.raises(AssertionError, match=error):
        check_runs(world, function, world.layout(function), handler=handler)


def test_named_time_zones_work_with_only_the_layer_for_time_zone_data(world: World) -> None:
    function = python_functions(world.assembly)["inbox-api"]
    layout = world.layout(function)
    outcome = layout.probe(
        "import zoneinfo, datetime, tzdata\n"
        "london = datetime.datetime(2026, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo('Europe/London'))\n"
        "result = {'tzpath': list(zoneinfo.TZPATH), 'offset': london.utcoffset().total_seconds(), "
        "'tzdata': tzdata.__file__}\n"
    )
    assert outcome.error_type is None, outcome.describe()
    assert outcome.result["tzpath"] == [], "no system time-zone database, as on Lambda"
    assert outcome.result["offset"] == 3600, "British Summer Time, from the layer's tzdata"
    assert outcome.result["tzdata"].startswith(str(layout.opt / "python")), "tzdata comes from the layer"


def test_the_twin_layer_is_the_deployed_layer_for_this_machine(world: World, assembly: Assembly) -> None:
    stack, layer_id = dependency_layer(assembly)
    deployed = assembly.asset_dir(assembly.templates[stack]["Resources"][layer_id]["Properties"]["Content"])

    def distributions(layer: Path) -> set[str]:
        return {p.name.removesuffix(".dist-info") for p in (layer / "python").glob("*.dist-info")}

    assert distributions(world.twin_layer) == distributions(deployed), "same requirements, same versions"
    assert any(name.startswith("tzdata-") for name in distributions(deployed))


def test_cdks_own_python_function_imports_its_handler_from_its_layout(world: World, assembly: Assembly) -> None:
    # Not invoked: it runs the AWS CLI from the absolute path /opt/awscli and waits for CloudFront
    # invalidations 20 s at a time. What can break on our side is its layout: code, layer, handler string.
    for name in cdk_own_functions(assembly):
        function = python_functions(assembly)[name]
        layout = world.layout(function)
        module, _, attribute = function.handler.rpartition(".")
        aws_cli = str(layout.opt / "awscli" / "aws")
        outcome = layout.probe(
            f"import importlib, os\nhandler = getattr(importlib.import_module({module!r}), {attribute!r}, None)\n"
            f"result = {{'callable': callable(handler), 'aws_cli': os.path.exists({aws_cli!r})}}\n",
            world.endpoint_environment,
        )
        assert outcome.error_type is None, outcome.describe()
        assert outcome.result == {"callable": True, "aws_cli": True}
        assert outcome.foreign_modules == []
