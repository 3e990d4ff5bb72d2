"""DynamoDB transactions on the embedded AWS at the cost of what they touch, not of the whole table.

moto (5.2.x) keeps a transaction all-or-nothing by backing up the whole table before it runs, once per
item of the transaction (``copy.deepcopy`` of the table). On a table of 10,000 items a 10-item
``TransactWriteItems`` then takes about 9 s on this machine, and every write of this system is a
transaction (search keys and tag links are written with the item they name): the local runtime, whose
one table grows all day, slowed down until requests timed out.

``install()`` keeps moto's own transaction code (its checks, errors and order) and changes only the
backup: before the transaction runs, the items it names and the length of the table's stream are
kept; if it fails, those items are put back as they were and the stream records it wrote are dropped
(DynamoDB writes nothing to the stream for a cancelled transaction). moto's whole-table copy is
skipped (its restore then puts back the same table object, and ours restores the items).
"""

from __future__ import annotations

import copy
import types
from typing import Any

_INSTALLED = False


def _same_table_or_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    from moto.dynamodb.models.table import Table

    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def install() -> None:
    """Patch moto's ``DynamoDBBackend.transact_write_items`` (once per process)."""
    global _INSTALLED
    if _INSTALLED:
        return
    import moto.dynamodb.models as models

    original = models.DynamoDBBackend.transact_write_items
    # The module's only table copy is the transaction's backup (the other deepcopy is of one item).
    models.copy = types.SimpleNamespace(deepcopy=_same_table_or_copy)  # type: ignore[assignment]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        touched = _touched(self, transact_items)
        streams = {
            id(table): (table, len(table.stream_shard.items)) for table, *_ in touched if table.stream_shard is not None
        }
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, before in reversed(touched):
                _put_back(table, hash_value, range_value, before)
            for table, length in streams.values():
                del table.stream_shard.items[length:]
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _INSTALLED = True


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash value, range value, a copy of the item or None) for each item the transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            attributes = op.get("Item") if op_type == "Put" else op.get("Key") if table is not None else None
            if table is None or not isinstance(attributes, dict) or table.hash_key_attr not in attributes:
                continue  # moto refuses it with its own error, before writing anything
            hash_value = DynamoType(attributes[table.hash_key_attr])
            range_value = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in attributes:
                    continue
                range_value = DynamoType(attributes[table.range_key_attr])
            before = table.get_item(hash_value, range_value)
            touched.append((table, hash_value, range_value, copy.deepcopy(before)))
    return touched


def _put_back(table: Any, hash_value: Any, range_value: Any, before: Any) -> None:
    if range_value is None:
        if before is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = before
    elif before is None:
        table.items.get(hash_value, {}).pop(range_value, None)
    else:
        table.items[hash_value][range_value] = before
