"""What a security and operations reviewer checks in the synthesized templates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpdesk.adapters.table_definition import table_definition
from helpdesk.surfaces import (
    API_SURFACES,
    EVENT_PUBLISHER,
    LIVE,
    LIVE_FANOUT,
    NOTIFIER,
    PRIVACY_TASKS,
    QUEUE_CONSUMERS,
    SEARCH_INDEXER,
    STREAM_CONSUMERS,
)

from tests.infra.conftest import Assembly

CDK_OWN_FUNCTIONS = ("CustomCDKBucketDeployment", "CustomS3AutoDeleteObjects", "BucketNotificationsHandler")
PACKAGE_LIMIT_MB = 25
"""Layer (with tzdata) + function code, unzipped; ``make bench`` reports the same figure."""


def our_functions(assembly: Assembly) -> dict[str, dict[str, Any]]:
    return {
        name: fn
        for name, fn in assembly.resources("AWS::Lambda::Function").items()
        if not any(marker in name for marker in CDK_OWN_FUNCTIONS)
    }


def declared_name(function: dict[str, Any]) -> str:
    """The name a function was declared with (``helpdesk.surfaces``): its powertools service name."""
    return str(function["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"])


def role_statements(assembly: Assembly, role_logical_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in assembly.resources("AWS::IAM::Policy").values():
        roles = [r.get("Ref") for r in policy["Properties"].get("Roles", [])]
        if role_logical_id in roles:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_app_synthesizes_with_no_unacknowledged_nag_findings(assembly: Assembly) -> None:
    report = json.loads((assembly.outdir / "validation-report.json").read_text())
    plugins = {plugin["pluginName"]: plugin for plugin in report["pluginReports"]}
    assert {"AwsSolutions", "Serverless"} <= set(plugins), "both cdk-nag packs ran"
    for name, plugin in plugins.items():
        assert plugin["violations"] == [], name
        # Every acknowledged finding is in the report with the reason given for it.
        for suppressed in plugin.get("suppressedViolations", []):
            assert len(suppressed["reason"].split()) >= 6, suppressed["acknowledgedId"]
    assert {"Helpdesk-dev-Data", "Helpdesk-dev-Service"} <= set(assembly.templates)


def test_every_function_is_arm64_python313_traced_with_json_logs(assembly: Assembly) -> None:
    functions = our_functions(assembly)
    expected = {s.name for s in API_SURFACES} | {c.name for c in QUEUE_CONSUMERS}
    expected |= {
        "messenger-authorizer",
        EVENT_PUBLISHER.name,
        "lake-views",
        "live-socket",
        "live-authorizer",
        LIVE_FANOUT.name,
        SEARCH_INDEXER.name,
    }
    assert len(functions) == len(expected)
    for name, function in functions.items():
        properties = function["Properties"]
        assert properties["Architectures"] == ["arm64"], name
        assert properties["Runtime"] == "python3.13", name
        assert properties["TracingConfig"] == {"Mode": "Active"}, name
        assert properties["LoggingConfig"]["LogFormat"] == "JSON", name
        assert properties["Layers"], name


def test_every_function_role_names_its_actions_and_resources(assembly: Assembly) -> None:
    for name, function in our_functions(assembly).items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = role_statements(assembly, role_id)
        assert statements, name
        for statement in statements:
            actions = as_list(statement["Action"])
            for action in actions:
                assert "*" not in action or action.startswith("xray:"), (name, action)
                assert action != "dynamodb:Scan", name
            if "*" not in as_list(statement["Resource"]):
                continue
            # X-Ray has no resource-level permissions; nor has SMS to a phone number (the notifier only).
            unnamable = {a for a in actions if a.startswith("xray:")}
            if declared_name(function) == NOTIFIER.name:
                unnamable |= {a for a in actions if a == "sns:Publish"}
            assert set(actions) == unnamable, (name, statement)


def dynamodb_grants(assembly: Assembly, function_logical_id: str) -> list[dict[str, Any]]:
    stack = assembly.templates["Helpdesk-dev-Service"]["Resources"]
    role_id = stack[function_logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        s for s in role_statements(assembly, role_id) if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
    ]


DELETES = {"inbox-api": "TEAM#*", "live-socket": "LIVE#*", LIVE_FANOUT.name: "LIVE#*"}
"""Who deletes items, and from which partitions only: roster entries, live connections and subscriptions."""


def test_functions_get_named_table_actions_and_delete_only_roster_entries_and_live_connections(
    assembly: Assembly,
) -> None:
    from infra.table_access import INDEX_ACTIONS, TABLE_ACTIONS

    by_name = {declared_name(fn): name.split("/")[1] for name, fn in our_functions(assembly).items()}
    for name, logical_id in by_name.items():
        grants = dynamodb_grants(assembly, logical_id)
        if name in ("messenger-authorizer", "live-authorizer"):
            assert grants == [], "the authorizers only read the messenger secret"
            continue
        if name in (EVENT_PUBLISHER.name, LIVE_FANOUT.name, SEARCH_INDEXER.name):
            stream_grants = [s for s in grants if "dynamodb:GetRecords" in as_list(s["Action"])]
            assert stream_grants
            assert all("StreamArn" in json.dumps(s["Resource"]) for s in stream_grants)
            grants = [s for s in grants if s not in stream_grants]
        if name == SEARCH_INDEXER.name:
            assert [(set(as_list(s["Action"])), s["Condition"]) for s in grants] == [
                (
                    {"dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:DeleteItem"},
                    {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["FIND#*"]}},
                )
            ], "the search indexer writes and deletes search keys only"
            continue
        if name == EVENT_PUBLISHER.name:
            directory = [s for s in grants if "dynamodb:PutItem" in as_list(s["Action"])]
            assert [s["Condition"] for s in directory] == [
                {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["EMAILADDR#*"]}}
            ], "the event publisher writes only the email address directory"
            grants = [s for s in grants if s not in directory]
            # An expired conversation's or ticket's other items (test_messaging.py checks the partitions)
            parts = [s for s in grants if "dynamodb:BatchWriteItem" in as_list(s["Action"])]
            assert [set(as_list(s["Action"])) for s in parts] == [{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem"}]
            assert all("LeadingKeys" in json.dumps(s["Condition"]) for s in parts)
            grants = [s for s in grants if s not in parts]
            read = {a for s in grants for a in as_list(s["Action"])}
            assert read == {"dynamodb:GetItem", "dynamodb:Query"}, "otherwise the event publisher only reads the table"
        if name == PRIVACY_TASKS.name:
            # An erasure deletes the customer's items: in their partitions only, never a whole-table grant
            erasing = [s for s in grants if "dynamodb:BatchWriteItem" in as_list(s["Action"])]
            assert [set(as_list(s["Action"])) for s in erasing] == [{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem"}]
            leading = erasing[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            assert {"CUSTOMER#*", "CONV#*", "TICKET#*", "FIND#*", "EMAILADDR#*"} <= set(leading)
            assert "*" not in leading
            grants = [s for s in grants if s not in erasing]
        actions = {a for s in grants for a in as_list(s["Action"])}
        assert actions <= {*TABLE_ACTIONS, "dynamodb:DeleteItem"}, name
        for statement in grants:
            statement_actions = set(as_list(statement["Action"]))
            rendered = json.dumps(statement["Resource"])
            if "/index/" in rendered:
                assert statement_actions == set(INDEX_ACTIONS), (name, statement)
                assert "index/*" not in rendered, "indexes are named"
            if "dynamodb:DeleteItem" in statement_actions:
                assert name in DELETES, "only the inbox (roster entries) and the live channel (connections) delete"
                assert statement_actions == {"dynamodb:DeleteItem"}
                leading = [DELETES[name]]
                assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": leading}}
        if name == "inbox-api":
            assert "dynamodb:DeleteItem" in actions, "agents leaving a team are taken off its roster"


def test_the_table_keeps_point_in_time_recovery_encryption_and_the_models_schema(assembly: Assembly) -> None:
    definition = table_definition()
    [table] = assembly.resources("AWS::DynamoDB::GlobalTable").values()
    properties = table["Properties"]
    replica = properties["Replicas"][0]
    assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["StreamSpecification"]["StreamViewType"] == definition.stream_view_type
    assert properties["TimeToLiveSpecification"] == {"AttributeName": definition.ttl_attribute, "Enabled": True}
    assert properties["KeySchema"] == [
        {"AttributeName": definition.partition_key.name, "KeyType": "HASH"},
        {"AttributeName": definition.sort_key.name, "KeyType": "RANGE"},
    ]
    indexes = {i["IndexName"]: i["KeySchema"] for i in properties["GlobalSecondaryIndexes"]}
    assert indexes == {
        i.name: [
            {"AttributeName": i.partition_key.name, "KeyType": "HASH"},
            {"AttributeName": i.sort_key.name, "KeyType": "RANGE"},
        ]
        for i in definition.indexes
    }


def dead_letter_queue_ids(assembly: Assembly) -> set[str]:
    """Every queue something dead-letters into: queue redrives, rule targets, subscriptions, stream failures."""
    stack = assembly.templates["Helpdesk-dev-Service"]["Resources"]
    ids: set[str] = set()
    for resource in stack.values():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::SQS::Queue", "AWS::SNS::Subscription") and "RedrivePolicy" in properties:
            ids.add(properties["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0])
        if resource["Type"] == "AWS::Events::Rule":
            ids |= {t["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0] for t in properties["Targets"]}
        if resource["Type"] == "AWS::Lambda::EventSourceMapping" and "DestinationConfig" in properties:
            ids.add(properties["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0])
    return ids


def test_every_queue_has_a_dead_letter_queue_and_every_dlq_an_alarm(assembly: Assembly) -> None:
    queues = assembly.resources("AWS::SQS::Queue")
    stack = assembly.templates["Helpdesk-dev-Service"]["Resources"]
    dlq_ids = dead_letter_queue_ids(assembly)
    # one per consumer queue, one for event-rule targets and topic subscriptions, one per stream consumer
    assert len(dlq_ids) == len(QUEUE_CONSUMERS) + 1 + len(STREAM_CONSUMERS)
    for name in queues:
        logical_id = name.split("/")[1]
        assert logical_id in dlq_ids or queues[name]["Properties"].get("RedrivePolicy"), name
    alarmed = {
        dim["Value"]["Fn::GetAtt"][0]
        for alarm in assembly.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for dim in alarm["Properties"]["Dimensions"]
    }
    assert dlq_ids <= alarmed
    assert all(stack[d]["Properties"]["SqsManagedSseEnabled"] for d in dlq_ids)


def test_every_function_has_error_and_throttle_alarms(assembly: Assembly) -> None:
    alarms = assembly.resources("AWS::CloudWatch::Alarm").values()
    watched: dict[str, set[str]] = {}
    for alarm in alarms:
        for dimension in alarm["Properties"].get("Dimensions", []):
            if dimension["Name"] == "FunctionName":
                watched.setdefault(dimension["Value"]["Ref"], set()).add(alarm["Properties"]["MetricName"])
    for name in our_functions(assembly):
        assert watched.get(name.split("/")[1]) == {"Errors", "Throttles"}, name


def test_every_api_method_has_an_authorizer_except_the_public_ones(assembly: Assembly) -> None:
    resources = assembly.resources("AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            resource = resources[f"Helpdesk-dev-Service/{logical_id}"]["Properties"]
            parent = resource["ParentId"]
            prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{prefix}/{resource['PathPart']}"
        return paths[logical_id]

    public = {p for s in API_SURFACES for p in s.public_paths}
    checked = 0
    for method in assembly.resources("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        if properties["HttpMethod"] == "OPTIONS":
            continue
        resource_ref = properties["ResourceId"]
        path = path_of(resource_ref["Ref"]) if "Ref" in resource_ref else "/"
        if path in public:
            assert properties["AuthorizationType"] == "NONE", path
            continue
        expected = "CUSTOM" if path.startswith("/messenger") else "COGNITO_USER_POOLS"
        assert properties["AuthorizationType"] == expected, path
        assert "AuthorizerId" in properties, path
        checked += 1
    assert checked >= 4


def test_every_log_group_keeps_logs_for_a_fixed_time(assembly: Assembly) -> None:
    groups = assembly.resources("AWS::Logs::LogGroup")
    assert groups
    for name, group in groups.items():
        assert group["Properties"].get("RetentionInDays"), name


def test_buckets_are_private_encrypted_and_tls_only(assembly: Assembly) -> None:
    policies = assembly.resources("AWS::S3::BucketPolicy").values()
    tls_denied = {
        policy["Properties"]["Bucket"]["Ref"]
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    }
    for name, bucket in assembly.resources("AWS::S3::Bucket").items():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True, name
        assert properties["BucketEncryption"], name
        assert name.split("/")[1] in tls_denied, name


def test_the_layer_has_time_zone_data_but_no_boto3_and_stays_within_25_mb_with_the_code(assembly: Assembly) -> None:
    from infra.bundling import RUNTIME_PROVIDED, directory_size, installed_distributions

    layers = assembly.resources("AWS::Lambda::LayerVersion")
    functions = our_functions(assembly)
    layer_refs = {
        json.dumps(fn["Properties"]["Layers"][0]) for fn in functions.values() if declared_name(fn) != "thumbnailer"
    }
    assert len(layer_refs) == 1, "every function uses the one dependency layer (first), but the thumbnailer"
    layer_id = json.loads(layer_refs.pop())["Ref"]
    layer = assembly.asset_dir(layers[f"Helpdesk-dev-Service/{layer_id}"]["Properties"]["Content"])
    site = layer / "python"
    installed = installed_distributions(site)
    assert not installed & RUNTIME_PROVIDED, "the Lambda runtime provides these"
    assert {"aws-lambda-powertools", "pydantic-core", "pynamodb", "tzdata"} <= installed
    assert not list(site.rglob("__pycache__")), "no bytecode built for this machine's Python"

    code_assets = {assembly.asset_dir(fn["Properties"]["Code"]) for fn in functions.values()}
    assert len(code_assets) == 1, "every function ships the same code asset"
    code = code_assets.pop()
    assert {p.name for p in code.iterdir()} == {"helpdesk", "workspace"}
    assert (code / "workspace" / "workspace.yaml").is_file()
    assert not list(code.rglob("__pycache__"))

    total = directory_size(layer) + directory_size(code)
    print(f"layer {directory_size(layer) / 1e6:.1f} MB + code {directory_size(code) / 1e6:.2f} MB unzipped")
    print(f"synthesis took {assembly.synth_seconds:.1f} s")
    assert total <= PACKAGE_LIMIT_MB * 1024 * 1024, f"layer + code must stay within {PACKAGE_LIMIT_MB} MB"


def test_every_function_with_all_its_layers_stays_within_the_package_budget(assembly: Assembly) -> None:
    """The inbox and the search indexer search with SQLite (in the runtime's Python): no layer of their own;
    the thumbnailer's one layer (Pillow and what it needs besides) replaces the common one."""
    from infra.bundling import directory_size

    layers = assembly.resources("AWS::Lambda::LayerVersion")
    sizes: dict[str, int] = {}
    layer_counts: dict[str, int] = {}
    for name, function in our_functions(assembly).items():
        stack = name.split("/", 1)[0]
        refs = function["Properties"]["Layers"]
        parts = [layers[f"{stack}/{ref['Ref']}"]["Properties"]["Content"] for ref in refs]
        parts.append(function["Properties"]["Code"])
        sizes[declared_name(function)] = sum(directory_size(assembly.asset_dir(part)) for part in parts)
        layer_counts[declared_name(function)] = len(refs)
    largest = max(sizes, key=sizes.__getitem__)
    print(f"largest function: {largest}, {sizes[largest] / 1e6:.1f} MB unzipped with its layers")
    assert layer_counts["inbox-api"] == 1, "the inbox function carries the common layer only"
    assert layer_counts["search-indexer"] == 1, "so does the search indexer"
    assert layer_counts["thumbnailer"] == 1, "the thumbnailer's layer replaces the common one"
    over = {n: round(size / 1024 / 1024, 1) for n, size in sizes.items() if size > PACKAGE_LIMIT_MB * 1024 * 1024}
    assert over == {}, f"layers + code must stay within {PACKAGE_LIMIT_MB} MB"


def test_the_thumbnailers_layer_pins_what_it_shares_with_the_common_layer_as_the_common_layer_does() -> None:
    from infra.bundling import canonical_name, extra_dependencies, runtime_dependencies

    common = {canonical_name(r): r for r in runtime_dependencies()}
    shared = [r for r in extra_dependencies("thumbnails") if canonical_name(r) in common]
    assert shared, "the thumbnailer's layer carries powertools, pydantic and python-ulid too"
    assert {canonical_name(r): r for r in shared} == {canonical_name(r): common[canonical_name(r)] for r in shared}


def test_the_search_indexer_reads_the_stream_and_writes_only_search_keys_and_the_index(assembly: Assembly) -> None:
    functions = our_functions(assembly)
    [indexer] = [name for name, fn in functions.items() if declared_name(fn) == "search-indexer"]
    mappings = [
        m
        for m in assembly.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": indexer.split("/")[-1]}
    ]
    assert len(mappings) == 1
    assert mappings[0]["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    assert mappings[0]["Properties"]["BisectBatchOnFunctionError"] is True
    statements = [
        st
        for policy in assembly.resources("AWS::IAM::Policy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            r == {"Ref": functions[indexer]["Properties"]["Role"]["Fn::GetAtt"][0]}
            for r in policy["Properties"]["Roles"]
        )
    ]
    writes = [
        st
        for st in statements
        if any(a == "dynamodb:DeleteItem" for a in st["Action"] if isinstance(st["Action"], list))
    ]
    assert writes, statements
    assert all(st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["FIND#*"] for st in writes)


def test_a_finding_nobody_acknowledged_fails_synthesis(tmp_path: Path) -> None:
    # Given an app with the same compliance checks and a queue that breaks AwsSolutions rules
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    from infra.app import add_compliance_checks

    app = cdk.App(outdir=str(tmp_path))
    sqs.Queue(cdk.Stack(app, "Probe"), "Unprotected")
    add_compliance_checks(app)
    # When it is synthesized, Then synthesis fails and the report names the rule
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    failed = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert "AwsSolutions-SQS3" in failed


def test_cfn_lint_finds_no_errors(assembly: Assembly) -> None:
    templates = sorted(str(p) for p in assembly.outdir.glob("*.template.json"))
    assert len(templates) >= 2
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--format", "json", "--", *templates], capture_output=True, text=True, check=False
    )
    # Exit code bits: 2 errors, 4 warnings, 8 informational; anything else means it didn't lint.
    assert result.returncode & ~(2 | 4 | 8) == 0, result.stderr
    findings = json.loads(result.stdout)
    errors = [f"{f['Rule']['Id']} {f['Filename']}: {f['Message']}" for f in findings if f["Level"] == "Error"]
    assert errors == []


def test_alarms_reach_an_encrypted_topic_that_cloudwatch_may_publish_to(assembly: Assembly) -> None:
    stack = assembly.templates["Helpdesk-dev-Service"]["Resources"]
    [(topic_id, topic)] = [
        (k, v) for k, v in stack.items() if k.startswith("MonitoringAlarms") and v["Type"] == "AWS::SNS::Topic"
    ]
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = stack[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    # The AWS-managed alias/aws/sns key can't grant CloudWatch: alarms would be dropped silently.
    cloudwatch_grants = [
        s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert cloudwatch_grants
    assert set(cloudwatch_grants[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    [topic_policy] = [
        v
        for v in stack.values()
        if v["Type"] == "AWS::SNS::TopicPolicy" and {"Ref": topic_id} in v["Properties"]["Topics"]
    ]
    statements = topic_policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Allow" and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in statements)
    alarms = assembly.resources("AWS::CloudWatch::Alarm")
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}], name


def test_public_routes_are_wired_with_the_methods_the_handlers_serve() -> None:
    from helpdesk.api import inbox as inbox_api
    from helpdesk.api import messenger as messenger_api
    from helpdesk.api import reports as reports_api

    from infra.api import PUBLIC_METHODS

    documents = {
        "messenger": messenger_api.app.get_openapi_schema(),
        "inbox": inbox_api.app.get_openapi_schema(),
        "reports": reports_api.app.get_openapi_schema(),
    }
    for surface in API_SURFACES:
        paths = documents[surface.name].paths or {}
        for path in surface.public_paths:
            if path.endswith(("/openapi.json", "/docs")):
                assert PUBLIC_METHODS.get(path, "GET") == "GET", path
                continue
            served = {m.upper() for m in paths[path].model_dump(exclude_none=True)}
            assert {PUBLIC_METHODS.get(path, "GET")} == served, path


def test_refused_tokens_get_a_json_401_with_the_reason_and_errors_carry_cors(assembly: Assembly) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in assembly.resources("AWS::ApiGateway::GatewayResponse").values()
    }
    denied = responses["ACCESS_DENIED"]
    assert denied["StatusCode"] == "401"
    assert "$context.authorizer.reason" in denied["ResponseTemplates"]["application/json"]
    assert responses["UNAUTHORIZED"]["StatusCode"] == "401"
    for kind in ("ACCESS_DENIED", "UNAUTHORIZED", "DEFAULT_4XX", "DEFAULT_5XX"):
        headers = responses[kind]["ResponseParameters"]
        assert headers["gatewayresponse.header.Content-Type"] == "'application/json'", kind
        assert "gatewayresponse.header.Access-Control-Allow-Origin" in headers, kind
        body = responses[kind]["ResponseTemplates"]["application/json"]
        json.loads(body.replace("$context.error.messageString", '""'))  # JSON once API Gateway fills it in


def test_the_stage_logs_access_throttles_and_sits_behind_the_waf(assembly: Assembly) -> None:
    [stage] = assembly.resources("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["AccessLogSetting"]["DestinationArn"]
    assert properties["TracingEnabled"] is True
    [settings] = properties["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] > 0
    [acl] = assembly.resources("AWS::WAFv2::WebACL").values()
    statements = [rule["Statement"] for rule in acl["Properties"]["Rules"]]
    managed = {s["ManagedRuleGroupStatement"]["Name"] for s in statements if "ManagedRuleGroupStatement" in s}
    assert "AWSManagedRulesCommonRuleSet" in managed
    assert any("RateBasedStatement" in s for s in statements)
    [association] = assembly.resources("AWS::WAFv2::WebACLAssociation").values()
    assert "/stages/" in json.dumps(association["Properties"]["ResourceArn"]), "attached to the stage"


def test_the_stacks_output_what_an_operator_needs(assembly: Assembly) -> None:
    outputs = {name for template in assembly.templates.values() for name in template.get("Outputs", {})}
    expected = {
        "ApiUrl",
        "MessengerApiUrl",
        "InboxApiUrl",
        "MessengerOpenApiUrl",
        "InboxOpenApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "MessengerSecretArn",
        "TableName",
        "AlarmTopicArn",
        "EmailSecretArn",
        "InboundEmailBucket",
        "EmailReceiptRuleSet",
        "SupportAddress",
        "LiveUrl",
    }
    assert expected <= outputs
    secrets = assembly.resources("AWS::SecretsManager::Secret").values()
    assert len(secrets) == 2, "the messenger secret and the email secret"
    for secret in secrets:
        assert "SecretString" not in secret["Properties"], "the value is generated in AWS, never in a template"
        assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32


def test_prod_keeps_its_data_and_refuses_a_wildcard_origin() -> None:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.config import DeploymentConfig
    from infra.stateful import StatefulStack
    from tests.infra.conftest import cdk_json_context

    # Given the prod stage without a messenger origin, Then the configuration is refused
    with pytest.raises(ValueError, match="messenger_origin"):
        DeploymentConfig.from_context(cdk.App(context={**cdk_json_context(), "stage": "prod"}))
    # Given prod with its origin, When the data stack is synthesized
    app = cdk.App(context={**cdk_json_context(), "stage": "prod", "messenger_origin": "https://shop.example.com"})
    data = Template.from_stack(StatefulStack(app, "Data", config=DeploymentConfig.from_context(app))).to_json()
    # Then the table is protected and everything holding data or identities is retained on delete
    [table] = [r for r in data["Resources"].values() if r["Type"] == "AWS::DynamoDB::GlobalTable"]
    assert table["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is True
    for kind in (
        "AWS::DynamoDB::GlobalTable",
        "AWS::Cognito::UserPool",
        "AWS::SecretsManager::Secret",
        "AWS::S3::Bucket",
    ):
        for resource in (r for r in data["Resources"].values() if r["Type"] == kind):
            assert resource["DeletionPolicy"] == "Retain", kind
    assert not [r for r in data["Resources"].values() if r["Type"] == "Custom::S3AutoDeleteObjects"]


def test_an_alarm_email_is_subscribed_and_passes_the_checks(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from infra.app import add_compliance_checks
    from infra.monitoring import Monitoring

    # Given monitoring deployed with -c alarm_email=...
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Alarms")
    Monitoring(
        stack, "Monitoring", dashboard_name="d", removal=cdk.RemovalPolicy.DESTROY, alarm_email="oncall@example.com"
    )
    add_compliance_checks(app)
    # When synthesized (a nag finding would raise), Then the address is subscribed to the alarm topic
    app.synth()
    template = json.loads((tmp_path / "Alarms.template.json").read_text())
    [subscription] = [r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"


def test_the_live_channel_is_a_websocket_api_authorized_on_connect_with_least_privilege(assembly: Assembly) -> None:
    # The WebSocket API routes on the client message's action, with every route the live surface declares
    [api] = assembly.resources("AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["Properties"]["RouteSelectionExpression"] == LIVE.route_selection
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"] for r in assembly.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == set(LIVE.routes)
    # $connect runs the live authorizer (a Lambda REQUEST authorizer); the later routes ride its connection
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    [authorizer] = assembly.resources("AWS::ApiGatewayV2::Authorizer").values()
    assert authorizer["Properties"]["AuthorizerType"] == "REQUEST"
    assert "liveauthorizer" in json.dumps(authorizer["Properties"]["AuthorizerUri"])
    assert all(routes[r]["AuthorizationType"] == "NONE" for r in LIVE.routes if r != "$connect")
    assert {r for r, p in routes.items() if "RouteResponseSelectionExpression" in p} == set(LIVE.responding_routes)
    # The stage logs access and is throttled
    [stage] = assembly.resources("AWS::ApiGatewayV2::Stage").values()
    assert "DestinationArn" in stage["Properties"]["AccessLogSettings"]
    assert stage["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    # Connections expire through the table's TTL, on the attribute the live store writes
    [table] = [
        *assembly.resources("AWS::DynamoDB::GlobalTable").values(),
        *assembly.resources("AWS::DynamoDB::Table").values(),
    ]
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": table_definition().ttl_attribute,
        "Enabled": True,
    }
    # ManageConnections only on this API's stage, POST for the socket function, POST and DELETE for the fan-out
    by_name = {declared_name(fn): name.split("/")[1] for name, fn in our_functions(assembly).items()}
    manage: dict[str, list[str]] = {}
    stack = assembly.templates["Helpdesk-dev-Service"]["Resources"]
    for name, logical_id in by_name.items():
        role_id = stack[logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        for statement in role_statements(assembly, role_id):
            if "execute-api:ManageConnections" in as_list(statement["Action"]):
                assert as_list(statement["Action"]) == ["execute-api:ManageConnections"]
                manage[name] = sorted(json.dumps(r) for r in as_list(statement["Resource"]))
    assert set(manage) == {"live-socket", LIVE_FANOUT.name}, "only the live functions post to connections"
    assert all(
        "/dev/POST/@connections/*" in r or "/dev/DELETE/@connections/*" in r for rs in manage.values() for r in rs
    )
    assert all('"Ref": "LiveChannelApi' in r for rs in manage.values() for r in rs), "this API only, no wildcard"
    assert len(manage["live-socket"]) == 1
    assert "POST" in manage["live-socket"][0]
    assert len(manage[LIVE_FANOUT.name]) == 2
    # The fan-out reads the stream with an on-failure queue, and every live function has the management URL
    mappings = [
        m["Properties"]
        for m in assembly.resources("AWS::Lambda::EventSourceMapping").values()
        if by_name[LIVE_FANOUT.name] in json.dumps(m["Properties"]["FunctionName"])
    ]
    [mapping] = mappings
    assert "StreamArn" in json.dumps(mapping["EventSourceArn"])
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"]
    functions = our_functions(assembly)
    for name in ("live-socket", LIVE_FANOUT.name):
        [fn] = [f for key, f in functions.items() if key.split("/")[1] == by_name[name]]
        assert "LIVE_ENDPOINT" in fn["Properties"]["Environment"]["Variables"]
