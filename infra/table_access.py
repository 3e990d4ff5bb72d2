"""What a function may do on the single table: named item actions, never Scan, never table admin.

The repository reads and writes through GetItem, BatchGetItem, Query, PutItem, UpdateItem and
TransactWriteItems. IAM has no TransactWriteItems action: a transaction is authorised item by item
through the action each part performs (PutItem, UpdateItem, DeleteItem, and ConditionCheckItem for
condition-only parts), so those are what we grant. Indexes only serve Query, so that is all a
function may do on them, and each index is named (no ``index/*`` wildcard).

DeleteItem is granted only where the code deletes, and only on the partitions it deletes from:
the inbox removes an agent's entry from a team roster (partition ``TEAM#<team>``) when the agent
leaves the team, checked by ``dynamodb:LeadingKeys``.
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from helpdesk.adapters.mapping import roster_pk
from helpdesk.adapters.table_definition import table_definition

TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
)
INDEX_ACTIONS = ("dynamodb:Query",)
ROSTER_PARTITIONS = f"{roster_pk('')}*"
"""``TEAM#*``: the only partitions a function deletes items from (team roster entries)."""


def grant_table_items(
    function: lambda_.Function, table: dynamodb.ITableV2, *, delete_roster_entries: bool = False
) -> None:
    indexes = [f"{table.table_arn}/index/{index.name}" for index in table_definition().indexes]
    function.add_to_role_policy(iam.PolicyStatement(actions=list(TABLE_ACTIONS), resources=[table.table_arn]))
    function.add_to_role_policy(iam.PolicyStatement(actions=list(INDEX_ACTIONS), resources=indexes))
    if delete_roster_entries:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:DeleteItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [ROSTER_PARTITIONS]}},
            )
        )
