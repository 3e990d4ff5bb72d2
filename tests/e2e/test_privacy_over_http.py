"""A customer's export and erasure on the local runtime: the export's zip built by the privacy worker,
the erasure run by its Step Functions state machine on moto's server, step by step through the queue."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.conftest import LocalRuntime, running_local_runtime
from tests.e2e.test_workflows_over_http import call, eventually, executions, outbox

pytestmark = pytest.mark.e2e
PHRASE = "the kettle whistles the anthem of Liechtenstein"
EMAIL, PHONE = "pia.private@example.com", "+447700900777"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    with running_local_runtime(
        tmp_path_factory.mktemp("localrt-privacy"), LOCAL_TABLE_NAME="helpdesk-privacy"
    ) as started:
        yield started


def finished(runtime: LocalRuntime, admin: str, path: str) -> dict[str, Any] | None:
    body: dict[str, Any] = call(runtime, admin, "GET", path).json()
    return body if body.get("status") == "done" else None


def everything_in_s3(runtime: LocalRuntime) -> bytes:
    s3 = boto3.client(
        "s3",
        endpoint_url=runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local-dev",
        aws_secret_access_key="local-dev",
    )
    import gzip

    stored = b""
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
                stored += gzip.decompress(body) if entry["Key"].endswith(".gz") else body
    return stored


def test_an_admin_exports_then_erases_a_customer_and_nothing_of_theirs_is_left(runtime: LocalRuntime) -> None:
    pia = runtime.customer_token("pia", name="Pia Private", email=EMAIL, phone=PHONE)
    admin = runtime.agent_token("admin-1", ["admins"])
    agent = runtime.agent_token("agent-frontline", ["frontline"])
    conversation = call(runtime, pia, "POST", "/messenger/conversations", json={"body": PHRASE}).json()
    replied = call(
        runtime, agent, "POST", f"/inbox/conversations/{conversation['id']}/replies", json={"body": "Noted, Pia."}
    )

    export = call(runtime, admin, "POST", "/inbox/customers/pia/export").json()
    ready = eventually(
        lambda: finished(runtime, admin, f"/inbox/customers/pia/exports/{export['id']}"), "the export", timeout=60
    )
    archive = zipfile.ZipFile(io.BytesIO(requests.get(ready["download_url"], timeout=15).content))
    exported = archive.read(f"conversations/{conversation['id']}.json")

    erasure = call(runtime, admin, "POST", "/inbox/customers/pia/erasure").json()
    audit = eventually(
        lambda: finished(runtime, admin, f"/inbox/customers/pia/erasures/{erasure['id']}"), "the erasure", timeout=90
    )
    after = everything_in_s3(runtime)
    announced = eventually(
        lambda: [e for e in outbox(runtime)["events"] if e.get("detail-type") == "CustomerErased"], "CustomerErased"
    )
    listed = call(runtime, pia, "GET", "/messenger/conversations").json()
    seen_by_agent = call(runtime, admin, "GET", f"/inbox/conversations/{conversation['id']}")

    assert replied.status_code == 201
    assert PHRASE.encode() in exported
    assert executions(runtime)[erasure["id"]] == "SUCCEEDED"
    assert audit["counts"]["items_deleted"] >= 3
    assert [secret for secret in (EMAIL, PHONE, PHRASE) if secret.encode() in after] == []
    assert listed["items"] == []
    assert seen_by_agent.status_code == 404
    assert [(e["detail"]["customer_id"], e["detail"]["erasure_id"]) for e in announced] == [("pia", erasure["id"])]
