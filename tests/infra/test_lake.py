"""The event lake in the synthesized templates: Firehose from the bus, Glue, Athena, the views, buckets."""

from __future__ import annotations

import json
from typing import Any

from helpdesk.domain import lake
from helpdesk.domain.metrics import metric_views

from tests.infra.conftest import REPO, Assembly


def one(assembly: Assembly, resource_type: str) -> dict[str, Any]:
    [resource] = assembly.resources(resource_type).values()
    return resource["Properties"]


def test_every_helpdesk_event_goes_to_firehose_with_retries_and_a_dead_letter_queue(assembly: Assembly) -> None:
    rules = [
        r["Properties"]
        for r in assembly.resources("AWS::Events::Rule").values()
        if any("Lake" in str(t.get("Arn")) or t.get("Id") == "lake" for t in r["Properties"].get("Targets", []))
    ]
    [rule] = rules
    assert rule["EventPattern"] == {"source": ["helpdesk"]}
    [target] = rule["Targets"]
    assert "DeadLetterConfig" in target
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 3
    assert target["RoleArn"]


def test_firehose_partitions_by_detail_type_and_day_compresses_and_encrypts(assembly: Assembly) -> None:
    stream = one(assembly, "AWS::KinesisFirehose::DeliveryStream")
    s3 = stream["ExtendedS3DestinationConfiguration"]

    assert stream["DeliveryStreamEncryptionConfigurationInput"]["KeyType"] == "AWS_OWNED_CMK"
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["Prefix"] == lake.OBJECT_PREFIX
    assert s3["ErrorOutputPrefix"] == lake.ERROR_PREFIX
    assert s3["FileExtension"] == lake.FILE_EXTENSION
    assert s3["DynamicPartitioningConfiguration"]["Enabled"] is True
    processors = {p["Type"]: p for p in s3["ProcessingConfiguration"]["Processors"]}
    extraction = {p["ParameterName"]: p["ParameterValue"] for p in processors["MetadataExtraction"]["Parameters"]}
    query = extraction["MetadataExtractionQuery"]
    for key, jq in lake.PARTITION_QUERIES.items():
        assert f'"{key}":{jq}' in query
    assert "AppendDelimiterToRecord" in processors
    assert s3["CloudWatchLoggingOptions"]["Enabled"] is True


def test_glue_describes_every_detail_type_with_partition_projection(assembly: Assembly) -> None:
    tables = {
        t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"]
        for t in assembly.resources("AWS::Glue::Table").values()
    }
    expected = {t.raw: t for t in lake.event_tables(REPO / "events" / "schemas")}

    assert set(tables) == set(expected)
    for name, table in tables.items():
        parameters = table["Parameters"]
        assert parameters["projection.enabled"] == "true"
        assert parameters["projection.dt.type"] == "date"
        template = str(parameters["storage.location.template"])
        assert template.endswith("dt=${dt}/']]}") or template.endswith("dt=${dt}/")
        assert f"detail_type={expected[name].detail_type}/" in template
        [column] = table["StorageDescriptor"]["Columns"]
        assert column == {"Name": "detail", "Type": expected[name].glue_struct()}
        assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def test_the_workgroup_enforces_a_scan_limit_and_encrypted_results(assembly: Assembly) -> None:
    configuration = one(assembly, "AWS::Athena::WorkGroup")["WorkGroupConfiguration"]

    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert 0 < configuration["BytesScannedCutoffPerQuery"] <= 10**10
    assert configuration["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"
    assert configuration["EngineVersion"]["SelectedEngineVersion"] == "Athena engine version 3"


def test_the_views_custom_resource_runs_the_same_sql_the_tests_run_on_duckdb(assembly: Assembly) -> None:
    [views] = assembly.resources("Custom::LakeViews").values()
    statements = views["Properties"]["Statements"]
    base = [t.base_view_sql() for t in lake.event_tables(REPO / "events" / "schemas")]

    assert statements == base + [v.sql for v in metric_views()]


def test_the_lake_buckets_are_encrypted_and_have_lifecycle_rules(assembly: Assembly) -> None:
    buckets = assembly.resources("AWS::S3::Bucket")
    lake_buckets = {k: b["Properties"] for k, b in buckets.items() if "EventLake" in k}

    assert len(lake_buckets) == 2
    for properties in lake_buckets.values():
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert properties["LifecycleConfiguration"]["Rules"]
        assert properties["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True


def test_only_the_reports_functions_may_query_athena_and_only_in_their_workgroup(assembly: Assembly) -> None:
    allowed = {"reportsapi", "reportrollup", "lakeviews"}
    for key, policy in assembly.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if not any(str(a).startswith("athena:") for a in actions):
                continue
            assert any(name in key.split("/")[-1].lower() for name in allowed), key
            assert "workgroup/helpdesk-dev-reports" in json.dumps(statement["Resource"]), key
