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
from typing import TYPE_CHECKING

from helpdesk.handlers.entry import logger, metrics, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def handle_task(record: SQSRecord) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from helpdesk import wiring

    task = json.loads(record.body)
    if task.get("tick") or task.get("task") == "heartbeat":
        keep_parked_alive(task.get("cursor"))
        return
    name, ticket_id, token = task["task"], task["ticket_id"], task["token"]
    service = wiring.workflows()
    match name:
        case "check":
            result = service.check(ticket_id)
            wiring.workflow_engine().complete(token, result)
        case "park":
            # A long wait declares a heartbeat (and says so in its message): it goes on the heartbeat round.
            service.park(ticket_id, token, int(task["version"]), watched=bool(task.get("heartbeat_seconds")))
        case "request_approval":
            service.request_approval(ticket_id, token)
        case "apply_decision":
            decision = task.get("decision") or {}
            service.apply_decision(ticket_id, str(decision.get("decision", "")))
            wiring.workflow_engine().complete(token, {})
        case _:
            raise ValueError(f"unknown workflow task '{name}'")
    logger().info("workflow task done", extra={"task": name, "ticket_id": ticket_id})
    metrics().add_metric(name=f"WorkflowTask{name.title().replace('_', '')}", unit=MetricUnit.Count, value=1)


def keep_parked_alive(cursor: str | None) -> None:
    """One part of the scheduled heartbeat round; the rest, if any, is queued as the next task."""
    from aws_lambda_powertools.metrics import MetricUnit

    from helpdesk import wiring

    forgotten, rest = wiring.workflows().keep_parked_alive(cursor)
    if rest is not None:
        wiring.workflow_task_queue().send({"task": "heartbeat", "cursor": rest})
    if forgotten:
        logger().info("tokens no workflow waits on were forgotten", extra={"count": forgotten})
    metrics().add_metric(name="WorkflowHeartbeatRounds", unit=MetricUnit.Count, value=1)


lambda_handler = sqs_worker(handle_task)
