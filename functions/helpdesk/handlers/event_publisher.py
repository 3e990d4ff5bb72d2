"""DynamoDB stream worker: publishes the table's committed changes as domain events and status updates.

Each stream record becomes zero or more events on the EventBridge bus (``EVENT_BUS_NAME``) and
zero or more status updates on the SNS topic (``STATUS_TOPIC_ARN``); see
``helpdesk.services.domain_events`` for which and why.

Records are handled in stream order and the first one that fails stops the batch: it and every
later record are reported as batch item failures, so the stream retries from it and nothing of a
later change goes out before an earlier one. A retried record publishes again with the same ids.
"""

from __future__ import annotations

import os
from collections import Counter
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.adapters.event_bus import EventBusPublisher
from helpdesk.adapters.repository import TableRepository
from helpdesk.adapters.status_topic import StatusTopicPublisher
from helpdesk.adapters.workflow_engine import StepFunctionsEngine
from helpdesk.adapters.workspace_files import workspace_from_environment
from helpdesk.services.domain_events import StreamChange, bot_finished, map_change, workflow_to_wake

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class EarlierRecordFailed(Exception):
    """Not attempted: an earlier record of the batch failed, and changes must go out in order."""


class InOrderStreamProcessor(BatchProcessor):
    """A DynamoDB stream batch processor that stops at the first failing record.

    A batch whose every record failed is reported like any other (not raised), so the stream
    resumes from its first record either way.
    """

    def __init__(self) -> None:
        super().__init__(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)

    def _process_record(self, record: dict[str, Any]) -> Any:
        if self.fail_messages:
            skipped = DynamoDBRecord(record)
            error = EarlierRecordFailed(f"record {skipped.dynamodb.sequence_number if skipped.dynamodb else '?'}")
            return self.failure_handler(record=skipped, exception=(EarlierRecordFailed, error, None))
        return super()._process_record(record)


processor = InOrderStreamProcessor()
STATUS_UPDATES = "status_updates"
published: Counter[str] = Counter()
bot_outcomes: Counter[tuple[str, str]] = Counter()
"""Conversations whose bot part ended in this invocation, by (outcome, resolved_by)."""
"""Events published in this invocation, per detail type (plus status updates)."""


@cache
def event_bus() -> EventBusPublisher:
    return EventBusPublisher(os.environ["EVENT_BUS_NAME"])


@cache
def status_topic() -> StatusTopicPublisher:
    return StatusTopicPublisher(os.environ["STATUS_TOPIC_ARN"])


@cache
def repository() -> TableRepository:
    return TableRepository()


@cache
def workflow_engine() -> StepFunctionsEngine:
    return StepFunctionsEngine()


def handle_record(record: DynamoDBRecord) -> None:
    try:
        _publish(record)
    except Exception:
        # Our errors name what is wrong without item values, so the traceback is safe to log.
        sequence = record.dynamodb.sequence_number if record.dynamodb else None
        logger.exception("change not published: the stream retries from it", extra={"sequence": sequence})
        raise


def _publish(record: DynamoDBRecord) -> None:
    change = StreamChange.from_record(record.raw_event)
    finished = bot_finished(change)
    if finished is not None:
        bot_outcomes[finished] += 1
    token = workflow_to_wake(change)
    if token is not None:
        woken = workflow_engine().complete(token, {"woken_by": "ticket changed"})
        logger.info("parked workflow woken", extra={"sequence": change.sequence, "woken": woken})
    mapped = map_change(change, workspace_from_environment(), repository().get_ticket)
    if not mapped.events and not mapped.status_updates:
        return
    event_bus().publish(mapped.events)
    status_topic().publish(mapped.status_updates)
    for event in mapped.events:
        published[event.detail_type.value] += 1
    published[STATUS_UPDATES] += len(mapped.status_updates)
    logger.info(
        "change published",
        extra={
            "sequence": change.sequence,
            "events": [{"detail_type": e.detail_type.value, "event_id": e.event_id} for e in mapped.events],
            "status_updates": [{"kind": u.kind.value, "id": u.id} for u in mapped.status_updates],
        },
    )


def _record_metrics() -> None:
    """``EventsPublished`` per ``detail_type`` dimension, and ``StatusUpdatesPublished``."""
    for detail_type, count in sorted(published.items()):
        if not count:
            continue
        if detail_type == STATUS_UPDATES:
            metrics.add_metric(name="StatusUpdatesPublished", unit=MetricUnit.Count, value=count)
            continue
        with single_metric(
            name="EventsPublished", unit=MetricUnit.Count, value=count, namespace=metrics.namespace
        ) as metric:
            metric.add_dimension(name="detail_type", value=detail_type)
    published.clear()
    # The bot resolution rate: BotConversationsEnded{outcome=resolved} / all BotConversationsEnded.
    for (outcome, resolved_by), count in sorted(bot_outcomes.items()):
        with single_metric(
            name="BotConversationsEnded", unit=MetricUnit.Count, value=count, namespace=metrics.namespace
        ) as metric:
            metric.add_dimension(name="outcome", value=outcome)
            metric.add_dimension(name="resolved_by", value=resolved_by)
    bot_outcomes.clear()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    published.clear()
    try:
        return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
    finally:
        _record_metrics()
