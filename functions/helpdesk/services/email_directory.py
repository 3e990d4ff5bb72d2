"""Which customer an email address is: kept from the business's own word, for the email channel.

A messenger customer whose token the business signed with an ``email`` claim has a *verified*
address: an email from it joins that customer's history (``email_ingestion``). The customer's
profile is upserted with every conversation they start; the table's stream carries each change, and
when the address on a profile appears or changes, the directory records it (last vouched wins). An
email customer's own address (``email:<id>``) is recorded unverified by the ingestion itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpdesk.auth.customer_tokens import EMAIL_CUSTOMER_PREFIX, VISITOR_PREFIX
from helpdesk.domain.changes import CommittedChange
from helpdesk.domain.email_messages import normalize_address
from helpdesk.services.email_ports import EmailRecords


def _string(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value if isinstance(value, str) and value else None


def vouched_address(new: Mapping[str, Any], old: Mapping[str, Any]) -> tuple[str, str] | None:
    """(address, customer id) when a committed change (the item after and before it, as plain values) gave
    a business-signed customer a new email address."""
    if _string(new, "kind") != "customer":
        return None
    address, user_id = _string(new, "email"), _string(new, "user_id")
    if not address or not user_id or "@" not in address:
        return None
    if user_id.startswith((EMAIL_CUSTOMER_PREFIX, VISITOR_PREFIX)):
        return None  # an email customer's address is theirs already; a visitor is vouched for by nobody
    if _string(old, "email") == address:
        return None
    return normalize_address(address), user_id


class EmailDirectory:
    def __init__(self, records: EmailRecords) -> None:
        self._records = records

    def record(self, change: CommittedChange) -> bool:
        """Record a vouched address from a committed change; True if there was one (one PutItem)."""
        vouched = vouched_address(change.new, change.old)
        if vouched is None:
            return False
        address, user_id = vouched
        self._records.claim_address(address, user_id, verified=True, at=change.approximate_at)
        return True
