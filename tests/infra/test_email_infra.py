"""The email channel as deployed: SES receiving into an encrypted bucket and the ingest queue, the
configuration set's bounces and complaints to the feedback queue, and grants that name only what each
function touches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpdesk.surfaces import EMAIL_EVENTS, EMAIL_FEEDBACK, EMAIL_INGEST, INBOUND_EMAIL, NOTIFIER

from tests.infra.conftest import Assembly, cdk_json_context, synthesize
from tests.infra.test_infrastructure import role_statements
from tests.infra.test_messaging import camel, function_id, granted, logical_id, resources, statements_of

DATA = "Helpdesk-dev-Data"


def topic_id(stack: dict[str, Any], name: str) -> str:
    return logical_id(stack, f"Messaging{camel(name)}Topic", "AWS::SNS::Topic")


def test_the_receipt_rule_scans_requires_tls_and_stores_the_support_domain_s_mail_then_announces_it(
    assembly: Assembly,
) -> None:
    stack = resources(assembly)
    [rule_set] = assembly.resources("AWS::SES::ReceiptRuleSet").values()
    [rule] = assembly.resources("AWS::SES::ReceiptRule").values()
    properties = rule["Properties"]["Rule"]

    assert rule_set["Properties"]["RuleSetName"] == "helpdesk-dev"
    assert properties["Recipients"] == ["example.com"]
    assert properties["ScanEnabled"] is True
    assert properties["TlsPolicy"] == "Require"
    [action] = properties["Actions"]
    assert action["S3Action"]["ObjectKeyPrefix"] == "inbound/"
    assert action["S3Action"]["TopicArn"] == {"Ref": topic_id(stack, INBOUND_EMAIL.name)}
    assert "InboundEmail" in json.dumps(action["S3Action"]["BucketName"])


def test_the_inbound_bucket_is_encrypted_private_and_forgets_mail_after_90_days(assembly: Assembly) -> None:
    data = assembly.templates[DATA]["Resources"]
    bucket = data[logical_id(data, "InboundEmail", "AWS::S3::Bucket")]["Properties"]
    policy = data[logical_id(data, "InboundEmailPolicy", "AWS::S3::BucketPolicy")]["Properties"]["PolicyDocument"]

    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert {"ExpirationInDays": 90, "Status": "Enabled"}.items() <= bucket["LifecycleConfiguration"]["Rules"][0].items()
    [ses_write] = [s for s in policy["Statement"] if s.get("Principal") == {"Service": "ses.amazonaws.com"}]
    assert ses_write["Action"] == "s3:PutObject"
    assert "/inbound/*" in json.dumps(ses_write["Resource"])
    assert ses_write["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_ses_may_announce_received_mail_only_from_this_rule_set_and_encrypt_with_the_topics_key(
    assembly: Assembly,
) -> None:
    stack = resources(assembly)
    inbound = topic_id(stack, INBOUND_EMAIL.name)
    policies = [
        statement
        for resource in assembly.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": inbound} in resource["Properties"]["Topics"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "ses.amazonaws.com"}
    ]
    [publish] = policies
    assert publish["Action"] == "sns:Publish"
    assert "receipt-rule-set/helpdesk-dev:receipt-rule/*" in json.dumps(publish["Condition"]["ArnLike"])
    [key] = [k for k in assembly.resources("AWS::KMS::Key").values() if "topics" in k["Properties"]["Description"]]
    ses_use = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "SesPublishesEmailTopics"]
    assert ses_use
    assert ses_use[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_bounces_and_complaints_reach_the_feedback_worker_s_queue(assembly: Assembly) -> None:
    stack = resources(assembly)
    [configuration_set] = assembly.resources("AWS::SES::ConfigurationSet").values()
    [destination] = assembly.resources("AWS::SES::ConfigurationSetEventDestination").values()

    assert configuration_set["Properties"]["Name"] == "helpdesk-dev"
    event_destination = destination["Properties"]["EventDestination"]
    assert sorted(event_destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert event_destination["SnsDestination"]["TopicARN"] == {"Ref": topic_id(stack, EMAIL_EVENTS.name)}
    queue = logical_id(stack, f"QueueWorkers{camel(EMAIL_FEEDBACK.name)}Queue", "AWS::SQS::Queue")
    [subscription] = [
        s["Properties"]
        for s in assembly.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id(stack, EMAIL_EVENTS.name)}
    ]
    assert subscription["Endpoint"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert subscription["RawMessageDelivery"] is True


def test_the_ingest_worker_reads_only_received_mail_and_writes_only_attachments_and_filed_mail(
    assembly: Assembly,
) -> None:
    statements = statements_of(assembly, EMAIL_INGEST.name)

    reads = json.dumps(granted(statements, "s3:GetObject"))
    writes = json.dumps(granted(statements, "s3:PutObject"))
    deletes = json.dumps(granted(statements, "s3:DeleteObject"))

    assert "helpdesk-dev-inbound-" in reads
    assert "/inbound/*" in reads
    assert "attachments" not in reads
    assert "/attachments/*" in writes
    assert "/inbound/customers/*" in writes  # each email, filed under its customer
    assert "/inbound/*" not in writes
    assert "/inbound/*" in deletes
    assert "attachments" not in deletes
    assert granted(statements, "ses:SendRawEmail") == []
    assert "EmailSecret" in json.dumps(granted(statements, "secretsmanager:GetSecretValue"))


def test_only_the_notifier_sends_raw_email_and_only_from_our_identities_with_the_set(
    assembly: Assembly,
) -> None:
    stack = resources(assembly)
    senders = {}
    for logical, function in stack.items():
        if function["Type"] != "AWS::Lambda::Function":
            continue
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        resources_sent = granted(role_statements(assembly, role), "ses:SendRawEmail")
        if resources_sent:
            senders[logical] = json.dumps(resources_sent)
    expected = {function_id(stack, NOTIFIER.name)}  # fresh links too: the messenger only records the request
    assert set(senders) == expected
    for granted_to in senders.values():
        assert ":identity/support@example.com" in granted_to
        assert ":identity/example.com" in granted_to
        assert ":configuration-set/" in granted_to
        assert '"*"' not in granted_to


def test_functions_that_sign_or_check_email_links_learn_the_support_address_and_the_secret(
    assembly: Assembly,
) -> None:
    stack = resources(assembly)
    for name in (NOTIFIER.name, EMAIL_INGEST.name, "messenger-api", "inbox-api"):
        variables = stack[function_id(stack, name)]["Properties"]["Environment"]["Variables"]
        assert variables["SUPPORT_ADDRESS"] == "support@example.com", name
        assert "EMAIL_SECRET_ARN" in variables, name
    ingest = stack[function_id(stack, EMAIL_INGEST.name)]["Properties"]["Environment"]["Variables"]
    assert "INBOUND_EMAIL_BUCKET" in ingest


def test_a_support_mailbox_too_long_for_reply_addresses_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at most 15"):
        synthesize(tmp_path, cdk_json_context() | {"support_email": "customer-support-team@example.com"})
