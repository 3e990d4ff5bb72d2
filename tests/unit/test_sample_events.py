"""The sample events in ``events/``: one folder per function, each sample shaped as its trigger sends it.

Developers invoke functions with these (``sam local``-style, the Lambda-layout test, the handler
tests), so a sample that has drifted from what AWS delivers, or whose message the worker would
refuse, is a bug. Domain events inside samples must match their published schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
    DynamoDBStreamModel,
    EventBridgeModel,
    SqsModel,
)
from helpdesk.domain.events import DETAIL_MODELS, DetailType
from helpdesk.domain.models import FanOutJob
from helpdesk.domain.notifications import StatusUpdate
from helpdesk.handlers.email_ingest import parse_notification
from helpdesk.handlers.thumbnailer import created_objects
from helpdesk.services.email_feedback import parse_feedback
from helpdesk.services.inbound import INBOUND_TYPES, ObjectUpdate
from helpdesk.surfaces import (
    API_SURFACES,
    EMAIL_FEEDBACK,
    EMAIL_INGEST,
    EVENT_PUBLISHER,
    EVENT_SOURCE,
    INBOUND_EVENTS,
    LAKE_VIEWS_HANDLER,
    LIVE,
    LIVE_AUTHORIZER_HANDLER,
    LIVE_FANOUT,
    MESSENGER_AUTHORIZER_HANDLER,
    NOTIFIER,
    PRIVACY_TASKS,
    QUEUE_CONSUMERS,
    REPORT_ROLLUP,
    SEARCH_INDEXER,
    SNOOZE_WAKER,
    THUMBNAILER,
    TRACKER_FANOUT,
    WORKFLOW_STARTER,
    WORKFLOW_TASKS,
)
from jsonschema import Draft202012Validator

from tests.support.events import EVENTS

SCHEMAS = EVENTS / "schemas"


def module_of(handler: str) -> str:
    """``helpdesk.handlers.notifier.lambda_handler`` -> ``notifier``: the samples' folder."""
    return handler.rsplit(".", 2)[-2]


HANDLERS = {
    *(s.handler for s in API_SURFACES),
    *(c.handler for c in QUEUE_CONSUMERS),
    EVENT_PUBLISHER.handler,
    MESSENGER_AUTHORIZER_HANDLER,
    LAKE_VIEWS_HANDLER,
    LIVE.handler,
    LIVE_AUTHORIZER_HANDLER,
    LIVE_FANOUT.handler,
    SEARCH_INDEXER.handler,
}
SAMPLES = sorted(p for p in EVENTS.glob("*/*.json") if p.parent != SCHEMAS)


def published_detail_is_valid(event: dict[str, Any]) -> None:
    detail_type = DetailType(event["detail-type"])
    schema = json.loads((SCHEMAS / f"{detail_type.value}.json").read_text())
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(event["detail"])
    DETAIL_MODELS[detail_type].model_validate(event["detail"])


def eventbridge_event(body: str) -> None:
    """An EventBridge event delivered through a queue: ours match their schema; inbound ones their model."""
    event = json.loads(body)
    EventBridgeModel.model_validate(event)
    if event["source"] == EVENT_SOURCE:
        published_detail_is_valid(event)
    else:
        assert event["detail-type"] in INBOUND_TYPES
        ObjectUpdate.model_validate(event["detail"])


def workflow_task(body: str) -> None:
    task = json.loads(body)
    if task == {"tick": True}:  # the schedule: heartbeats for parked workflows
        return
    if task.get("task") == "heartbeat":  # the rest of a heartbeat round
        assert task["cursor"]
        return
    assert task["task"] in {"check", "park", "request_approval", "apply_decision"}
    assert task["ticket_id"]
    assert task["token"]
    assert task["execution"].startswith("arn:aws:states:")
    if task["task"] == "park":
        assert isinstance(task["version"], int)


def tick(body: str) -> None:
    assert json.loads(body) == {"tick": True}


def rollup_tick(body: str) -> None:
    """The schedule's tick, or the rollup's own follow-up while Athena computes."""
    tick = json.loads(body)
    assert tick == {"tick": True} or set(tick) == {"follow_up"}, tick


def privacy_task(body: str) -> None:
    """An export to build (queued by the inbox), or a step of the erasure workflow (with its token)."""
    task = json.loads(body)
    if task["task"] == "export":
        assert set(task) == {"task", "request_id", "customer_id"}
        return
    assert task["task"] in {"erase_lake", "erase_files", "erase_table", "finish_erasure"}
    assert task["erasure_id"]
    assert task["token"]


def s3_notification(body: str) -> None:
    """S3's ``ObjectCreated`` notification of an upload under ``attachments/`` (what the bucket sends)."""
    from aws_lambda_powertools.utilities.parser.models import S3Model

    S3Model.model_validate_json(body)
    created = created_objects(body)
    assert created
    assert all(key.startswith("attachments/") for key, _ in created)


