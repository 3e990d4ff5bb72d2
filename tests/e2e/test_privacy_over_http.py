"""A customer's export and erasure on the local runtime: the export's zip built by the privacy worker,
the erasure run by its Step Functions state machine on moto's server, step by step through the queue."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.conftest import LocalRuntime, running_local_runtime
from tests.e2e.test_email_over_http import new_email, send
from tests.e2e.test_workflows_over_http import call, eventually, executions, outbox

pytestmark = pytest.mark.e2e
PHRASE = "the kettle whistles the anthem of Liechtenstein"
PHOTO = b"\xff\xd8\xff\xe0" + b"pia-photo-of-the-box " * 8
EMAILED = "the kettle's lid is still missing, sent from my old laptop"
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


def upload_photo(runtime: LocalRuntime, token: str) -> str:
    """Pia's photo of the box, uploaded as the messenger does (its bytes carry a marker to look for)."""
    asked = call(
        runtime,
        token,
        "POST",
        "/messenger/attachments",
        json={"filename": "box.jpg", "content_type": "image/jpeg", "size": len(PHOTO)},
    ).json()
    form = asked["upload"]
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("box.jpg", PHOTO)}, timeout=10)
    assert posted.ok, posted.text
    return str(asked["attachment_id"])


def search(runtime: LocalRuntime, admin: str, q: str) -> list[str]:
    found = call(runtime, admin, "GET", "/inbox/search", params={"q": q}).json()
    return [
        str(item.get("id") or item.get("user_id"))
        for kind in ("customers", "tickets", "conversations")
        for item in found[kind]
    ]


def rated_in_lake(runtime: LocalRuntime, admin: str, team: str) -> list[str]:
    """The tickets the CSAT chart's segment of ``team`` lists today (the view over the lake)."""
    today = datetime.now(UTC).date().isoformat()
    query = {"from": today, "to": today, "breakdown": "team", "segment": team}
    answer = call(runtime, admin, "GET", "/inbox/reports/csat/items", params=query)
    assert answer.status_code == 200, answer.text
    return [json.dumps(row) for row in answer.json()["rows"]]


