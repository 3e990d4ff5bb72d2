"""The stateful stack: what holds data and identities, deployed apart so stateless changes never risk it.

- the single DynamoDB table, built from the PynamoDB models' ``table_definition()``;
- the attachments bucket (private, encrypted, TLS only, lifecycle rules) and its access-log bucket;
- the messenger secret the business signs customer tokens with;
- the inbound email bucket (SES receiving stores every email for the support domain there, kept for
  the workspace's ``retention.email_originals_days``) and the email secret (the key of reply addresses
  and of the links in emails); every bucket's expiry rules come from that ``retention`` block;
- the Cognito user pool agents sign in to (groups are team ids).
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from helpdesk.adapters.table_definition import KeyDefinition, table_definition
from helpdesk.adapters.workspace_files import load_workspace
from helpdesk.surfaces import ADMIN_GROUP, INBOUND_EMAIL_PREFIX, LEAD_GROUP

from infra.buckets import private_bucket
from infra.config import DeploymentConfig
from infra.lake import LakeBuckets
from infra.nag import nag
from infra.retention import expiry_rules, retention_of


def inbound_email_bucket_name(stage: str) -> str:
    return f"helpdesk-{stage}-inbound-{Aws.ACCOUNT_ID}-{Aws.REGION}"


def attachments_bucket_name(stage: str) -> str:
    return f"helpdesk-{stage}-attachments-{Aws.ACCOUNT_ID}-{Aws.REGION}"


ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _attribute(key: KeyDefinition) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=ATTRIBUTE_TYPES[key.type])


def _signing_secret(
    scope: Construct, construct_id: str, *, description: str, not_scheduled: str, removal: RemovalPolicy
) -> secretsmanager.Secret:
    """A generated 64-character signing key; ``not_scheduled`` says why it rotates by hand, not on a schedule."""
    secret = secretsmanager.Secret(
        scope,
        construct_id,
        description=description,
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=64, exclude_punctuation=True, include_space=False
        ),
        removal_policy=removal,
    )
    nag(secret).acknowledge(id="AwsSolutions-SMG4", reason=not_scheduled)
    return secret


class StatefulStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = RemovalPolicy.RETAIN if config.is_production else RemovalPolicy.DESTROY
        definition = table_definition()

        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=_attribute(definition.partition_key),
            sort_key=_attribute(definition.sort_key),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=config.is_production,
            removal_policy=removal,
            time_to_live_attribute=definition.ttl_attribute,
            dynamo_stream=dynamodb.StreamViewType(definition.stream_view_type),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=_attribute(index.partition_key),
                    sort_key=_attribute(index.sort_key),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
                for index in definition.indexes
            ],
        )

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            removal_policy=removal,
            auto_delete_objects=not config.is_production,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
        )
        nag(self.access_logs).acknowledge(
            id="AwsSolutions-S1",
            reason="This is the access-log bucket itself; logging it into itself would loop.",
        )

        retention = retention_of(config.workspace_dir)
        file_rules = [r for r in expiry_rules(retention, "files") if r.prefix != INBOUND_EMAIL_PREFIX]
        self.attachments = private_bucket(
            self,
            "Attachments",
            access_logs=self.access_logs,
            logs_prefix="attachments/",
            removal=removal,
            auto_delete=not config.is_production,
            # A predictable name lets the functions' policies name the object prefix they may use.
            bucket_name=attachments_bucket_name(config.stage),
            versioned=False,
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.POST],
                    # The messenger page uploads from its CloudFront origin (unknown to this stack).
                    allowed_origins=sorted({config.messenger_origin, "https://*.cloudfront.net"}),
                    allowed_headers=["*"],
                    max_age=600,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1)),
                s3.LifecycleRule(
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(30)
                        )
                    ]
                ),
                *file_rules,  # the workspace's retention: attachments/ and exports/ expire
            ],
        )

        self.inbound_email = private_bucket(
            self,
            "InboundEmail",
            access_logs=self.access_logs,
            logs_prefix="inbound-email/",
            removal=removal,
            auto_delete=not config.is_production,
            # A predictable name lets the ingest worker's policy name the prefix it reads.
            bucket_name=inbound_email_bucket_name(config.stage),
            # Every email SES received for the support domain, as received: the conversation keeps only
            # the new words and the files, so the original is here for agents and audits, 90 days.
            versioned=False,
            lifecycle_rules=[
                s3.LifecycleRule(id="retention-inbound", expiration=Duration.days(retention.email_originals_days)),
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )
        self.email_secret = _signing_secret(
            self,
            "EmailSecret",
            description="HMAC key of the reply addresses and links in the helpdesk's emails. Rotate by putting "
            '{"current": "<new>", "previous": "<old>"}: emails sent before keep working until they expire.',
            not_scheduled="Reply addresses and links already sent carry signatures made with this key; a scheduled "
            "rotation would break them all at once, so rotation is an operator action that keeps the previous "
            'key valid ({"current", "previous"}), documented in infra/README.md.',
            removal=removal,
        )
        self.lake = LakeBuckets(
            self,
            "EventLake",
            stage=config.stage,
            access_logs=self.access_logs,
            removal=removal,
            production=config.is_production,
            retention=retention,
        )

        self.messenger_secret = _signing_secret(
            self,
            "MessengerSecret",
            description="HS256 secret your backend signs customers' messenger tokens with. Rotate by "
            "putting a new value and re-signing tokens with it.",
            not_scheduled="The business's own backend signs tokens with this secret; an automatic rotation would "
            "break every live customer session until their backend re-reads it, so rotation is an explicit, "
            "documented operator action (put-secret-value) rather than a schedule.",
            removal=removal,
        )

        self.user_pool = cognito.UserPool(
            self,
            "Agents",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=removal,
        )
        nag(self.user_pool).acknowledge(
            id="AwsSolutions-COG3",
            reason="Threat protection is on in full-function mode through the Plus feature plan, the "
            "replacement for the AdvancedSecurityMode property this rule still looks for.",
        )
        self.user_pool_domain = self.user_pool.add_domain(
            "SignIn",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"helpdesk-{config.stage}-{Aws.ACCOUNT_ID}"),
        )
        self.user_pool_client = self.user_pool.add_client(
            "InboxClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(7),
        )
        for team in load_workspace(config.workspace_dir).teams:
            cognito.CfnUserPoolGroup(
                self,
                f"Team{team.id.title().replace('-', '')}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=team.id,
            )
        cognito.CfnUserPoolGroup(
            self,
            "AdminsGroup",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=ADMIN_GROUP,
            description="Admins: may do everything in every team.",
        )
        cognito.CfnUserPoolGroup(
            self,
            "LeadsGroup",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=LEAD_GROUP,
            description="Team leads: their teams' work, plus reassigning it to anyone and deciding approvals.",
        )

        for name, value in {
            "UserPoolId": self.user_pool.user_pool_id,
            "UserPoolClientId": self.user_pool_client.user_pool_client_id,
            "MessengerSecretArn": self.messenger_secret.secret_arn,
            "TableName": self.table.table_name,
            "AttachmentsBucket": self.attachments.bucket_name,
            "InboundEmailBucket": self.inbound_email.bucket_name,
            "EmailSecretArn": self.email_secret.secret_arn,
            "LakeBucket": self.lake.lake.bucket_name,
            "QueryResultsBucket": self.lake.results.bucket_name,
        }.items():
            CfnOutput(self, name, value=value)
