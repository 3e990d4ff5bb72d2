"""The security headers of every page and API answer, declared once.

Read by the API functions (every answer they build), the local gateway (the pages it serves and the
answers it makes itself) and the CDK app (CloudFront's response-headers policies for the pages, API
Gateway's own error answers), so that AWS and the local runtime can't disagree.

- Pages: a Content-Security-Policy with no inline script or style at all (``script-src 'self'``),
  calling only the API, the attachments bucket and (the inbox) the sign-in domain. The messenger page
  may be framed only by the workspace's ``messenger_origins`` (``frame-ancestors``); the inbox never.
- API answers: JSON is never a document: ``default-src 'none'`` and never framed. The one HTML answer
  (Swagger UI, which powertools serves inline) gets the hashes of exactly its inline blocks.
- Everywhere: ``nosniff``, ``strict-origin-when-cross-origin``, HSTS for two years, and no powerful
  browser feature (camera, microphone, geolocation, payment...) for anything we serve.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

PageName = Literal["messenger", "inbox"]

SELF = "'self'"
NONE = "'none'"
SELF_ORIGIN = "self"
"""The keyword a workspace's ``messenger_origins`` uses for the messenger page's own origin."""

CONTENT_TYPE_OPTIONS = "nosniff"
REFERRER_POLICY = "strict-origin-when-cross-origin"
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60
HSTS_INCLUDE_SUBDOMAINS = True
STRICT_TRANSPORT_SECURITY = f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
"""Nothing we serve uses these; a file input still opens the camera app on a phone (that is not the
``camera`` feature, which is live capture from script)."""
FRAME_OPTIONS_DENY = "DENY"
"""For what is never framed; the messenger page relies on ``frame-ancestors`` (X-Frame-Options can't list origins)."""


@dataclass(frozen=True)
class ContentSecurityPolicy:
    directives: tuple[tuple[str, tuple[str, ...]], ...]

    def render(self) -> str:
        return "; ".join(" ".join((name, *sources)) for name, sources in self.directives)

    def sources(self, directive: str) -> tuple[str, ...]:
        return next((sources for name, sources in self.directives if name == directive), ())


def frame_ancestors(messenger_origins: Iterable[str]) -> tuple[str, ...]:
    """The CSP sources for a workspace's ``messenger_origins``: ``self`` is ``'self'``; none at all is ``'none'``."""
    sources = tuple(dict.fromkeys(SELF if origin == SELF_ORIGIN else origin for origin in messenger_origins))
    return sources or (NONE,)


def _unique(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(source for group in groups for source in group))


def page_policy(
    page: PageName,
    *,
    messenger_origins: Iterable[str] = (),
    api: Sequence[str] = (),
    files: Sequence[str] = (),
    sign_in: Sequence[str] = (),
) -> ContentSecurityPolicy:
    """The policy of a hosted page.

    ``api``: where the page's API lives (another origin in AWS; ``'self'`` covers it locally);
    ``files``: the attachments bucket (both pages upload to it: the messenger's customers and the inbox
    composer's agents; both show its images);
    ``sign_in``: the inbox's Cognito domain (the page exchanges its sign-in code there).
    """
    connect = _unique((SELF,), api, files, sign_in if page == "inbox" else ())
    ancestors = frame_ancestors(messenger_origins) if page == "messenger" else (NONE,)
    return ContentSecurityPolicy(
        (
            ("default-src", (NONE,)),
            ("script-src", (SELF,)),
            ("style-src", (SELF,)),
            ("img-src", _unique((SELF, "data:", "blob:"), files)),
            ("media-src", _unique((SELF, "blob:"), files)),
            ("font-src", (SELF,)),
            ("connect-src", connect),
            # The demo shop page, served beside the messenger, embeds it; the inbox embeds nothing.
            ("frame-src", (SELF,) if page == "messenger" else (NONE,)),
            ("frame-ancestors", ancestors),
            ("base-uri", (NONE,)),
            ("form-action", (NONE,)),
            ("object-src", (NONE,)),
        )
    )


API_POLICY = ContentSecurityPolicy(
    (
        ("default-src", (NONE,)),
        ("frame-ancestors", (NONE,)),
        ("base-uri", (NONE,)),
        ("form-action", (NONE,)),
    )
)
"""What an API answer (JSON) is allowed to do if a browser ever renders it: nothing."""

GATEWAY_ANSWER_POLICY = ContentSecurityPolicy((("sandbox", ()),))
"""For API Gateway's own answers (authorizer refusals, throttling): their header values are static strings
in single quotes, so they can't hold ``'none'``; ``sandbox`` alone makes a rendered answer an inert
document in an opaque origin, and X-Frame-Options keeps it unframed."""

_INLINE_BLOCK = re.compile(r"<(script|style)(?:\s[^>]*)?>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)


def _hash_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def document_policy(html: str) -> ContentSecurityPolicy:
    """For an HTML answer made in code (Swagger UI; the local outbox page): exactly its own inline blocks.

    Each inline ``<script>`` and ``<style>`` is allowed by its SHA-256 hash, so nothing injected runs;
    it calls only its own origin and is never framed.
    """
    scripts: list[str] = []
    styles: list[str] = []
    for kind, body in _INLINE_BLOCK.findall(html):
        if body.strip():
            (scripts if kind.lower() == "script" else styles).append(_hash_source(body))
    return ContentSecurityPolicy(
        (
            ("default-src", (NONE,)),
            ("script-src", tuple(dict.fromkeys(scripts)) or (NONE,)),
            ("style-src", tuple(dict.fromkeys(styles)) or (NONE,)),
            ("img-src", (SELF, "data:")),
            ("connect-src", (SELF,)),
            ("frame-ancestors", (NONE,)),
            ("base-uri", (NONE,)),
            ("form-action", (NONE,)),
        )
    )


def _common() -> dict[str, str]:
    return {
        "X-Content-Type-Options": CONTENT_TYPE_OPTIONS,
        "Referrer-Policy": REFERRER_POLICY,
        "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY,
        "Permissions-Policy": PERMISSIONS_POLICY,
    }


def page_headers(page: PageName, policy: ContentSecurityPolicy) -> dict[str, str]:
    """The headers of a hosted page (CloudFront's policy in AWS, the gateway locally)."""
    headers = {**_common(), "Content-Security-Policy": policy.render()}
    if page == "inbox":
        headers["X-Frame-Options"] = FRAME_OPTIONS_DENY
    return headers


def api_headers(content_type: str = "application/json", body: str = "") -> dict[str, str]:
    """The headers of an API answer: ``API_POLICY`` for data, ``document_policy`` for an HTML document."""
    is_html = content_type.split(";", 1)[0].strip().lower() == "text/html"
    policy = document_policy(body) if is_html else API_POLICY
    return {**_common(), "Content-Security-Policy": policy.render(), "X-Frame-Options": FRAME_OPTIONS_DENY}


def with_api_headers(result: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway proxy result with the security headers added (those it set itself win)."""
    single = dict(result.get("headers") or {})
    multi = dict(result.get("multiValueHeaders") or {})
    present = {name.lower() for name in (*single, *multi)}
    content_type = next((str(v) for k, v in single.items() if k.lower() == "content-type"), "")
    if not content_type:
        content_type = next((str(v[0]) for k, v in multi.items() if k.lower() == "content-type" and v), "")
    body = str(result.get("body") or "") if not result.get("isBase64Encoded") else ""
    missing = {k: v for k, v in api_headers(content_type, body).items() if k.lower() not in present}
    if multi and not single:
        return {**result, "multiValueHeaders": {**multi, **{k: [v] for k, v in missing.items()}}}
    return {**result, "headers": {**single, **missing}}


def gateway_answer_headers() -> dict[str, str]:
    """The headers API Gateway adds to the answers it makes itself (``GATEWAY_ANSWER_POLICY``)."""
    return {
        **_common(),
        "Content-Security-Policy": GATEWAY_ANSWER_POLICY.render(),
        "X-Frame-Options": FRAME_OPTIONS_DENY,
    }
