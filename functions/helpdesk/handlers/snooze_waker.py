"""Scheduled worker: wakes snoozed conversations whose time has come (a tick per minute via SQS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpdesk.handlers.entry import logger, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def handle_tick(record: SQSRecord) -> None:
    from helpdesk import wiring

    woken = wiring.conversations().wake_due()
    if woken:
        logger().info("snoozed conversations woke", extra={"count": woken})


lambda_handler = sqs_worker(handle_tick)
