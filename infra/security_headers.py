"""CloudFront response-headers policies for the hosted pages, and the headers of API Gateway's own answers.

The values come from ``helpdesk.security_headers``, the one declaration the API functions and the
local gateway serve too. CloudFront's managed ``SECURITY_HEADERS`` policy would send
``X-Frame-Options: SAMEORIGIN`` and no CSP: it blocks the cross-origin embed the messenger exists
for, and protects nothing against script injection. So there are two custom policies:

- the messenger page (the distribution's default behavior): framed only by the workspace's
  ``messenger_origins``, calling only the API and the attachments bucket;
- the inbox (``/inbox/*``): never framed, calling only the API, the Cognito sign-in domain and the
  attachments bucket (the composer uploads agents' files).

The API's URL is known only once the API exists, and the API needs the distribution's domain for
CORS; so the CSP is rendered lazily, at synthesis, after ``allow_api`` named it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import jsii
from aws_cdk import Aws, Duration, IStableStringProducer, Lazy
from aws_cdk import aws_cloudfront as cloudfront
from constructs import Construct
from helpdesk.security_headers import (
    HSTS_INCLUDE_SUBDOMAINS,
    HSTS_MAX_AGE_SECONDS,
    PERMISSIONS_POLICY,
    REFERRER_POLICY,
    PageName,
    gateway_answer_headers,
    page_policy,
)

from infra.stateful import attachments_bucket_name


def workspace_messenger_origins(workspace_dir: Path) -> tuple[str, ...]:
    """The sites the deployed workspace lets embed the messenger (``messenger_origins`` in workspace.yaml)."""
    from helpdesk.adapters.workspace_files import load_workspace

    return load_workspace(workspace_dir).messenger_origins


def attachments_origins(stage: str) -> list[str]:
    """Where browsers upload and download attachments: the bucket's global and regional endpoints."""
    bucket = attachments_bucket_name(stage)
    return [f"https://{bucket}.s3.{Aws.URL_SUFFIX}", f"https://{bucket}.s3.{Aws.REGION}.{Aws.URL_SUFFIX}"]


@jsii.implements(IStableStringProducer)
class _RenderedPolicy:
    def __init__(self, render: Callable[[], str]) -> None:
        self._render = render

    def produce(self) -> str:
        return self._render()


class PageHeaderPolicies(Construct):
    """The messenger's and the inbox's response-headers policies."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        messenger_origins: Sequence[str],
        files: Sequence[str],
        sign_in: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._api: list[str] = []
        self._messenger_origins = tuple(messenger_origins)
        self._files = list(files)
        self._sign_in = [sign_in]
        self.messenger = self._policy("Messenger", "messenger")
        self.inbox = self._policy("Inbox", "inbox")

    def allow_api(self, url: str) -> None:
        """The pages call the API at this URL (``RestApi.url``: the stage's base path)."""
        self._api.append(url)

    def csp(self, page: PageName) -> str:
        policy = page_policy(
            page, messenger_origins=self._messenger_origins, api=self._api, files=self._files, sign_in=self._sign_in
        )
        if not self._api:
            raise ValueError("PageHeaderPolicies: call allow_api(<the API's URL>) so the pages may call it")
        return policy.render()

    def inbox_behavior(
        self, origin: cloudfront.IOrigin, *, on_request: list[cloudfront.FunctionAssociation] | None = None
    ) -> cloudfront.BehaviorOptions:
        """The ``/inbox/*`` behavior: the same bucket, with the inbox's policy."""
        return cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            response_headers_policy=self.inbox,
            function_associations=on_request,
        )

    def _policy(self, construct_id: str, page: PageName) -> cloudfront.ResponseHeadersPolicy:
        csp = Lazy.string(_RenderedPolicy(lambda: self.csp(page)))
        return cloudfront.ResponseHeadersPolicy(
            self,
            construct_id,
            comment=f"Helpdesk {page} page: strict CSP, "
            + ("framed by the workspace's messenger_origins" if page == "messenger" else "never framed"),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy[REFERRER_POLICY.upper().replace("-", "_")],
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(HSTS_MAX_AGE_SECONDS),
                    include_subdomains=HSTS_INCLUDE_SUBDOMAINS,
                    override=True,
                ),
                frame_options=(
                    cloudfront.ResponseHeadersFrameOptions(
                        frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                    )
                    if page == "inbox"
                    else None
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy", value=PERMISSIONS_POLICY, override=True
                    )
                ]
            ),
        )


def gateway_response_headers() -> dict[str, str]:
    """API Gateway's own answers (authorizer refusals, throttling, its 4xx/5xx), as the static values a
    gateway response maps: each in single quotes."""
    return {name: f"'{value}'" for name, value in gateway_answer_headers().items()}
