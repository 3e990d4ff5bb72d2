"""A customer's erasure and the workspace's retention in the synthesized templates."""

from __future__ import annotations

import json
from typing import Any

from helpdesk.adapters.workspace_files import load_workspace
from helpdesk.domain.retention import Retention

from tests.infra.conftest import REPO, Assembly

DEMO = REPO / "workspace" / "demo"


def rules_of(assembly: Assembly, name_part: str) -> dict[str, dict[str, Any]]:
    """The lifecycle rules, by id, of the bucket whose name has ``name_part``."""
    for bucket in assembly.resources("AWS::S3::Bucket").values():
        if name_part in json.dumps(bucket["Properties"].get("BucketName", "")):
            rules = bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
            return {rule.get("Id", ""): rule for rule in rules}
    raise AssertionError(f"no bucket named like {name_part}")


def test_every_bucket_expires_what_the_workspace_retention_says(assembly: Assembly) -> None:
    retention = load_workspace(DEMO).retention
    files, inbound, lake = (
        rules_of(assembly, "-attachments-"),
        rules_of(assembly, "-inbound-"),
        rules_of(assembly, "-lake-"),
    )

    assert files["retention-attachments"]["Prefix"] == "attachments/"
    assert files["retention-attachments"]["ExpirationInDays"] == retention.attachments_days
    assert files["retention-exports"]["ExpirationInDays"] == retention.exports_days
    assert inbound["retention-inbound"]["ExpirationInDays"] == retention.email_originals_days
    assert lake["retention-events"]["Prefix"] == "events/"
    assert lake["retention-events"]["ExpirationInDays"] == retention.lake_days


def test_the_documented_defaults_are_what_a_workspace_without_settings_keeps() -> None:
    defaults = Retention()

    assert (defaults.closed_conversations_days, defaults.resolved_tickets_days) == (730, 730)
    assert (defaults.attachments_days, defaults.lake_days, defaults.email_originals_days) == (730, 1095, 90)


def test_the_erasure_runs_as_its_own_state_machine_on_the_privacy_queue(assembly: Assembly) -> None:
    machines = [
        m["Properties"]
        for m in assembly.resources("AWS::StepFunctions::StateMachine").values()
        if "erasure" in json.dumps(m["Properties"].get("StateMachineName", ""))
    ]

    [machine] = machines
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert "PrivacyTasksQueueUrl" in machine["DefinitionSubstitutions"]


def test_the_privacy_worker_reads_and_deletes_only_the_emails_filed_under_customers(assembly: Assembly) -> None:
    from helpdesk.surfaces import PRIVACY_TASKS

    from tests.infra.test_messaging import function_id, granted, resources, statements_of

    statements = statements_of(assembly, PRIVACY_TASKS.name)
    stack = resources(assembly)
    variables = stack[function_id(stack, PRIVACY_TASKS.name)]["Properties"]["Environment"]["Variables"]

    deletes = json.dumps(granted(statements, "s3:DeleteObject"))

    assert "helpdesk-dev-inbound-" in json.dumps(variables["INBOUND_EMAIL_BUCKET"])
    assert "/inbound/customers/*" in deletes
    assert "/inbound/*" not in deletes  # not what SES stored before the ingest worker knew whose it was
