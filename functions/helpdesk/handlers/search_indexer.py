"""DynamoDB stream worker: keeps the full-text index of messages and the search keys up to date.

The stream's third reader, beside the event publisher and the live fan-out. A batch is decoded and
applied as a whole (``helpdesk.services.search_indexing``): one new version of the message index in S3
(uploaded only over the version it was built on, so concurrent shards never lose each other's
changes) and one batch of key repairs. Both are idempotent: a failed batch is retried by the stream,
bisected, and after a few attempts goes to the on-failure queue (alarmed); the search keeps working
meanwhile (keys are written with their items; a stale key finds nothing).
"""

from __future__ import annotations

from typing import Any

from helpdesk.handlers.entry import Handler, LambdaFunction, logger, metrics


def build() -> Handler:
    from aws_lambda_powertools.metrics import MetricUnit

    from helpdesk import wiring
    from helpdesk.wiring import search as search_wiring

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        changes = [wiring.read_change(record) for record in event.get("Records") or []]
        report = search_wiring.search_indexer().process(changes)
        metrics().add_metric(name="MessageIndexOperations", unit=MetricUnit.Count, value=report.operations)
        logger().info(
            "search index updated",
            extra={
                "changes": len(changes),
                "operations": report.operations,
                "keys_saved": report.keys_saved,
                "keys_deleted": report.keys_deleted,
            },
        )
        return {"batchItemFailures": []}

    return handle


lambda_handler = LambdaFunction(build)
