"""Trackers: the customer tickets linked to a tracker ticket, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.transactions import TransactWrite

from helpdesk.adapters.cursors import decode_cursor, encode_cursor
from helpdesk.adapters.mapping import META, ticket_pk
from helpdesk.adapters.store.base import TableStore, version_bumping, within_scope
from helpdesk.adapters.table import TableItem, TicketItem, TrackerLinkItem
from helpdesk.domain.models import TicketCategory
from helpdesk.domain.policy import Scope


class TrackerTable(TableStore):
    def link_to_tracker(
        self, tracker_id: str, ticket_ids: Sequence[str], at: Any, *, within: Scope | None = None
    ) -> None:
        """Link customer tickets to a tracker, atomically; each ticket can follow one tracker.

        ``within``: each ticket must also be of one of its teams or assigned to its agent (the
        authorization policy's scope); ``ConditionFailed`` otherwise, like any other condition.
        """
        linkable = (
            TableItem.pk.exists()
            & (TicketItem.category == TicketCategory.CUSTOMER.value)
            & TicketItem.tracker_id.does_not_exist()
        )
        allowed = within_scope(within)
        if allowed is not None:
            linkable &= allowed

        def build(transaction: TransactWrite) -> None:
            for ticket_id in ticket_ids:
                transaction.save(
                    TrackerLinkItem(
                        pk=ticket_pk(tracker_id),
                        sk=f"LINK#{ticket_id}",
                        tracker_id=tracker_id,
                        ticket_id=ticket_id,
                        created_at=at,
                    ),
                    condition=TableItem.pk.does_not_exist(),
                )
                transaction.update(
                    version_bumping(ticket_pk(ticket_id), META),
                    actions=[TicketItem.tracker_id.set(tracker_id)],
                    condition=linkable,
                    add_version_condition=False,
                )

        self._write(build)

    def tracker_links(self, tracker_id: str, *, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        """One page of the tickets linked to a tracker, and the cursor of the next."""
        pk = ticket_pk(tracker_id)
        start = decode_cursor(cursor, key_attributes={"PK", "SK"}, expected={"PK": pk}) if cursor else None
        result = TrackerLinkItem.query(pk, TableItem.sk.startswith("LINK#"), limit=limit, last_evaluated_key=start)
        ticket_ids = [item.ticket_id for item in result if isinstance(item, TrackerLinkItem)]
        return ticket_ids, encode_cursor(result.last_evaluated_key)
