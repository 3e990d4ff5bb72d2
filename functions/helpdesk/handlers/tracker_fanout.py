"""SQS worker: pushes a tracker's change to its linked tickets, one page per message.

Partial batch failures are reported, so one failing page is retried (and ends in the DLQ after
the queue's max receives) without redoing the others; each page is idempotent anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpdesk.handlers.entry import logger, sqs_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def handle_job(record: SQSRecord) -> None:
    from helpdesk import wiring
    from helpdesk.domain.models import FanOutJob

    job = FanOutJob.model_validate_json(record.body)
    covered = wiring.trackers().run(job)
    logger().info(
        "tracker fan-out page applied", extra={"tracker_id": job.tracker_id, "job_id": job.id, "tickets": covered}
    )


lambda_handler = sqs_worker(handle_job)
