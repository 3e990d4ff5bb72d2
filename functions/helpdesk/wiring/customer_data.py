"""The composition root's data protection: one customer's export and erasure (the files, the task
queue and the service).

Part of ``helpdesk.wiring``: adapters are built once and kept (``@cache``; ``wiring.reset()`` forgets
them too), services per call.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from helpdesk.settings import settings
from helpdesk.wiring import workflow_engine, workspace

if TYPE_CHECKING:
    from helpdesk.adapters.json_queue import SqsJsonQueue
    from helpdesk.adapters.privacy_files import S3PrivacyFiles
    from helpdesk.services.customer_data import CustomerDataService


@cache
def privacy_files() -> S3PrivacyFiles:
    from helpdesk.adapters.privacy_files import S3PrivacyFiles

    config = settings()
    return S3PrivacyFiles(
        config.attachments_bucket,
        config.lake_bucket,
        inbound_bucket=config.inbound_email_bucket,
        path_style=config.endpoint_url is not None,
    )


@cache
def privacy_tasks() -> SqsJsonQueue:
    from helpdesk.adapters.json_queue import SqsJsonQueue

    return SqsJsonQueue(settings().require("privacy_tasks_queue_url"))


def customer_data() -> CustomerDataService:
    from helpdesk.adapters.store.customer_data import CustomerDataTable
    from helpdesk.adapters.store.report_results import ReportResultTable
    from helpdesk.services.customer_data import CustomerDataService

    return CustomerDataService(
        CustomerDataTable(),
        privacy_files(),
        workspace(),
        tasks=privacy_tasks() if settings().privacy_tasks_queue_url else None,
        workflow=workflow_engine(),
        report_answers=ReportResultTable(),
    )
