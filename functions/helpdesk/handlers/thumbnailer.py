"""SQS worker: draws the thumbnail of each image attachment S3 has just stored.

Each record's body is S3's event notification (``s3:ObjectCreated:*`` under ``attachments/``, sent by
the bucket to this queue; locally the runtime sends the same message when an upload lands). S3's
``s3:TestEvent`` (sent once when the notification is set up) is ignored. Skipped files (not an image,
too large) are logged and not retried; a record that fails (an AWS error) comes back alone and, after
the queue's max receives, lands in the DLQ. Redelivery writes the same thumbnail again.

Metrics: ``thumbnails_made``, ``thumbnails_skipped``. Logs carry object keys (ids, no names) and reasons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpdesk.handlers.entry import logger, metrics, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class MalformedNotification(ValueError):
    """The record isn't an S3 event notification."""


def created_objects(body: str) -> list[tuple[str, int | None]]:
    """The (key, size) of each object an S3 event notification announces as created."""
    import json
    from urllib.parse import unquote_plus

    try:
        data: Any = json.loads(body)
    except ValueError:
        raise MalformedNotification("not an S3 event notification: the body isn't JSON") from None
    if not isinstance(data, dict):
        raise MalformedNotification("not an S3 event notification: the body isn't an object")
    if data.get("Event") == "s3:TestEvent":
        return []
    records = data.get("Records")
    if not isinstance(records, list):
        raise MalformedNotification("not an S3 event notification: check Records")
    created = []
    for record in records:
        if not isinstance(record, dict) or not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        stored = record.get("s3", {}).get("object", {})
        if not isinstance(stored, dict) or not isinstance(stored.get("key"), str):
            raise MalformedNotification("not an S3 event notification: check Records.s3.object.key")
        size = stored.get("size")
        # S3 sends keys URL-encoded (a space as '+').
        created.append((unquote_plus(stored["key"]), int(size) if isinstance(size, int) else None))
    return created


def handle_upload(record: SQSRecord) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from helpdesk import wiring

    try:
        created = created_objects(record.body)
    except MalformedNotification as malformed:
        logger().warning("malformed S3 notification, skipped", extra={"reason": str(malformed)})
        return  # retrying can't make it an S3 event: no retry storm
    service = wiring.thumbnails()
    for key, size in created:
        outcome = service.make(key, size)
        metrics().add_metric(
            name="thumbnails_made" if outcome.made else "thumbnails_skipped", unit=MetricUnit.Count, value=1
        )
        if outcome.made:
            logger().info("thumbnail made", extra={"key": key})
        else:
            logger().info("thumbnail skipped", extra={"key": key, "reason": outcome.reason})


lambda_handler = sqs_worker(handle_upload)
