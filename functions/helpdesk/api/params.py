"""Request parameters and response helpers both APIs share."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from helpdesk.api.bodies import MAX_PAGE_SIZE

# Ids are ULIDs or configured slugs; anything else is refused before a lookup (and fuzzers generate only these).
CustomerId = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_.:@+-]+$")]
"""A customer's id: the business's own user id, ``visitor:…`` or ``email:…``."""
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Cursor = Annotated[str | None, Query(max_length=2048, description="The next_cursor of the previous page.")]


def created[T](body: T) -> Response[T]:
    """A 201 with the created thing as its JSON body."""
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)
