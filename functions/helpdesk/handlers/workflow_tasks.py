"""SQS worker for the workflows' ``sqs:sendMessage.waitForTaskToken`` tasks.

Each message names the task, the ticket and the task token; the answer goes back through the token
(``check``, ``apply_decision``) or is kept for later (``park``: woken by a change or its timeout;
``request_approval``: completed by the specialist's decision in the inbox). A task that keeps
failing lands in the queue's DLQ; the workflow's own timeout then retries the step.

The queue also gets a scheduled tick (``{"tick": true}``): the worker then sends a heartbeat for
every token a long wait keeps on a ticket, a few hundred per message, queueing a ``heartbeat`` task
with a cursor for the rest.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.api.app import workflow_engine, workflow_task_queue, workflows

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def handle_task(record: SQSRecord) -> None:
    task = json.loads(record.body)
    if task.get("tick") or task.get("task") == "heartbeat":
        keep_parked_alive(task.get("cursor"))
        return
    name, ticket_id, token = task["task"], task["ticket_id"], task["token"]
    service = workflows()
    match name:
        case "check":
            result = service.check(ticket_id)
            workflow_engine().complete(token, result)
        case "park":
            # A long wait declares a heartbeat (and says so in its message): it goes on the heartbeat round.
            service.park(ticket_id, token, int(task["version"]), watched=bool(task.get("heartbeat_seconds")))
        case "request_approval":
            service.request_approval(ticket_id, token)
        case "apply_decision":
            decision = task.get("decision") or {}
            service.apply_decision(ticket_id, str(decision.get("decision", "")))
            workflow_engine().complete(token, {})
        case _:
            raise ValueError(f"unknown workflow task '{name}'")
    logger.info("workflow task done", extra={"task": name, "ticket_id": ticket_id})
    metrics.add_metric(name=f"WorkflowTask{name.title().replace('_', '')}", unit=MetricUnit.Count, value=1)


def keep_parked_alive(cursor: str | None) -> None:
    forgotten, rest = workflows().keep_parked_alive(cursor)
    if rest is not None:
        workflow_task_queue().send({"task": "heartbeat", "cursor": rest})
    if forgotten:
        logger.info("tokens no workflow waits on were forgotten", extra={"count": forgotten})
    metrics.add_metric(name="WorkflowHeartbeatRounds", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_task, processor=processor, context=context)
