"""Where a ticket's parked workflow keeps its task token, and the index the heartbeat sender reads.

A workflow waiting for its next deadline (or a change) keeps its task token on the ticket item
(``workflow_token``), so a change that matters can complete it at once. When the wait is long, the
state machine also expects heartbeats for the token; such a ticket is put in the sparse ``by_wake``
index under ``PARKED#<shard>`` (sorted by ticket id), which the scheduled heartbeat sender pages
through. A short wait keeps its token but leaves the index: nobody needs to heartbeat it.

=========================================  ======================================================
pattern                                    served by
=========================================  ======================================================
park a token (if the ticket is unchanged)  UpdateItem on TICKET#id/~META, condition on ``version``
heartbeat-watched tokens, a page at a time Query ``by_wake`` GSI8PK=PARKED#<shard>, GSI8SK > cursor
forget a token the workflow no longer has  UpdateItem on TICKET#id/~META, condition on the token
=========================================  ======================================================

Parking never changes the ticket's version: the token is plumbing, not a change anyone made.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pynamodb.exceptions import UpdateError

from helpdesk.adapters.mapping import META, ticket_pk
from helpdesk.adapters.store.base import is_condition_failure
from helpdesk.adapters.table import TableItem, TicketItem

SHARDS = 8
"""Parked tickets are spread over this many index partitions, so no one partition runs hot."""
PREFIX = "PARKED#"


def shard_of(ticket_id: str) -> int:
    return hashlib.sha256(ticket_id.encode()).digest()[0] % SHARDS


class ParkedWorkflowTable:
    """Parks tokens on tickets and pages through the heartbeat-watched ones (one DynamoDB call each)."""

    def park(self, ticket_id: str, token: str, version: int, *, watched: bool) -> bool:
        """Keep the waiting workflow's token on the ticket, if the ticket is still at ``version``.

        ``watched``: the state machine expects heartbeats for it, so it goes into the heartbeat index.
        False when the ticket moved on since the workflow looked at it.
        """
        index: list[Any] = (
            [TicketItem.gsi8pk.set(f"{PREFIX}{shard_of(ticket_id)}"), TicketItem.gsi8sk.set(ticket_id)]
            if watched
            else [TicketItem.gsi8pk.remove(), TicketItem.gsi8sk.remove()]
        )
        try:
            # The table connection, not Model.update: that would bump the version.
            TicketItem._get_connection().update_item(
                ticket_pk(ticket_id),
                range_key=META,
                actions=[TicketItem.workflow_token.set(token), TicketItem.workflow_version.set(version), *index],
                condition=TableItem.pk.exists() & (TicketItem.version == version),
            )
        except UpdateError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def watched(self, after: str | None, limit: int) -> tuple[list[tuple[str, str]], str | None]:
        """Up to ``limit`` (ticket id, token) pairs from where ``after`` left off, and where to go on (None: done)."""
        shard, last = _position(after)
        start = None
        if last is not None:
            start = {
                "GSI8PK": {"S": f"{PREFIX}{shard}"},
                "GSI8SK": {"S": last},
                "PK": {"S": ticket_pk(last)},
                "SK": {"S": META},
            }
        results = TableItem.by_wake.query(f"{PREFIX}{shard}", limit=limit, last_evaluated_key=start)
        page = [
            (item.id, item.workflow_token) for item in results if isinstance(item, TicketItem) and item.workflow_token
        ]
        if results.last_evaluated_key:
            return page, f"{shard}/{results.last_evaluated_key['GSI8SK']['S']}"
        return page, (f"{shard + 1}/" if shard + 1 < SHARDS else None)

    def forget(self, ticket_id: str, token: str) -> bool:
        """Drop a token its workflow no longer waits on (and its index entry), unless a newer one replaced it."""
        try:
            TicketItem._get_connection().update_item(
                ticket_pk(ticket_id),
                range_key=META,
                actions=[TicketItem.workflow_token.remove(), TicketItem.gsi8pk.remove(), TicketItem.gsi8sk.remove()],
                condition=TicketItem.workflow_token == token,
            )
        except UpdateError as error:
            if is_condition_failure(error):
                return False
            raise
        return True


def _position(cursor: str | None) -> tuple[int, str | None]:
    """``"<shard>/<last ticket id>"`` -> (shard, last id or None); None starts at the first shard."""
    if not cursor:
        return 0, None
    shard, _, last = cursor.partition("/")
    if not shard.isdigit() or int(shard) >= SHARDS:
        raise ValueError(f"not a parked-workflows cursor: {cursor!r}")
    return int(shard), last or None