QUEUE_MESSAGES: dict[str, Callable[[str], object]] = {
    TRACKER_FANOUT.name: FanOutJob.model_validate_json,
    SNOOZE_WAKER.name: tick,
    WORKFLOW_STARTER.name: eventbridge_event,
    WORKFLOW_TASKS.name: workflow_task,
    NOTIFIER.name: StatusUpdate.model_validate_json,
    INBOUND_EVENTS.name: eventbridge_event,
    EMAIL_INGEST.name: parse_notification,
    EMAIL_FEEDBACK.name: parse_feedback,
    REPORT_ROLLUP.name: rollup_tick,
    PRIVACY_TASKS.name: privacy_task,
    THUMBNAILER.name: s3_notification,
}
"""What each worker's queue carries, checked the way the worker reads it."""


def check_sample(module: str, event: dict[str, Any]) -> None:
    consumer = next((c for c in QUEUE_CONSUMERS if module_of(c.handler) == module), None)
    if any(module_of(s.handler) == module for s in API_SURFACES):
        APIGatewayProxyEventModel.model_validate(event)
    elif module == module_of(MESSENGER_AUTHORIZER_HANDLER):
        assert event["type"] == "REQUEST"
        assert event["methodArn"].startswith("arn:aws:execute-api:")
        assert event["headers"]["Authorization"].startswith("Bearer ")
    elif module == module_of(LIVE_AUTHORIZER_HANDLER):
        # Browsers can't set headers on a WebSocket: the token comes in Sec-WebSocket-Protocol or ?token=.
        assert event["type"] == "REQUEST"
        assert event["methodArn"].startswith("arn:aws:execute-api:")
        assert event["methodArn"].endswith("/$connect")
        assert "Sec-WebSocket-Protocol" in event["headers"] or "token" in (event.get("queryStringParameters") or {})
    elif module == module_of(LIVE.handler):
        context = event["requestContext"]
        assert context["routeKey"] in LIVE.routes
        models = {
            "CONNECT": APIGatewayWebSocketConnectEventModel,
            "DISCONNECT": APIGatewayWebSocketDisconnectEventModel,
            "MESSAGE": APIGatewayWebSocketMessageEventModel,
        }
        models[context["eventType"]].model_validate(event)
        if context["eventType"] == "MESSAGE":
            assert json.loads(event["body"])["action"] == context["routeKey"]
    elif module in {module_of(c.handler) for c in (EVENT_PUBLISHER, LIVE_FANOUT, SEARCH_INDEXER)}:
        from helpdesk.adapters.table import TableItem

        for change in DynamoDBStreamModel.model_validate(event).Records:
            assert change.dynamodb.SequenceNumber
        for record in event["Records"]:  # images decode into the table's item models
            for image in ("NewImage", "OldImage"):
                if image in record["dynamodb"]:
                    TableItem.from_raw_data(record["dynamodb"][image])
    elif module == module_of(LAKE_VIEWS_HANDLER):  # a CloudFormation custom-resource request
        assert event["RequestType"] in {"Create", "Update", "Delete"}
        assert event["ResponseURL"].startswith("https://")
        assert all(isinstance(s, str) for s in event["ResourceProperties"]["Statements"])
    elif consumer is not None:
        for message in SqsModel.model_validate(event).Records:
            QUEUE_MESSAGES[consumer.name](str(message.body))
    else:
        raise AssertionError(f"events/{module} belongs to no function")


def test_every_function_has_sample_events_and_every_folder_a_function() -> None:
    folders = {p.name for p in EVENTS.iterdir() if p.is_dir() and p != SCHEMAS}
    modules = {module_of(h) for h in HANDLERS}
    assert folders == modules
    for module in modules:
        assert list((EVENTS / module).glob("*.json")), f"events/{module} has no sample"
    assert set(QUEUE_MESSAGES) == {c.name for c in QUEUE_CONSUMERS}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_sample_is_what_its_trigger_delivers(sample: Path) -> None:
    check_sample(sample.parent.name, json.loads(sample.read_text()))


def test_a_sample_with_a_domain_event_its_schema_refuses_is_caught() -> None:
    # Given the workflow starter's sample, with a TicketCreated missing a field its schema requires
    event = json.loads((EVENTS / "workflow_starter" / "ticket_created.json").read_text())
    body = json.loads(event["Records"][0]["body"])
    del body["detail"]["created_by_type"]
    event["Records"][0]["body"] = json.dumps(body)
    # When it is checked, Then it is refused
    with pytest.raises(Exception, match="created_by_type"):
        check_sample("workflow_starter", event)
