"""The table's definition as the PynamoDB models declare it (keys, indexes, TTL, stream): the single
source of truth for its schema, shared by the CDK app, the local runtime and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.attributes import UnicodeAttribute

from helpdesk.adapters.table import TTL_ATTRIBUTE, TableItem, _Index


@dataclass(frozen=True)
class KeyDefinition:
    name: str
    type: str = "S"


@dataclass(frozen=True)
class IndexDefinition:
    name: str
    partition_key: KeyDefinition
    sort_key: KeyDefinition


@dataclass(frozen=True)
class TableDefinition:
    """What the infrastructure needs to create the table the models expect."""

    partition_key: KeyDefinition
    sort_key: KeyDefinition
    indexes: tuple[IndexDefinition, ...] = field(default_factory=tuple)
    ttl_attribute: str = TTL_ATTRIBUTE
    stream_view_type: str = "NEW_AND_OLD_IMAGES"

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments for boto3 ``create_table`` (local runtime and tests)."""
        attributes = {self.partition_key, self.sort_key}
        for index in self.indexes:
            attributes |= {index.partition_key, index.sort_key}
        return {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": a.name, "AttributeType": a.type} for a in sorted(attributes, key=str)
            ],
            "KeySchema": [
                {"AttributeName": self.partition_key.name, "KeyType": "HASH"},
                {"AttributeName": self.sort_key.name, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": index.name,
                    "KeySchema": [
                        {"AttributeName": index.partition_key.name, "KeyType": "HASH"},
                        {"AttributeName": index.sort_key.name, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in self.indexes
            ],
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": self.stream_view_type},
        }


def _key(attribute: UnicodeAttribute) -> KeyDefinition:
    return KeyDefinition(name=attribute.attr_name, type="S")


def table_definition() -> TableDefinition:
    """The table as the PynamoDB models declare it: the single source of truth for its schema."""
    indexes = []
    all_indexes: tuple[_Index, ...] = (
        TableItem.by_customer,
        TableItem.by_team,
        TableItem.by_assignee,
        TableItem.by_type,
        TableItem.by_state,
        TableItem.by_priority,
        TableItem.by_sla_due,
        TableItem.by_wake,
    )
    for index in all_indexes:
        keys = index.Meta.attributes.values()
        hash_key = next(a for a in keys if a.is_hash_key)
        range_key = next(a for a in keys if a.is_range_key)
        indexes.append(
            IndexDefinition(name=index.Meta.index_name, partition_key=_key(hash_key), sort_key=_key(range_key))
        )
    return TableDefinition(
        partition_key=_key(TableItem.pk),
        sort_key=_key(TableItem.sk),
        indexes=tuple(indexes),
    )
