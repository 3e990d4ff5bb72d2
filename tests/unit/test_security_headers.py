"""The security headers declared once: strict pages, inert API answers, and pages that need nothing inline."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from helpdesk.security_headers import (
    API_POLICY,
    api_headers,
    document_policy,
    page_headers,
    page_policy,
    with_api_headers,
)

WEB = Path(__file__).resolve().parents[2] / "web"
UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:")


@pytest.mark.parametrize("page", ["messenger", "inbox"])
def test_no_page_may_run_inline_or_foreign_script(page: str) -> None:
    policy = page_policy(page, messenger_origins=["self"], api=["https://api.example.com"])  # type: ignore[arg-type]

    assert policy.sources("script-src") == ("'self'",)
    assert policy.sources("style-src") == ("'self'",)
    assert policy.sources("default-src") == ("'none'",)
    assert policy.sources("base-uri") == policy.sources("object-src") == ("'none'",)
    assert not set(UNSAFE) & set(policy.sources("script-src") + policy.sources("style-src"))


def test_the_messenger_may_be_framed_only_by_the_workspace_origins() -> None:
    allowed = page_policy("messenger", messenger_origins=["self", "https://shop.example.com"])
    nobody = page_policy("messenger", messenger_origins=[])

    assert allowed.sources("frame-ancestors") == ("'self'", "https://shop.example.com")
    assert nobody.sources("frame-ancestors") == ("'none'",)
    assert "X-Frame-Options" not in page_headers("messenger", allowed)


def test_the_inbox_is_never_framed_whatever_the_workspace_allows_for_the_messenger() -> None:
    policy = page_policy("inbox", messenger_origins=["https://shop.example.com"])

    assert policy.sources("frame-ancestors") == ("'none'",)
    assert page_headers("inbox", policy)["X-Frame-Options"] == "DENY"


def test_each_page_calls_only_what_it_needs() -> None:
    api, files, sign_in = ["https://api.example.com/prod/"], ["https://files.example.com"], ["https://auth.example.com"]

    messenger = page_policy("messenger", api=api, files=files, sign_in=sign_in)
    inbox = page_policy("inbox", api=api, files=files, sign_in=sign_in)

    assert messenger.sources("connect-src") == ("'self'", *api, *files)
    assert inbox.sources("connect-src") == ("'self'", *api, *files, *sign_in)


def test_every_answer_carries_nosniff_referrer_policy_hsts_and_permissions_policy() -> None:
    for headers in (api_headers(), page_headers("messenger", page_policy("messenger"))):
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["Strict-Transport-Security"].startswith("max-age=63072000")
        assert "camera=()" in headers["Permissions-Policy"]


def test_an_html_document_from_code_runs_only_its_own_inline_blocks() -> None:
    script, style = "var ui = SwaggerUIBundle({});", "body { margin: 0 }"
    html = f"<html><head><style>{style}</style></head><body><script>{script}</script></body></html>"

    policy = document_policy(html)

    expected = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert policy.sources("script-src") == (f"'sha256-{expected}'",)
    assert len(policy.sources("style-src")) == 1
    assert policy.sources("frame-ancestors") == ("'none'",)
    assert document_policy("<p>no script</p>").sources("script-src") == ("'none'",)


def test_an_api_answer_gets_the_headers_but_keeps_its_own() -> None:
    answer = {"statusCode": 200, "multiValueHeaders": {"Content-Type": ["application/json"]}, "body": "{}"}
    own = {"statusCode": 200, "headers": {"Content-Type": "application/json", "Referrer-Policy": "no-referrer"}}

    secured = with_api_headers(answer)
    kept = with_api_headers(own)

    assert secured["multiValueHeaders"]["Content-Security-Policy"] == [API_POLICY.render()]
    assert secured["multiValueHeaders"]["X-Content-Type-Options"] == ["nosniff"]
    assert kept["headers"]["Referrer-Policy"] == "no-referrer"
    assert kept["headers"]["X-Frame-Options"] == "DENY"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "an inline <script>"),
    (re.compile(r"<style\b", re.IGNORECASE), "an inline <style>"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an inline event handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
]


@pytest.mark.parametrize("page", sorted(WEB.rglob("*.html")), ids=lambda p: str(p.relative_to(WEB)))
def test_no_hosted_page_has_anything_inline_the_policy_would_block(page: Path) -> None:
    text = page.read_text(encoding="utf-8")

    found = [what for pattern, what in INLINE if pattern.search(text)]

    assert found == [], f"{page.relative_to(WEB)} has {', '.join(found)}: move it to a file under static/"
