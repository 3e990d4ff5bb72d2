"""What the inbox's data-protection routes answer: a request's state, and an export's link."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel

from helpdesk.domain.privacy import EXPORT_LINK_SECONDS, DataRequest, ErasureCounts, RequestKind, RequestStatus

CustomerId = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_.:@+-]+$")]
"""A customer's id as the business issues it (``email:...`` for customers who only wrote by email)."""


class DataRequestView(BaseModel):
    id: str
    kind: RequestKind
    status: RequestStatus
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = None
    download_url: str | None = None
    """A finished export's zip: works for ``download_expires_in`` seconds; ask again for a fresh one."""
    download_expires_in: int | None = None
    counts: ErasureCounts | None = None
    """A finished erasure: what it deleted or anonymized."""


def data_request_view(request: DataRequest, link: str | None = None) -> DataRequestView:
    return DataRequestView(
        id=request.id,
        kind=request.kind,
        status=request.status,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        finished_at=request.finished_at,
        download_url=link,
        download_expires_in=EXPORT_LINK_SECONDS if link else None,
        counts=request.counts,
    )
