"""SQS worker for data-protection requests: builds a customer's export (``{"task": "export"}``, queued
by the inbox route) and runs the erasure workflow's ``sqs:sendMessage.waitForTaskToken`` steps,
answering each through its token. A step that keeps failing lands in the queue's DLQ; the workflow's
own timeout and retries then run it again (every step is idempotent)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from helpdesk.handlers.entry import logger, metrics, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

ERASURE_STEPS = ("erase_lake", "erase_files", "erase_table")


def handle_task(record: SQSRecord) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from helpdesk import wiring
    from helpdesk.wiring import customer_data as privacy_wiring

    task = json.loads(record.body)
    name = task.get("task")
    service = privacy_wiring.customer_data()
    if name == "export":
        service.build_export(str(task["request_id"]), str(task["customer_id"]))
    elif name in ERASURE_STEPS:
        result = getattr(service, name)(str(task["erasure_id"]))
        wiring.workflow_engine().complete(str(task["token"]), result)
    elif name == "finish_erasure":
        steps = {**(task.get("lake") or {}), **(task.get("files") or {}), **(task.get("table") or {})}
        service.finish_erasure(str(task["erasure_id"]), steps)
        wiring.workflow_engine().complete(str(task["token"]), {})
    else:
        raise ValueError(f"unknown privacy task '{name}'")
    # Ids only: the request's id names the customer nowhere in the logs.
    logger().info(
        "privacy task done", extra={"task": name, "request_id": task.get("request_id") or task.get("erasure_id")}
    )
    metrics().add_metric(name=f"PrivacyTask{str(name).title().replace('_', '')}", unit=MetricUnit.Count, value=1)


lambda_handler = sqs_worker(handle_task)