def test_an_admin_exports_then_erases_a_customer_and_nothing_of_theirs_is_left(runtime: LocalRuntime) -> None:
    # Given Pia's day: a conversation with a photo and a phrase nobody else wrote, an email from her
    # address, an agent's answer, a ticket resolved and rated (and Sam's conversation, untouched)
    pia = runtime.customer_token("pia", name="Pia Private", email=EMAIL, phone=PHONE)
    sam = runtime.customer_token("sam", name="Sam Else", email="sam@example.com")
    admin = runtime.agent_token("admin-1", ["admins"])
    agent = runtime.agent_token("agent-frontline", ["frontline"])
    photo = upload_photo(runtime, pia)
    conversation = call(
        runtime, pia, "POST", "/messenger/conversations", json={"body": PHRASE, "attachment_ids": [photo]}
    ).json()
    call(runtime, sam, "POST", "/messenger/conversations", json={"body": "Sam's own words"})
    replied = call(
        runtime, agent, "POST", f"/inbox/conversations/{conversation['id']}/replies", json={"body": "Noted, Pia."}
    )
    # Her address joins her history once the stream's publisher has recorded it (her first conversation)
    eventually(
        lambda: [
            e
            for e in outbox(runtime)["events"]
            if e.get("detail-type") == "ConversationStarted" and e["detail"].get("customer_id") == "pia"
        ],
        "her address in the directory",
    )
    send(runtime, new_email(f"Pia Private <{EMAIL}>", "About my kettle", EMAILED))
    eventually(
        lambda: len(call(runtime, pia, "GET", "/messenger/conversations").json()["items"]) == 2 or None, "her email"
    )
    ticket = call(
        runtime,
        agent,
        "POST",
        f"/inbox/conversations/{conversation['id']}/ticket",
        json={"ticket_type_id": "damaged-item", "attributes": {"order_id": "ORD-7007", "description": "dented"}},
    ).json()
    team_lead = runtime.agent_token("lead-1", ["leads", ticket["team_id"]])
    resolved = call(
        runtime,
        team_lead,
        "PATCH",
        f"/inbox/tickets/{ticket['id']}",
        json={"version": ticket["version"], "state_id": "replaced"},
    )
    rated = call(runtime, pia, "POST", f"/messenger/tickets/{ticket['id']}/rating", json={"score": 2})
    in_lake = eventually(
        lambda: [r for r in rated_in_lake(runtime, admin, ticket["team_id"]) if ticket["id"] in r] or None,
        "her rating in the lake",
        timeout=90,
    )
    found_before = [search(runtime, admin, q) for q in ("pia.priv", "ORD-7007", "Liechtenstein")]

    # When an admin exports her data, then erases her
    export = call(runtime, admin, "POST", "/inbox/customers/pia/export").json()
    ready = eventually(
        lambda: finished(runtime, admin, f"/inbox/customers/pia/exports/{export['id']}"), "the export", timeout=60
    )
    archive = zipfile.ZipFile(io.BytesIO(requests.get(ready["download_url"], timeout=15).content))
    names = archive.namelist()
    exported = b"".join(archive.read(name) for name in names)
    erasure = call(runtime, admin, "POST", "/inbox/customers/pia/erasure").json()
    audit = eventually(
        lambda: finished(runtime, admin, f"/inbox/customers/pia/erasures/{erasure['id']}"), "the erasure", timeout=90
    )

    # Then the export held all she did, and nothing of hers is left: no S3 object (files, emails as
    # received, the lake, the search index), no search hit, no report row, no API answer; the audit
    # entry stays. (The search index is kept from the table's stream: it has forgotten her once the
    # indexer has read the erasure, seconds after the workflow ends.)
    def left_of_hers() -> bytes | None:
        stored = everything_in_s3(runtime)
        return None if any(secret.encode() in stored for secret in (EMAIL, PHONE, PHRASE, EMAILED)) else stored

    after = eventually(left_of_hers, "every S3 object to hold nothing of hers", timeout=60)
    announced = eventually(
        lambda: [e for e in outbox(runtime)["events"] if e.get("detail-type") == "CustomerErased"], "CustomerErased"
    )
    listed = call(runtime, pia, "GET", "/messenger/conversations").json()
    seen_by_agent = call(runtime, admin, "GET", f"/inbox/conversations/{conversation['id']}")
    ticket_after = call(runtime, admin, "GET", f"/inbox/tickets/{ticket['id']}")
    found_after = [search(runtime, admin, q) for q in ("pia.priv", "ORD-7007", "Liechtenstein")]
    rows_after = rated_in_lake(runtime, admin, ticket["team_id"])
    sams_after = search(runtime, admin, "sam@example")

    assert (replied.status_code, resolved.status_code, rated.status_code) == (201, 200, 201)
    assert in_lake
    assert all(found_before)
    profile = json.loads(archive.read("profile.json"))
    assert (profile["email"], profile["phone"]) == (EMAIL, PHONE)
    assert PHRASE.encode() in archive.read(f"conversations/{conversation['id']}.json")
    assert archive.read(f"attachments/{photo}-box.jpg") == PHOTO
    assert [json.loads(archive.read("ratings.json"))[0]["rating"]["score"]] == [2]
    assert [EMAILED.encode() in archive.read(n) for n in names if n.startswith("emails/")] == [True]
    assert b"Sam's own words" not in exported
    assert executions(runtime)[erasure["id"]] == "SUCCEEDED"
    assert audit["counts"]["items_deleted"] >= 3
    assert audit["counts"]["files_deleted"] >= 2  # the photo and the email as received
    assert [secret for secret in (EMAIL, PHONE, PHRASE, EMAILED) if secret.encode() in after] == []
    assert b"pia-photo-of-the-box" not in after
    assert sams_after  # only hers went
    assert found_after == [[], [], []]
    assert [r for r in rows_after if ticket["id"] in r] == []
    assert listed["items"] == []
    assert (seen_by_agent.status_code, ticket_after.status_code) == (404, 404)
    assert [(e["detail"]["customer_id"], e["detail"]["erasure_id"]) for e in announced] == [("pia", erasure["id"])]
