"""The asynchronous topology as deployed: the bus and its rules, topics, the stream consumer, workflows, notifier.

Each check walks a declaration in ``helpdesk.surfaces`` and looks for what it promises in the one
shared synthesis, so a route, topic or workflow added there and forgotten here fails a test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpdesk.surfaces import (
    EVENT_BUS_ENV,
    EVENT_PUBLISHER,
    EVENT_ROUTES,
    EVENT_SOURCE,
    INBOX,
    NOTIFIER,
    QUEUE_CONSUMERS,
    STATUS_UPDATES,
    TOPIC_SUBSCRIPTIONS,
    TOPICS,
    WORKFLOW_STARTER,
    WORKFLOW_SUBSTITUTIONS,
    WORKFLOW_TASKS,
    WORKFLOWS,
)

from tests.infra.conftest import REPO, Assembly
from tests.infra.test_infrastructure import as_list, declared_name, our_functions, role_statements

SERVICE = "Helpdesk-dev-Service"


def resources(assembly: Assembly) -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = assembly.templates[SERVICE]["Resources"]
    return resources


def logical_id(resources: dict[str, dict[str, Any]], prefix: str, resource_type: str) -> str:
    """The one resource of ``resource_type`` whose logical id starts with ``prefix`` (construct path, camelled)."""
    [found] = [k for k, v in resources.items() if k.startswith(prefix) and v["Type"] == resource_type]
    return found


def camel(name: str) -> str:
    return "".join(part.title() for part in name.split("-"))


def function_id(resources: dict[str, dict[str, Any]], name: str) -> str:
    """The logical id of the function declared as ``name`` (its powertools service name)."""
    [found] = [
        k
        for k, v in resources.items()
        if v["Type"] == "AWS::Lambda::Function"
        and v["Properties"].get("Environment", {}).get("Variables", {}).get("POWERTOOLS_SERVICE_NAME") == name
    ]
    return found


def worker_queue_id(resources: dict[str, dict[str, Any]], consumer: str) -> str:
    return logical_id(resources, f"QueueWorkers{camel(consumer)}Queue", "AWS::SQS::Queue")


def statements_of(assembly: Assembly, function_name: str) -> list[dict[str, Any]]:
    stack = resources(assembly)
    role_id = stack[function_id(stack, function_name)]["Properties"]["Role"]["Fn::GetAtt"][0]
    return role_statements(assembly, role_id)


def granted(statements: list[dict[str, Any]], action: str) -> list[Any]:
    """Every resource ``action`` is allowed on."""
    return [
        resource
        for s in statements
        if s["Effect"] == "Allow" and action in as_list(s["Action"])
        for resource in as_list(s["Resource"])
    ]


def state_machine_refs(assembly: Assembly) -> list[dict[str, str]]:
    stack = resources(assembly)
    return [
        {"Ref": logical_id(stack, f"Workflows{w.name}StateMachine", "AWS::StepFunctions::StateMachine")}
        for w in WORKFLOWS
    ]


def task_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Task state, including those nested in Parallel branches and Map iterators."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            found[name] = state
        for branch in state.get("Branches", []) + [state[k] for k in ("Iterator", "ItemProcessor") if k in state]:
            found |= task_states(branch)
    return found


# --- workflows ---------------------------------------------------------------------------------------


def test_each_workflow_is_a_standard_state_machine_that_logs_everything_and_is_traced(assembly: Assembly) -> None:
    stack = resources(assembly)
    machines = assembly.resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == len(WORKFLOWS) + 1  # and the customers' erasure (tests/infra/test_privacy_infra.py)
    for workflow in WORKFLOWS:
        machine = stack[logical_id(stack, f"Workflows{workflow.name}StateMachine", "AWS::StepFunctions::StateMachine")]
        properties = machine["Properties"]
        assert properties["StateMachineType"] == "STANDARD", workflow.name
        assert properties["StateMachineName"] == f"helpdesk-dev-{workflow.name}"
        logging = properties["LoggingConfiguration"]
        assert logging["Level"] == "ALL", workflow.name
        [destination] = logging["Destinations"]
        group = stack[destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]]
        assert group["Properties"]["RetentionInDays"], workflow.name
        assert properties["TracingConfiguration"] == {"Enabled": True}, workflow.name


def test_each_state_machine_runs_its_asl_file_with_every_placeholder_substituted(assembly: Assembly) -> None:
    stack = resources(assembly)
    queue_id = worker_queue_id(stack, WORKFLOW_TASKS.name)
    alarm_topic_id = logical_id(stack, "MonitoringAlarms", "AWS::SNS::Topic")
    for workflow in WORKFLOWS:
        properties = stack[
            logical_id(stack, f"Workflows{workflow.name}StateMachine", "AWS::StepFunctions::StateMachine")
        ]["Properties"]
        deployed = assembly.outdir / f"asset.{properties['DefinitionS3Location']['Key']}"
        assert deployed.read_text() == (REPO / "workflows" / workflow.definition).read_text(), workflow.name
        substitutions = properties["DefinitionSubstitutions"]
        assert set(substitutions) == set(WORKFLOW_SUBSTITUTIONS)
        assert substitutions["WorkflowTasksQueueUrl"] == {"Ref": queue_id}
        assert substitutions["AlarmTopicArn"] == {"Ref": alarm_topic_id}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_task_of_a_workflow_retries_and_catches(workflow: Any) -> None:
    definition = json.loads((REPO / "workflows" / workflow.definition).read_text())
    tasks = task_states(definition)
    assert tasks, workflow.name
    for name, task in tasks.items():
        assert task.get("Retry"), f"{workflow.name}.{name} has no Retry"
        assert task.get("Catch"), f"{workflow.name}.{name} has no Catch"
        assert any("States.ALL" in c["ErrorEquals"] for c in task["Catch"]), f"{workflow.name}.{name}"


def test_state_machines_may_only_queue_workflow_tasks_and_alert_operators(assembly: Assembly) -> None:
    stack = resources(assembly)
    queue_id = worker_queue_id(stack, WORKFLOW_TASKS.name)
    alarm_topic_id = logical_id(stack, "MonitoringAlarms", "AWS::SNS::Topic")
    for workflow in WORKFLOWS:
        role_id = logical_id(stack, f"Workflows{workflow.name}StateMachineRole", "AWS::IAM::Role")
        statements = role_statements(assembly, role_id)
        assert granted(statements, "sqs:SendMessage") == [{"Fn::GetAtt": [queue_id, "Arn"]}]
        assert granted(statements, "sns:Publish") == [{"Ref": alarm_topic_id}]
        actions = {a for s in statements for a in as_list(s["Action"])}
        assert not {a for a in actions if a.startswith(("dynamodb:", "lambda:", "states:"))}, workflow.name


def test_every_state_machine_alarms_on_failed_and_timed_out_executions(assembly: Assembly) -> None:
    alarmed: dict[str, set[str]] = {}
    for alarm in assembly.resources("AWS::CloudWatch::Alarm").values():
        for dimension in alarm["Properties"].get("Dimensions", []):
            if dimension["Name"] == "StateMachineArn":
                alarmed.setdefault(dimension["Value"]["Ref"], set()).add(alarm["Properties"]["MetricName"])
    for ref in state_machine_refs(assembly):
        assert alarmed.get(ref["Ref"]) == {"ExecutionsFailed", "ExecutionsTimedOut"}, ref


def test_workflows_are_started_by_the_starter_and_answered_by_the_task_worker_and_the_inbox(
    assembly: Assembly,
) -> None:
    machines = state_machine_refs(assembly)
    starter = statements_of(assembly, WORKFLOW_STARTER.name)
    assert sorted(map(json.dumps, granted(starter, "states:StartExecution"))) == sorted(map(json.dumps, machines))
    executions = json.dumps(granted(starter, "states:DescribeExecution"))
    assert all(f"execution:helpdesk-dev-{w.name}:*" in executions for w in WORKFLOWS)
    for name in (WORKFLOW_TASKS.name, f"{INBOX.name}-api"):
        statements = statements_of(assembly, name)
        for action in ("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"):
            assert sorted(map(json.dumps, granted(statements, action))) == sorted(map(json.dumps, machines)), name
    started_by_inbox = json.dumps(granted(statements_of(assembly, f"{INBOX.name}-api"), "states:StartExecution"))
    assert started_by_inbox.count("Ref") == 1  # only an admin's erasure of a customer
    assert "PrivacyErasure" in started_by_inbox


# --- the bus, its archive and rules ------------------------------------------------------------------------


def test_the_bus_archives_every_helpdesk_event(assembly: Assembly) -> None:
    stack = resources(assembly)
    bus_id = logical_id(stack, "MessagingBus", "AWS::Events::EventBus")
    assert stack[bus_id]["Properties"]["Name"] == "helpdesk-dev"
    [archive] = assembly.resources("AWS::Events::Archive").values()
    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert archive["Properties"]["EventPattern"] == {"source": [EVENT_SOURCE]}
    assert archive["Properties"]["RetentionDays"] >= 7


def test_every_event_route_is_a_rule_on_the_bus_with_retries_and_a_dead_letter_queue(assembly: Assembly) -> None:
    stack = resources(assembly)
    bus_id = logical_id(stack, "MessagingBus", "AWS::Events::EventBus")
    on_bus = {k: v for k, v in stack.items() if v["Type"] == "AWS::Events::Rule" and "EventBusName" in v["Properties"]}
    assert len(on_bus) == len(EVENT_ROUTES) + 1  # and the lake's rule (tests/infra/test_lake.py)
    for route in EVENT_ROUTES:
        rule = stack[logical_id(stack, f"Messaging{camel(route.name)}Rule", "AWS::Events::Rule")]["Properties"]
        assert rule["EventBusName"] == {"Ref": bus_id}
        assert rule["EventPattern"] == route.pattern, route.name
        [target] = rule["Targets"]
        if route.queue:
            queue_id = worker_queue_id(stack, route.queue)
            assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}, route.name
        else:
            assert route.topic
            topic_id = logical_id(stack, f"Messaging{camel(route.topic)}Topic", "AWS::SNS::Topic")
            assert target["Arn"] == {"Ref": topic_id}, route.name
        assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("MessagingEventTargetsDlq"), route.name
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0, route.name


def test_every_function_learns_the_bus_the_topics_and_the_workflows(assembly: Assembly) -> None:
    stack = resources(assembly)
    bus_id = logical_id(stack, "MessagingBus", "AWS::Events::EventBus")
    expected = {
        EVENT_BUS_ENV: {"Ref": bus_id},
        **{t.arn_env: {"Ref": logical_id(stack, f"Messaging{camel(t.name)}Topic", "AWS::SNS::Topic")} for t in TOPICS},
        **{w.arn_env: ref for w, ref in zip(WORKFLOWS, state_machine_refs(assembly), strict=True)},
    }
    for name, function in our_functions(assembly).items():
        variables = function["Properties"]["Environment"]["Variables"]
        for variable, value in expected.items():
            assert variables.get(variable) == value, (name, variable)


def test_only_the_event_publisher_puts_events_and_only_on_the_bus(assembly: Assembly) -> None:
    stack = resources(assembly)
    bus_arn = {"Fn::GetAtt": [logical_id(stack, "MessagingBus", "AWS::Events::EventBus"), "Arn"]}
    for name, function in our_functions(assembly).items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        put = granted(role_statements(assembly, role_id), "events:PutEvents")
        if declared_name(function) == EVENT_PUBLISHER.name:
            assert put == [bus_arn]
        else:
            assert put == [], name


# --- topics ---------------------------------------------------------------------------------------------------


def test_topics_are_encrypted_tls_only_and_eventbridge_may_publish_to_them(assembly: Assembly) -> None:
    stack = resources(assembly)
    policies = [v["Properties"] for v in stack.values() if v["Type"] == "AWS::SNS::TopicPolicy"]
    for topic in TOPICS:
        topic_id = logical_id(stack, f"Messaging{camel(topic.name)}Topic", "AWS::SNS::Topic")
        properties = stack[topic_id]["Properties"]
        assert properties["TopicName"] == f"helpdesk-dev-{topic.name}"
        key = stack[properties["KmsMasterKeyId"]["Fn::GetAtt"][0]]["Properties"]
        assert key["EnableKeyRotation"] is True
        assert any(
            s["Principal"] == {"Service": "events.amazonaws.com"} and "kms:GenerateDataKey*" in s["Action"]
            for s in key["KeyPolicy"]["Statement"]
        ), topic.name
        statements = [s for p in policies if {"Ref": topic_id} in p["Topics"] for s in p["PolicyDocument"]["Statement"]]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        ), topic.name


def test_subscribed_queues_get_raw_messages_and_undeliverable_ones_are_kept(assembly: Assembly) -> None:
    stack = resources(assembly)
    subscriptions = [v["Properties"] for v in stack.values() if v["Type"] == "AWS::SNS::Subscription"]
    for topic_name, consumer in TOPIC_SUBSCRIPTIONS:
        topic_id = logical_id(stack, f"Messaging{camel(topic_name)}Topic", "AWS::SNS::Topic")
        queue_id = worker_queue_id(stack, consumer)
        [subscription] = [s for s in subscriptions if s["TopicArn"] == {"Ref": topic_id}]
        assert subscription["Protocol"] == "sqs"
        assert subscription["Endpoint"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        assert subscription["RawMessageDelivery"] is True
        assert subscription["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0].startswith(
            "MessagingEventTargetsDlq"
        )
        # SNS can deliver to SQS-managed encryption; the AWS-managed aws/sqs KMS key would refuse it.
        assert stack[queue_id]["Properties"]["SqsManagedSseEnabled"] is True
        allowed = [
            s
            for v in stack.values()
            if v["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": queue_id} in v["Properties"]["Queues"]
            for s in v["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Allow"
        ]
        assert any(
            s["Principal"] == {"Service": "sns.amazonaws.com"}
            and s["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Ref": topic_id}
            for s in allowed
        )


# --- the stream consumer ----------------------------------------------------------------------------------------


def test_the_event_publisher_reads_the_stream_in_bisected_batches_and_keeps_what_fails(assembly: Assembly) -> None:
    stack = resources(assembly)
    publisher = function_id(stack, EVENT_PUBLISHER.name)
    [mapping] = [
        v["Properties"]
        for v in stack.values()
        if v["Type"] == "AWS::Lambda::EventSourceMapping" and v["Properties"]["FunctionName"] == {"Ref": publisher}
    ]
    assert "StreamArn" in json.dumps(mapping["EventSourceArn"])
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == EVENT_PUBLISHER.batch_size
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    assert mapping["MaximumRecordAgeInSeconds"] <= 86400
    failures = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    depth_alarms = [
        a["Properties"]
        for a in assembly.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert any(a["Dimensions"][0]["Value"]["Fn::GetAtt"][0] == failures for a in depth_alarms)


def test_the_event_publisher_publishes_status_updates_and_wakes_parked_workflows(assembly: Assembly) -> None:
    stack = resources(assembly)
    statements = statements_of(assembly, EVENT_PUBLISHER.name)
    status_topic = logical_id(stack, f"Messaging{camel(STATUS_UPDATES.name)}Topic", "AWS::SNS::Topic")
    assert granted(statements, "sns:Publish") == [{"Ref": status_topic}]
    key_id = stack[status_topic]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert granted(statements, "kms:GenerateDataKey") == [{"Fn::GetAtt": [key_id, "Arn"]}]
    machines = sorted(map(json.dumps, state_machine_refs(assembly)))
    assert sorted(map(json.dumps, granted(statements, "states:SendTaskSuccess"))) == machines
    assert granted(statements, "states:SendTaskFailure") == []


# --- notifications -------------------------------------------------------------------------------------------


def test_the_notifier_sends_the_stage_template_from_the_configured_sender(assembly: Assembly) -> None:
    stack = resources(assembly)
    [template] = assembly.resources("AWS::SES::Template").values()
    parts = template["Properties"]["Template"]
    assert parts["TemplateName"] == "helpdesk-status-update-dev"
    for variable in ("subject", "heading", "body", "ticket_number", "link"):
        assert f"{{{{{variable}}}}}" in parts["TextPart"] + parts["HtmlPart"] + parts["SubjectPart"], variable
    notifier = stack[function_id(stack, NOTIFIER.name)]["Properties"]["Environment"]["Variables"]
    assert notifier["STATUS_TEMPLATE_NAME"] == parts["TemplateName"]
    assert notifier["NOTIFY_FROM_EMAIL"] == "support@example.com"
    distribution = logical_id(stack, "WebHostingPages", "AWS::CloudFront::Distribution")
    assert notifier["MESSENGER_URL"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}, "/messenger/"]]
    }
    statements = statements_of(assembly, NOTIFIER.name)
    email = json.dumps(granted(statements, "ses:SendTemplatedEmail"))
    assert ":identity/support@example.com" in email
    assert ":identity/example.com" in email
    assert granted(statements, "sns:Publish") == ["*"], "SMS to phone numbers"
    [wildcard] = [s for s in statements if "*" in as_list(s["Resource"])]
    assert {a for a in as_list(wildcard["Action"]) if not a.startswith("xray:")} == {"sns:Publish"}


def test_every_queue_consumer_has_its_worker_and_queue(assembly: Assembly) -> None:
    stack = resources(assembly)
    for consumer in QUEUE_CONSUMERS:
        function = stack[function_id(stack, consumer.name)]["Properties"]
        assert function["Handler"] == consumer.handler
        queue_id = worker_queue_id(stack, consumer.name)
        assert function["Environment"]["Variables"][consumer.queue_url_env] == {"Ref": queue_id}


# --- configuration and definitions, without a synthesis ----------------------------------------------------


def test_the_sender_setting_is_checked_and_defaults_sensibly() -> None:
    import aws_cdk as cdk

    from infra.config import DeploymentConfig
    from tests.infra.conftest import cdk_json_context

    def config(**context: str) -> DeploymentConfig:
        return DeploymentConfig.from_context(cdk.App(context={**cdk_json_context(), **context}))

    assert config().notify_from_email == "support@example.com"
    assert config(ses_sender="help@shop.example.com").notify_from_email == "help@shop.example.com"
    assert config(ses_sender="shop.example.com", notify_from_email="Help@Shop.example.com").notify_from_email == (
        "help@shop.example.com"
    )
    with pytest.raises(ValueError, match="'notify_from_email': an email address, not 'support'"):
        config(notify_from_email="support")
    with pytest.raises(ValueError, match="neither the SES identity"):
        config(ses_sender="shop.example.com", notify_from_email="help@other.example.com")


def test_a_definition_refering_to_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    from infra.workflows import checked_definition

    definition = tmp_path / "broken.asl.json"
    definition.write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "${OrderApiUrl}"}}}')
    with pytest.raises(ValueError, match=r"broken\.asl\.json refers to OrderApiUrl"):
        checked_definition(definition, {"WorkflowTasksQueueUrl": "q"})
    definition.write_text("{not json")
    with pytest.raises(ValueError, match="is not JSON"):
        checked_definition(definition, {})
    with pytest.raises(ValueError, match="does not exist"):
        checked_definition(tmp_path / "missing.asl.json", {})


def test_the_bot_and_the_profile_may_read_exactly_the_secrets_their_custom_actions_name_and_have_their_settings(
    assembly: Assembly,
) -> None:
    stack = resources(assembly)
    messenger = stack[function_id(stack, "messenger-api")]["Properties"]
    assert messenger["Environment"]["Variables"]["ORDERS_API_URL"] == "https://orders.example.com/api"
    assert messenger["Timeout"] <= 29
    secrets = [
        json.dumps(r) for r in granted(statements_of(assembly, "messenger-api"), "secretsmanager:GetSecretValue")
    ]
    assert any(":secret:helpdesk/orders-api-??????" in r for r in secrets), secrets
    assert not any(r.endswith(':secret:*"') or r == '"*"' for r in secrets)
    # The inbox runs only the profile actions (the recent orders, on the same order system): their settings
    # and their secret, nothing wider
    inbox = stack[function_id(stack, "inbox-api")]["Properties"]
    assert inbox["Environment"]["Variables"]["ORDERS_API_URL"] == "https://orders.example.com/api"
    inbox_secrets = [
        json.dumps(r) for r in granted(statements_of(assembly, "inbox-api"), "secretsmanager:GetSecretValue")
    ]
    assert any(":secret:helpdesk/orders-api-??????" in r for r in inbox_secrets), inbox_secrets
    assert not any(r.endswith(':secret:*"') or r == '"*"' for r in inbox_secrets)


def _rate_rules(assembly: Assembly) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    [acl] = [r for r in resources(assembly).values() if r["Type"] == "AWS::WAFv2::WebACL"]
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]}
    return acl, rules


def test_every_declared_rate_limit_is_a_waf_rule_answering_429_with_the_local_body(assembly: Assembly) -> None:
    from helpdesk.surfaces import RATE_LIMITS, WAF_EVALUATION_WINDOWS

    from infra.firewall import response_body_key, rule_name

    acl, rules = _rate_rules(assembly)
    assert set(rules) == {rule_name(limit) for limit in RATE_LIMITS}
    for limit in RATE_LIMITS:
        rule = rules[rule_name(limit)]
        statement = rule["Statement"]["RateBasedStatement"]
        assert (statement["Limit"], statement["EvaluationWindowSec"]) == (limit.requests, limit.window_seconds)
        assert limit.window_seconds in WAF_EVALUATION_WINDOWS, "a window WAF can count over"
        assert limit.requests >= 10, "WAF's smallest limit"
        refusal = rule["Action"]["Block"]["CustomResponse"]
        assert refusal["ResponseCode"] == 429
        assert refusal["ResponseHeaders"] == [{"Name": "Retry-After", "Value": str(limit.window_seconds)}]
        body = json.loads(acl["Properties"]["CustomResponseBodies"][response_body_key(limit)]["Content"])
        assert body == limit.refusal_body(), "the same 429 as the local gateway's"


def test_the_customer_limit_keys_on_the_header_whatever_its_case_and_spacing(assembly: Assembly) -> None:
    from helpdesk.surfaces import CUSTOMER_RATE_LIMIT

    from infra.firewall import rule_name

    statement = _rate_rules(assembly)[1][rule_name(CUSTOMER_RATE_LIMIT)]["Statement"]["RateBasedStatement"]
    [key] = statement["CustomKeys"]
    assert key["Header"]["Name"] == "authorization"
    transformations = sorted(key["Header"]["TextTransformations"], key=lambda t: t["Priority"])
    assert [t["Type"] for t in transformations] == ["LOWERCASE", "COMPRESS_WHITE_SPACE"]
    scope = statement["ScopeDownStatement"]["ByteMatchStatement"]
    assert (scope["SearchString"], scope["FieldToMatch"]) == ("/messenger/", {"UriPath": {}})


def test_visitor_creation_is_limited_per_source_ip_on_its_own_path(assembly: Assembly) -> None:
    from helpdesk.surfaces import VISITOR_CREATION_LIMIT

    from infra.firewall import rule_name

    statement = _rate_rules(assembly)[1][rule_name(VISITOR_CREATION_LIMIT)]["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP"
    path, method = (s["ByteMatchStatement"] for s in statement["ScopeDownStatement"]["AndStatement"]["Statements"])
    assert (path["PositionalConstraint"], path["SearchString"]) == ("ENDS_WITH", "/messenger/visitors")
    assert [t["Type"] for t in sorted(path["TextTransformations"], key=lambda t: t["Priority"])] == [
        "URL_DECODE",
        "NORMALIZE_PATH",
        "LOWERCASE",
    ]
    assert (method["FieldToMatch"], method["SearchString"], method["PositionalConstraint"]) == (
        {"Method": {}},
        "POST",
        "EXACTLY",
    )


def test_the_event_publisher_deletes_only_what_belongs_to_conversations_and_tickets(assembly: Assembly) -> None:
    # What an expired conversation or ticket leaves behind (``adapters/store/record_parts.py``)
    statements = statements_of(assembly, EVENT_PUBLISHER.name)
    deleting = [s for s in statements if "dynamodb:BatchWriteItem" in as_list(s["Action"])]

    assert [sorted(as_list(s["Action"])) for s in deleting] == [["dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]]
    leading = deleting[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert set(leading) == {
        f"{p}#*" for p in ("CONV", "TICKET", "FIRSTREPLY", "EMAILTHREAD", "ATTACHMENT", "OBJECT", "TAG", "FIND")
    }
    assert not [s for s in statements if "dynamodb:PutItem" in as_list(s["Action"]) and "Condition" not in s]
