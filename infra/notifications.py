"""What the notifier worker needs to reach customers: SES email with a template, and SMS through SNS.

The From address (``notify_from_email``) must be verified in SES, or sit at a verified domain; the
grant names both identities, whichever the operator verified. While the account is in the SES
sandbox, recipients must be verified too; SMS accounts start in the SNS SMS sandbox likewise.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from constructs import Construct
from helpdesk.adapters.channels import STATUS_UPDATE_TEMPLATE

from infra.config import sender_domain
from infra.nag import nag

# One template, defined next to the code that fills it in.
STATUS_SUBJECT = STATUS_UPDATE_TEMPLATE["SubjectPart"]
STATUS_TEXT = STATUS_UPDATE_TEMPLATE["TextPart"]
STATUS_HTML = STATUS_UPDATE_TEMPLATE["HtmlPart"]


def status_template_name(stage: str) -> str:
    """Per stage: SES templates are per account and region, shared by every stage deployed there."""
    return f"helpdesk-status-update-{stage}"


class Notifications(Construct):
    """The status-update email template, and the notifier's grants and settings."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str, from_email: str) -> None:
        super().__init__(scope, construct_id)
        self.from_email = from_email
        self.template_name = status_template_name(stage)
        self.template = ses.CfnTemplate(
            self,
            "StatusUpdateTemplate",
            template=ses.CfnTemplate.TemplateProperty(
                template_name=self.template_name,
                subject_part=STATUS_SUBJECT,
                text_part=STATUS_TEXT,
                html_part=STATUS_HTML,
            ),
        )

    @property
    def environment(self) -> dict[str, str]:
        return {"NOTIFY_FROM_EMAIL": self.from_email, "STATUS_TEMPLATE_NAME": self.template_name}

    def grant_send(self, notifier: lambda_.Function) -> None:
        """Templated email from the one sender identity, and SMS (which IAM can't narrow to numbers)."""
        stack = Stack.of(self)
        identities = [
            stack.format_arn(service="ses", resource="identity", resource_name=name)
            for name in (self.from_email, sender_domain(self.from_email))
        ]
        template = stack.format_arn(service="ses", resource="template", resource_name=self.template_name)
        notifier.add_to_role_policy(
            iam.PolicyStatement(actions=["ses:SendEmail", "ses:SendTemplatedEmail"], resources=[*identities, template])
        )
        notifier.add_to_role_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]))
        nag(notifier.role or notifier).acknowledge(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="Two statements need '*': sns:Publish to a phone number (SMS) has no resource ARN to name, "
            "IAM authorises direct SMS against '*' (that statement holds sns:Publish only); and X-Ray's "
            "PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
        )
        for name, value in self.environment.items():
            notifier.add_environment(name, value)
