"""The email channel in AWS: SES receiving for the support domain, and the feedback on what we send.

- **In**: a receipt rule set ``helpdesk-<stage>`` with one rule for the support address's domain
  (TLS required, SES's spam and virus scan on): its S3 action stores each email under ``inbound/`` in
  the (encrypted, lifecycle-managed) inbound bucket and announces it on the ``inbound-email`` topic,
  whose queue feeds the email-ingest worker. A rule set only receives once it is the account's
  *active* one: CloudFormation can't switch it (there is one per region and account, perhaps
  already in use), so activation is a documented operator step (``infra/README.md``).
- **Out**: a configuration set ``helpdesk-<stage>`` every email is sent with; its bounce and
  complaint events go to the ``email-events`` topic, whose queue feeds the email-feedback worker
  (suppression).
- **Grants**: SES may write only under ``inbound/`` (CDK's S3 action), publish only to these two
  topics from this account's rule set and configuration set, and encrypt with the topics' key; the
  ingest worker reads ``inbound/`` and writes the kept files under ``attachments/``; senders may
  ``SendRawEmail`` from the sender and support identities with the configuration set only; the email
  secret is read by the functions that sign or check reply addresses and links.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Aws, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import aws_sns as sns
from constructs import Construct
from helpdesk.adapters.email_records import ADDRESS_DIRECTORY_PREFIX
from helpdesk.surfaces import EMAIL_ORIGINALS_PREFIX, INBOUND_EMAIL_PREFIX

from infra.config import sender_domain
from infra.nag import nag


def rule_set_name(stage: str) -> str:
    return f"helpdesk-{stage}"


def configuration_set_name(stage: str) -> str:
    return f"helpdesk-{stage}"


class EmailChannel(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        support_email: str,
        sender_email: str,
        inbound_bucket: s3.IBucket,
        inbound_objects_arn: str,
        attachments_prefix_arn: str,
        inbound_topic: sns.ITopic,
        events_topic: sns.ITopic,
        topics_key: kms.IKey,
        email_secret: secretsmanager.ISecret,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage
        self.support_email = support_email
        self.sender_email = sender_email
        self._inbound_bucket = inbound_bucket
        self._inbound_objects_arn = inbound_objects_arn
        self._attachments_prefix_arn = attachments_prefix_arn
        self._secret = email_secret
        stack = Stack.of(self)

        topics_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SesPublishesEmailTopics",
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        rule_set_arn = stack.format_arn(service="ses", resource="receipt-rule-set", resource_name=rule_set_name(stage))
        inbound_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SesReceivingAnnounces",
                principals=[iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[inbound_topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": f"{rule_set_arn}:receipt-rule/*"},
                },
            )
        )

        self.rule_set = ses.ReceiptRuleSet(self, "RuleSet", receipt_rule_set_name=rule_set_name(stage))
        self.rule = self.rule_set.add_rule(
            "SupportDomain",
            recipients=[sender_domain(support_email)],
            scan_enabled=True,
            tls_policy=ses.TlsPolicy.REQUIRE,
            actions=[
                ses_actions.S3(bucket=inbound_bucket, object_key_prefix=INBOUND_EMAIL_PREFIX, topic=inbound_topic)
            ],
        )

        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=configuration_set_name(stage),
            reputation_metrics=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        self.configuration_set.add_event_destination(
            "BouncesAndComplaints",
            destination=ses.EventDestination.sns_topic(events_topic),
            events=[ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
        )

    @property
    def environment(self) -> dict[str, str]:
        return {
            "SUPPORT_ADDRESS": self.support_email,
            "NOTIFY_FROM_EMAIL": self.sender_email,
            "NOTIFY_CONFIGURATION_SET": self.configuration_set.configuration_set_name,
            "EMAIL_SECRET_ARN": self._secret.secret_arn,
        }

    def _configure(self, function: lambda_.Function) -> None:
        for name, value in self.environment.items():
            function.add_environment(name, value)
        self._secret.grant_read(function)

    def grant_ingest(self, worker: lambda_.Function, attachments_bucket: s3.IBucket) -> None:
        """The ingest worker: read what SES stored, keep files as attachments, check reply addresses."""
        self._configure(worker)
        worker.add_environment("INBOUND_EMAIL_BUCKET", self._inbound_bucket.bucket_name)
        worker.add_environment("ATTACHMENTS_BUCKET", attachments_bucket.bucket_name)
        reads, writes = self._inbound_objects_arn, self._attachments_prefix_arn
        # Each email, once read, is filed under its customer (copied, then deleted where SES put it).
        filed = self._inbound_objects_arn.removesuffix(INBOUND_EMAIL_PREFIX + "*") + EMAIL_ORIGINALS_PREFIX + "*"
        worker.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject", "s3:DeleteObject"], resources=[reads]))
        worker.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[writes, filed]))
        rendered = "arn:<AWS::Partition>:s3:::helpdesk-{stage}-{bucket}-<AWS::AccountId>-<AWS::Region>/{prefix}*"
        rendered_buckets = {
            "attachments": rendered.format(stage=self._stage, bucket="attachments", prefix="attachments/"),
            "inbound emails": rendered.format(stage=self._stage, bucket="inbound", prefix=INBOUND_EMAIL_PREFIX),
            "customers' filed emails": rendered.format(
                stage=self._stage, bucket="inbound", prefix=EMAIL_ORIGINALS_PREFIX
            ),
        }
        for what, resource in rendered_buckets.items():
            nag(worker.role or worker).acknowledge(
                id=f"AwsSolutions-IAM5[Resource::{resource}]",
                reason=f"Object keys of the {what} are generated per object (by SES, or per attachment), so the "
                "grant names that one prefix of the one bucket, never the whole bucket or other buckets.",
            )

    def grant_send(self, senders: Iterable[lambda_.Function]) -> None:
        """Raw email from our two identities, only with the configuration set (so feedback is heard)."""
        stack = Stack.of(self)
        identities = {
            stack.format_arn(service="ses", resource="identity", resource_name=name)
            for address in (self.sender_email, self.support_email)
            for name in (address, sender_domain(address))
        }
        configuration_set = stack.format_arn(
            service="ses", resource="configuration-set", resource_name=self.configuration_set.configuration_set_name
        )
        for function in senders:
            self._configure(function)
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["ses:SendRawEmail"], resources=[*sorted(identities), configuration_set])
            )

    def grant_directory(self, publisher: lambda_.Function, table: dynamodb.ITableV2) -> None:
        """The stream consumer records business-signed addresses: ``PutItem`` on ``EMAILADDR#`` items only."""
        publisher.add_environment("SUPPORT_ADDRESS", self.support_email)
        publisher.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{ADDRESS_DIRECTORY_PREFIX}*"]}},
            )
        )

    def grant_links(self, function: lambda_.Function) -> None:
        """Signing and checking reply addresses and links, without sending anything (the messenger
        exchanges links; a fresh link it is asked for is sent by the notifier)."""
        self._configure(function)
