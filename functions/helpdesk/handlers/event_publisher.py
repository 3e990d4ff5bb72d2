"""DynamoDB stream worker: publishes the table's committed changes as domain events and status updates.

It also finishes what the table's TTL starts: a conversation or ticket removed (its retention ran
out) takes its messages or timeline, search keys and links with it (``services/record_removal``).

Each stream record becomes zero or more events on the EventBridge bus (``EVENT_BUS_NAME``) and
zero or more status updates on the SNS topic (``STATUS_TOPIC_ARN``); see
``helpdesk.services.domain_events`` for which and why.

Records are handled in stream order and the first one that fails stops the batch: it and every
later record are reported as batch item failures, so the stream retries from it and nothing of a
later change goes out before an earlier one. A retried record publishes again with the same ids.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from helpdesk.handlers.entry import Handler, LambdaFunction, logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord


class EarlierRecordFailed(Exception):
    """Not attempted: an earlier record of the batch failed, and changes must go out in order."""


STATUS_UPDATES = "status_updates"
published: Counter[str] = Counter()
"""Events published in this invocation, per detail type (plus status updates)."""
bot_outcomes: Counter[tuple[str, str]] = Counter()
"""Conversations whose bot part ended in this invocation, by (outcome, resolved_by)."""


def in_order_processor() -> Any:
    """A DynamoDB stream batch processor that stops at the first failing record.

    A batch whose every record failed is reported like any other (not raised), so the stream
    resumes from its first record either way.
    """
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    class InOrderStreamProcessor(BatchProcessor):
        def __init__(self) -> None:
            super().__init__(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)

        def _process_record(self, record: dict[str, Any]) -> Any:
            if self.fail_messages:
                skipped = DynamoDBRecord(record)
                sequence = skipped.dynamodb.sequence_number if skipped.dynamodb else "?"
                error = EarlierRecordFailed(f"record {sequence}")
                return self.failure_handler(record=skipped, exception=(EarlierRecordFailed, error, None))
            return super()._process_record(record)

    return InOrderStreamProcessor()


def handle_record(record: DynamoDBRecord) -> None:
    try:
        _publish(record)
    except Exception:
        # Our errors name what is wrong without item values, so the traceback is safe to log.
        sequence = record.dynamodb.sequence_number if record.dynamodb else None
        logger().exception("change not published: the stream retries from it", extra={"sequence": sequence})
        raise


def _publish(record: DynamoDBRecord) -> None:
    from helpdesk import wiring
    from helpdesk.services.domain_events import bot_finished, map_change, workflow_to_wake

    change = wiring.read_change(record.raw_event)
    if change.removed is not None:  # its retention's TTL (or an erasure) took a conversation or ticket
        from helpdesk.services.record_removal import forget_parts

        deleted = forget_parts(change, wiring.record_parts())
        logger().info("removed record's parts deleted", extra={"sequence": change.sequence, "items": deleted})
    finished = bot_finished(change)
    if finished is not None:
        bot_outcomes[finished] += 1
    token = workflow_to_wake(change)
    if token is not None:
        woken = wiring.workflow_engine().complete(token, {"woken_by": "ticket changed"})
        logger().info("parked workflow woken", extra={"sequence": change.sequence, "woken": woken})
    if wiring.settings().support_address:
        from helpdesk.services.email_directory import EmailDirectory
        from helpdesk.wiring import email as email_wiring

        EmailDirectory(email_wiring.email_records()).record(change)
    mapped = map_change(change, wiring.workspace(), wiring.stores().tickets.get_ticket)
    if not mapped.events and not mapped.status_updates:
        return
    wiring.event_bus().publish(mapped.events)
    wiring.status_topic().publish(mapped.status_updates)
    for event in mapped.events:
        published[event.detail_type.value] += 1
    published[STATUS_UPDATES] += len(mapped.status_updates)
    logger().info(
        "change published",
        extra={
            "sequence": change.sequence,
            "events": [{"detail_type": e.detail_type.value, "event_id": e.event_id} for e in mapped.events],
            "status_updates": [{"kind": u.kind.value, "id": u.id} for u in mapped.status_updates],
        },
    )


def _record_metrics() -> None:
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    """``EventsPublished`` per ``detail_type`` dimension, and ``StatusUpdatesPublished``."""
    for detail_type, count in sorted(published.items()):
        if not count:
            continue
        if detail_type == STATUS_UPDATES:
            metrics().add_metric(name="StatusUpdatesPublished", unit=MetricUnit.Count, value=count)
            continue
        with single_metric(
            name="EventsPublished", unit=MetricUnit.Count, value=count, namespace=metrics().namespace
        ) as metric:
            metric.add_dimension(name="detail_type", value=detail_type)
    published.clear()
    # The bot resolution rate: BotConversationsEnded{outcome=resolved} / all BotConversationsEnded.
    for (outcome, resolved_by), count in sorted(bot_outcomes.items()):
        with single_metric(
            name="BotConversationsEnded", unit=MetricUnit.Count, value=count, namespace=metrics().namespace
        ) as metric:
            metric.add_dimension(name="outcome", value=outcome)
            metric.add_dimension(name="resolved_by", value=resolved_by)
    bot_outcomes.clear()


def build() -> Handler:
    from aws_lambda_powertools.utilities.batch import process_partial_response

    processor = in_order_processor()

    def handle(event: dict[str, Any], context: Any) -> Any:
        published.clear()
        try:
            return process_partial_response(
                event=event, record_handler=handle_record, processor=processor, context=context
            )
        finally:
            _record_metrics()

    return handle


lambda_handler = LambdaFunction(build)
