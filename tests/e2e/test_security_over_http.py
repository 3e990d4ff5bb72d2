"""Over HTTP on the local runtime: the security headers on pages and API answers, and uploads checked.

The pages get what CloudFront's response-headers policies add in AWS; every API answer (the
functions', and the gateway's own refusals) gets the API set. An upload whose stored file is not
what was declared can't be linked to a message.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from helpdesk.security_headers import API_POLICY

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def csp(answer: requests.Response) -> dict[str, str]:
    policy = answer.headers["Content-Security-Policy"]
    return {part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2] for part in policy.split(";")}


def assert_common(answer: requests.Response) -> None:
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "camera=()" in answer.headers["Permissions-Policy"]


def test_the_messenger_page_may_be_framed_only_by_the_workspace_origins(local_runtime: Any) -> None:
    base = local_runtime.base_url
    for path in ("/messenger/", "/messenger/demo.html", "/messenger/static/messenger.js"):
        page = requests.get(f"{base}{path}", timeout=5)

        assert page.status_code == 200, path
        assert_common(page)
        assert csp(page)["frame-ancestors"] == "'self'", path  # the demo workspace: messenger_origins: [self]
        assert csp(page)["script-src"] == "'self'"
        assert "X-Frame-Options" not in page.headers
    config = requests.get(f"{base}/messenger/config.json", timeout=5).json()
    assert config["messenger_origins"] == ["self"]


def test_the_inbox_page_is_never_framed(local_runtime: Any) -> None:
    page = requests.get(f"{local_runtime.base_url}/inbox/", timeout=5)

    assert_common(page)
    assert csp(page)["frame-ancestors"] == "'none'"
    assert csp(page)["script-src"] == "'self'"
    assert page.headers["X-Frame-Options"] == "DENY"


def test_api_answers_and_the_gateways_own_refusals_carry_the_headers(local_runtime: Any) -> None:
    base = local_runtime.base_url
    visitor = requests.post(f"{base}/messenger/visitors", timeout=5)
    token = visitor.json()["visitor_token"]
    answers = {
        "created": visitor,
        "listed": requests.get(f"{base}/messenger/conversations", headers={"Authorization": f"Bearer {token}"}),
        "invalid": requests.post(
            f"{base}/messenger/conversations", headers={"Authorization": f"Bearer {token}"}, json={"body": 5}
        ),
        "openapi": requests.get(f"{base}/inbox/openapi.json", timeout=5),
    }
    refusals = {
        "no token": requests.get(f"{base}/messenger/tickets", timeout=5),
        "unknown path": requests.get(f"{base}/nowhere", timeout=5),
    }

    assert [a.status_code for a in answers.values()] == [201, 200, 422, 200]
    for name, answer in answers.items():
        assert_common(answer)
        assert answer.headers["Content-Security-Policy"] == API_POLICY.render(), name
        assert answer.headers["X-Frame-Options"] == "DENY", name
    assert [r.status_code for r in refusals.values()] == [401, 404]
    for name, refusal in refusals.items():
        assert_common(refusal)
        assert refusal.headers["Content-Security-Policy"] == "sandbox", name
        assert refusal.headers["X-Frame-Options"] == "DENY", name


def upload(base: str, token: str, *, content_type: str, size: int, content: bytes) -> str:
    started = requests.post(
        f"{base}/messenger/attachments",
        headers={"Authorization": f"Bearer {token}"},
        json={"filename": "photo.png", "content_type": content_type, "size": size},
        timeout=10,
    )
    assert started.status_code == 201, started.text
    form = started.json()["upload"]
    stored = requests.post(form["url"], data=form["fields"], files={"file": ("photo.png", content)}, timeout=10)
    assert stored.status_code in (200, 204), stored.text
    return str(started.json()["attachment_id"])


def test_an_upload_larger_than_declared_or_not_of_its_type_cant_be_linked(local_runtime: Any) -> None:
    base = local_runtime.base_url
    token = local_runtime.customer_token("uploads-over-http")
    customer = {"Authorization": f"Bearer {token}"}
    conversation = requests.post(f"{base}/messenger/conversations", headers=customer, json={"body": "hi"}).json()
    too_large = upload(base, token, content_type="image/png", size=16, content=PNG)
    not_a_png = upload(base, token, content_type="image/png", size=20, content=b"<script>alert(1)</script>"[:20])
    genuine = upload(base, token, content_type="image/png", size=len(PNG), content=PNG)
    path = f"{base}/messenger/conversations/{conversation['id']}/messages"

    refused = [requests.post(path, headers=customer, json={"attachment_ids": [a]}) for a in (too_large, not_a_png)]
    accepted = requests.post(path, headers=customer, json={"attachment_ids": [genuine]})

    assert [r.status_code for r in refused] == [422, 422]
    assert [r.json()["details"][0]["field"] for r in refused] == ["attachment_ids", "attachment_ids"]
    assert "bytes, but 16 were declared" in refused[0].json()["details"][0]["message"]
    assert "content is not image/png" in refused[1].json()["details"][0]["message"]
    assert accepted.status_code == 201, accepted.text
    page = requests.get(f"{base}/messenger/conversations/{conversation['id']}", headers=customer).json()
    linked = [a["id"] for m in page["messages"] for a in m.get("attachments") or []]
    assert linked == [genuine]
