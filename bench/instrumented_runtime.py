"""``python -m bench.instrumented_runtime``: the local runtime, counting what AWS would bill.

Runs ``localrt`` unchanged, with two wrappers installed first:
- every handler the gateway and the pollers load (``localrt.pollers.load_handler``) is timed and
  counted, with the size of the batch it was given;
- every AWS call botocore makes in this process is counted per service and operation; DynamoDB
  calls get their read/write units computed from item sizes by DynamoDB's rules (moto's
  ``ConsumedCapacity`` figures are constants, not measurements).
Calls made by the local runtime's own plumbing (the pollers standing in for Lambda's event-source
mappings, the relay standing in for an EventBridge -> SNS target) are told apart by thread, so they
are priced as what they stand for, not as API calls. ``/_bench/counts`` isn't served: the counts are
written to ``BENCH_COUNTS_FILE`` on demand (SIGUSR1) and at exit.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import botocore.client

from bench.harness import item_size, read_units, write_units

PLUMBING_THREADS = ("worker-",)
"""The threads of the local runtime's workers (``localrt.workers``): pollers, the schedule, the relay."""
_state = threading.local()
_lock = threading.Lock()
invocations: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "ms": [], "records": 0})
calls: dict[str, int] = defaultdict(int)
capacity = {"read_units": 0.0, "write_units": 0.0}


def _stored_item_size(table: str, key: dict[str, Any]) -> int | None:
    """The size of the item now stored under ``key`` in the embedded DynamoDB (moto runs in this process)."""
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.dynamo_type import DynamoType

        region = os.environ.get("AWS_REGION", "us-east-1")
        stored = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table)
        values = [DynamoType(v) for v in key.values()]
        item = stored.get_item(values[0], values[1] if len(values) > 1 else None)
    except Exception:  # noqa: BLE001 - an item we can't find is charged the minimum unit
        return None
    return item_size(item.to_json()["Attributes"]) if item is not None else None


def _write_size(table: str, request: dict[str, Any]) -> int:
    if "Item" in request:
        return item_size(request["Item"])
    return _stored_item_size(table, request.get("Key", {})) or 1


def _dynamodb_units(operation: str, params: dict[str, Any], response: dict[str, Any]) -> tuple[float, float]:
    """(read units, write units) of one DynamoDB call, by DynamoDB's published rules."""
    consistent = bool(params.get("ConsistentRead"))
    match operation:
        case "GetItem":
            return read_units(item_size(response.get("Item") or {}), consistent=consistent), 0.0
        case "Query":
            size = sum(item_size(i) for i in response.get("Items", []))
            return read_units(size, consistent=consistent), 0.0
        case "BatchGetItem":
            items = [i for table_items in response.get("Responses", {}).values() for i in table_items]
            return sum(read_units(item_size(i), consistent=consistent) for i in items), 0.0
        case "PutItem" | "UpdateItem" | "DeleteItem":
            return 0.0, write_units(_write_size(params["TableName"], params))
        case "BatchWriteItem":
            units = 0
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    body = request.get("PutRequest") or request.get("DeleteRequest") or {}
                    units += write_units(_write_size(table, body))
            return 0.0, float(units)
        case "TransactWriteItems":
            reads = writes = 0.0
            for entry in params.get("TransactItems", []):
                (kind, body), *_ = entry.items()
                if kind == "ConditionCheck":
                    reads += read_units(1, consistent=True, transactional=True)
                else:
                    writes += write_units(_write_size(body["TableName"], body), transactional=True)
            return reads, writes
        case "TransactGetItems":
            return sum(
                read_units(item_size(r.get("Item") or {}), consistent=True, transactional=True)
                for r in response.get("Responses", [])
            ), 0.0
    return 0.0, 0.0


def _install_call_counter() -> None:
    original = botocore.client.BaseClient._make_api_call

    def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
        response = original(client, operation, params)
        service = client.meta.service_model.service_name
        in_handler = getattr(_state, "handler", None)
        thread = threading.current_thread().name
        if in_handler:
            where = "handler"
        elif thread.startswith(PLUMBING_THREADS):
            where = "plumbing"
        else:
            where = "other"  # the Step Functions engine's service integrations, set-up
        if service == "sns" and operation == "Publish" and params.get("PhoneNumber"):
            operation = "PublishSms"  # an SMS, priced per message and country, not as a publish
        with _lock:
            calls[f"{where}:{service}:{operation}"] += 1
            if service == "dynamodb" and where != "plumbing":
                reads, writes = _dynamodb_units(operation, params, response)
                capacity["read_units"] += reads
                capacity["write_units"] += writes
            if service == "events" and operation == "PutEvents":
                calls[f"{where}:events:entries"] += len(params.get("Entries", []))
        return response

    botocore.client.BaseClient._make_api_call = counting


def _timed(dotted: str, handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
    def timed(event: dict[str, Any], context: Any) -> Any:
        _state.handler = dotted
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            _state.handler = None
            with _lock:
                entry = invocations[dotted]
                entry["count"] += 1
                entry["ms"].append(round(elapsed, 2))
                entry["records"] += len(event.get("Records", [])) if isinstance(event, dict) else 0

    return timed


def _install_handler_timer() -> None:
    import localrt.pollers

    original = localrt.pollers.load_handler

    def load_handler(dotted: str) -> Callable[[dict[str, Any], Any], Any]:
        return _timed(dotted, original(dotted))

    localrt.pollers.load_handler = load_handler


def dump(*_: object) -> None:
    target = os.environ.get("BENCH_COUNTS_FILE")
    if not target:
        return
    with _lock:
        snapshot = {"invocations": dict(invocations), "calls": dict(calls), "capacity": dict(capacity)}
    Path(target).write_text(json.dumps(snapshot))


def reset(signum: int, frame: FrameType | None) -> None:
    """SIGUSR2: forget what was counted so far (the runtime's own start-up)."""
    with _lock:
        invocations.clear()
        calls.clear()
        capacity.update(read_units=0.0, write_units=0.0)


def _serialize_dynamodb() -> None:
    """One DynamoDB request at a time inside moto, as ``tests/conftest.py``'s ``serializable_moto`` does.

    DynamoDB applies each request atomically; moto's server runs requests on threads with no lock, so
    under load a Query can iterate a partition while a write changes it ("dictionary changed size").
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in (
        "put_item",
        "update_item",
        "delete_item",
        "get_item",
        "query",
        "transact_write_items",
        "batch_write_item",
        "batch_get_item",
    ):
        original = getattr(DynamoDBBackend, name)

        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)


_KEPT: list[Any] = []


def main() -> int:
    if os.environ.get("BENCH_NO_TABLE_SNAPSHOTS"):
        from bench.harness import no_table_snapshots

        snapshots_off = no_table_snapshots()
        snapshots_off.__enter__()  # for the whole run
        _KEPT.append(snapshots_off)  # a collected generator would run its finally and undo it
    if os.environ.get("BENCH_SERIALIZE_DYNAMODB"):
        _serialize_dynamodb()
    _install_call_counter()
    _install_handler_timer()
    signal.signal(signal.SIGUSR1, lambda signum, frame: dump())
    signal.signal(signal.SIGUSR2, reset)
    from localrt.__main__ import main as localrt_main

    try:
        return localrt_main()
    finally:
        dump()


if __name__ == "__main__":
    sys.exit(main())
