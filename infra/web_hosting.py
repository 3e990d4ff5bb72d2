"""The hosted web pages: the messenger page (and its embed script) and the agents' inbox page.

A private, encrypted S3 bucket served only through CloudFront (origin access control, HTTPS only,
access logs to the data stack's log bucket). The pages are copied in at deploy time with a
``config.json`` next to each that tells the page where the API is (and, for the inbox, how agents
sign in). Browser security headers come from one place: ``infra.security_headers`` (the messenger's
policy lets the workspace's ``messenger_origins`` frame it; the inbox's lets nobody).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.buckets import private_bucket
from infra.bundling import REPO
from infra.functions import LOG_RETENTION
from infra.nag import acknowledge_cdk_handler, nag
from infra.security_headers import PageHeaderPolicies

PAGES = REPO / "web"
DIRECTORY_INDEX = """function handler(event) {
  var request = event.request;
  if (request.uri.endsWith("/")) {
    request.uri += "index.html";
  } else if (request.uri === "/messenger" || request.uri === "/inbox") {
    request.uri += "/index.html";
  }
  return request;
}"""
"""CloudFront Function (viewer request): a page folder's address serves its ``index.html``; the query string
and fragment (``?ticket=...&link=...``) are left as they are."""


class WebHosting(Construct):
    """The pages bucket and its distribution; ``deploy`` copies a page folder in with its configuration."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        access_logs: s3.IBucket,
        removal: RemovalPolicy,
        auto_delete: bool,
        page_headers: PageHeaderPolicies,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(
            self,
            "WebPages",
            access_logs=access_logs,
            logs_prefix="web-pages/",
            removal=removal,
            auto_delete=auto_delete,
        )
        page_origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        # S3 behind origin access control has no index documents: "/messenger/" (the address in every
        # email, SMS and embed) is rewritten to "/messenger/index.html" before it reaches the bucket.
        directory_index = cloudfront.Function(
            self,
            "DirectoryIndex",
            comment="Serves index.html for a page folder's address",
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            code=cloudfront.FunctionCode.from_inline(DIRECTORY_INDEX),
        )
        on_request = [
            cloudfront.FunctionAssociation(
                function=directory_index, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
            )
        ]
        self.distribution = cloudfront.Distribution(
            self,
            "Pages",
            comment="Helpdesk messenger page",
            default_behavior=cloudfront.BehaviorOptions(
                origin=page_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=page_headers.messenger,
                function_associations=on_request,
            ),
            additional_behaviors={"/inbox/*": page_headers.inbox_behavior(page_origin, on_request=on_request)},
            default_root_object="messenger/index.html",
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix="cloudfront/",
        )
        self._acknowledge_distribution()
        # CDK's copy handler logs here, kept as long as the functions' own logs.
        self._deploy_logs = logs.LogGroup(self, "PageDeploymentLogs", retention=LOG_RETENTION, removal_policy=removal)
        self._deployments = 0

    def _acknowledge_distribution(self) -> None:
        nag(self.distribution).acknowledge(
            id="AwsSolutions-CFR1", reason="The messenger serves customers wherever they are; no geo restriction."
        )
        nag(self.distribution).acknowledge(
            id="AwsSolutions-CFR2",
            reason="The distribution serves static files only; every API call goes to the API, which has a WAF.",
        )
        nag(self.distribution).acknowledge(
            id="AwsSolutions-CFR4",
            reason="Uses the default *.cloudfront.net certificate, which can't pin a minimum TLS version; put a "
            "custom domain and certificate in front for TLS 1.2+ only.",
        )

    @property
    def origin(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"

    def url(self, page: str) -> str:
        """The address of a page folder (``messenger``, ``inbox``), with its trailing slash."""
        return f"{self.origin}/{page}/"

    def allowed_origins(self, site_origin: str) -> list[str]:
        """Browsers may call the API from the hosted pages and from the business's site that embeds the messenger."""
        allowed = sorted({self.origin, site_origin})
        return ["*"] if "*" in allowed else allowed

    def deploy(self, page: str, config: dict[str, Any]) -> None:
        """Copy ``web/<page>`` under ``<page>/`` with ``config.json``, and refresh CloudFront's copies."""
        s3deploy.BucketDeployment(
            self,
            f"Deploy{page.title()}",
            log_group=self._deploy_logs,
            destination_bucket=self.bucket,
            distribution=self.distribution,
            destination_key_prefix=page,
            sources=[s3deploy.Source.asset(str(PAGES / page)), s3deploy.Source.json_data("config.json", config)],
        )
        self._deployments += 1
        if self._deployments == 1:  # the copy handler is one per stack, created by the first deployment
            _acknowledge_bucket_deployment(Stack.of(self), self.bucket)


def _bucket_deployment_findings(bucket_logical_id: str) -> tuple[str, ...]:
    return (
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "AwsSolutions-IAM5[Action::s3:Abort*]",
        "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
        "AwsSolutions-IAM5[Action::s3:GetBucket*]",
        "AwsSolutions-IAM5[Action::s3:GetObject*]",
        "AwsSolutions-IAM5[Action::s3:List*]",
        "AwsSolutions-IAM5[Resource::*]",
        f"AwsSolutions-IAM5[Resource::<{bucket_logical_id}.Arn>/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
        "AwsSolutions-L1",
        "Serverless-LambdaDLQ",
        "Serverless-LambdaLatestVersion",
        "Serverless-LambdaTracing",
    )


def _acknowledge_bucket_deployment(stack: Stack, bucket: s3.Bucket) -> None:
    """CDK's BucketDeployment brings its own handler (a singleton) that copies the pages at deploy time."""
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    findings = _bucket_deployment_findings(stack.get_logical_id(cfn_bucket))
    acknowledge_cdk_handler(
        stack,
        "Custom::CDKBucketDeployment",
        findings,
        "CDK's own BucketDeployment handler: it runs only during deployment to copy the "
        "static pages from the CDK asset bucket into the pages bucket; its role and runtime are "
        "managed by aws-cdk-lib.",
    )
