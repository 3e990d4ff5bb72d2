"""The functions behind the REST API: one per ``API_SURFACES`` entry, and the messenger's authorizer.

- the **messenger** function runs the customers' API and the bot (so its custom actions' settings
  and secrets, and a timeout just under API Gateway's 29 s); it issues visitor tokens and verifies
  them on identify (the messenger secret), and signs presigned uploads and downloads of attachments;
- the **inbox** function runs the agents' API; it signs attachment downloads, deletes roster
  entries (an agent leaving a team) and queues tracker fan-out pages;
- the **reports** function runs the Reports page's API: it keeps its answers in the table, and is the
  only API function whose role may query the lake (``infra.lake.Lake.allow_queries``);
- the **messenger authorizer** verifies customers' tokens with the messenger secret.

Each may read and write the table's items; nothing else is granted beyond what is listed here.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from helpdesk.surfaces import API_SURFACES, INBOX, MESSENGER, MESSENGER_AUTHORIZER_HANDLER, REPORTS, TRACKER_FANOUT

from infra.config import DeploymentConfig
from infra.custom_actions import wire_custom_actions
from infra.functions import FunctionFactory, FunctionSpec
from infra.nag import nag
from infra.stateful import StatefulStack, attachments_bucket_name
from infra.table_access import grant_table_items

MESSENGER_TIMEOUT = Duration.seconds(28)
"""The bot's custom actions run inside a customer's request, and API Gateway waits 29 s."""
INBOX_TIMEOUT = Duration.seconds(15)


class ApiFunctions(Construct):
    """``by_surface`` maps each surface's name to its function; ``authorizer`` verifies customer tokens."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        data: StatefulStack,
        factory: FunctionFactory,
        queue_environment: Mapping[str, str],
        queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_surface: dict[str, lambda_.Function] = {}
        for surface in API_SURFACES:
            function = factory.build(
                FunctionSpec(
                    name=f"{surface.name}-api",
                    handler=surface.handler,
                    description=f"The {surface.name} API",
                    timeout=MESSENGER_TIMEOUT if surface is MESSENGER else INBOX_TIMEOUT,
                    environment={
                        "ATTACHMENTS_BUCKET": data.attachments.bucket_name,
                        "MESSENGER_SECRET_ARN": data.messenger_secret.secret_arn,
                        **queue_environment,
                    },
                ),
                scope=self,
            )
            nag(function).acknowledge(
                id="Serverless-LambdaDLQ",
                reason="Invoked synchronously by API Gateway only; errors go back to the caller, "
                "nothing to dead-letter.",
            )
            self.by_surface[surface.name] = function
        self.messenger, self.inbox = self.by_surface[MESSENGER.name], self.by_surface[INBOX.name]
        self.reports = self.by_surface[REPORTS.name]
        wire_custom_actions(config, self.messenger)  # the bot runs in the messenger function
        wire_custom_actions(config, self.inbox, profile_only=True)  # a customer profile's actions (recent orders)
        grant_table_items(self.messenger, data.table)
        grant_table_items(self.inbox, data.table, delete_roster_entries=True)  # an agent leaving a team
        grant_table_items(self.reports, data.table)  # its answers are kept in the table
        data.messenger_secret.grant_read(self.messenger)  # issues visitor tokens, verifies them on identify
        self._grant_attachments(config.stage)
        queues[TRACKER_FANOUT.name].grant_send_messages(self.inbox)
        self.authorizer = self._authorizer(factory, data)

    def _grant_attachments(self, stage: str) -> None:
        attachments = f"arn:{Aws.PARTITION}:s3:::{attachments_bucket_name(stage)}/attachments/*"
        # Presigned uploads and downloads are signed with these roles; HeadObject needs GetObject.
        self.messenger.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject"], resources=[attachments])
        )
        self.inbox.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[attachments]))
        rendered = f"arn:<AWS::Partition>:s3:::helpdesk-{stage}-attachments-<AWS::AccountId>-<AWS::Region>"
        for function in (self.messenger, self.inbox):
            nag(function.role or function).acknowledge(
                id=f"AwsSolutions-IAM5[Resource::{rendered}/attachments/*]",
                reason="Object keys are generated per upload (attachments/<customer>/<id>), so the grant names "
                "the attachments prefix of the one bucket, never the whole bucket or other buckets.",
            )

    def _authorizer(self, factory: FunctionFactory, data: StatefulStack) -> lambda_.Function:
        authorizer = factory.build(
            FunctionSpec(
                name="messenger-authorizer",
                handler=MESSENGER_AUTHORIZER_HANDLER,
                description="Verifies customers' messenger tokens",
                memory_mb=256,
                timeout=Duration.seconds(5),
                environment={"MESSENGER_SECRET_ARN": data.messenger_secret.secret_arn},
            ),
            scope=self,
        )
        data.messenger_secret.grant_read(authorizer)
        nag(authorizer).acknowledge(
            id="Serverless-LambdaDLQ",
            reason="Invoked synchronously by API Gateway as an authorizer; there is no asynchronous failure to keep.",
        )
        return authorizer

    def allow_origins(self, origins: list[str]) -> None:
        """Where browsers may call the APIs from (CORS): the hosted pages and the business's site."""
        for function in self.by_surface.values():
            function.add_environment("ALLOWED_ORIGINS", ",".join(origins))
