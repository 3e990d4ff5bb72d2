"""One change committed to the table, as the domain reads it: which record it was (id, order, time), the
item's values before and after (plain values, not DynamoDB JSON), and the domain objects they are where
the item is one (a conversation, a message, a ticket before and after).

The stream adapter (``adapters/stream_changes.py``) decodes records into this; everything derived from a
change (domain events, status updates, the live frames, the email directory, parked workflows to wake)
reads only this. Errors name fields, never values: items hold customers' details.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError

from helpdesk.domain.models import Conversation, Message, Ticket

_NOT_A_VALID = re.compile(r"is not a valid (\w+)$")


class StreamRecordError(ValueError):
    """A stream record that can't be read as a change of the table; says what is missing or wrong."""


@dataclass(frozen=True)
class CommittedChange:
    event_id: str
    """The stream record's ``eventID``: events derived from it get ids made from it."""
    event_name: Literal["INSERT", "MODIFY", "REMOVE"]
    sequence: str
    """The record's ``SequenceNumber`` (a ticket's changes come in commit order)."""
    approximate_at: datetime
    new: Mapping[str, Any] = field(default_factory=dict)
    """The item after the change, as plain values ({} for a removal)."""
    old: Mapping[str, Any] = field(default_factory=dict)
    """The item before the change ({} for an insert)."""
    conversation: Conversation | None = None
    message: Message | None = None
    message_customer_id: str | None = None
    ticket: Ticket | None = None
    ticket_before: Ticket | None = None
    removed: Conversation | Ticket | None = None
    """The conversation or ticket a REMOVE took away (its retention's TTL, or an erasure)."""

    @property
    def kind(self) -> Any:
        return (self.new or self.old).get("kind")

    @property
    def keys(self) -> str:
        """``PK/SK`` of the item, for error messages."""
        item = self.new or self.old
        return "/".join(str(item.get(key, "?")) for key in ("PK", "SK"))


def unreadable(event_id: str, keys: str, error: Exception) -> StreamRecordError:
    """The error to raise for an item that doesn't match its model, naming fields but no values."""
    if isinstance(error, StreamRecordError):
        return error
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '(item)'}: {problem['msg']}"
            for problem in error.errors(include_input=False, include_url=False)
        )
        return StreamRecordError(f"stream record {event_id}: {error.title} doesn't validate: {problems}")
    return StreamRecordError(f"stream record {event_id}: item {keys} can't be read: {_safe_reason(error)}")


def _safe_reason(error: Exception) -> str:
    """What went wrong, without the offending value (it may be a customer's detail)."""
    if isinstance(error, KeyError):
        return f"attribute {error.args[0]!r} is missing"
    enum = _NOT_A_VALID.search(str(error))
    if enum:
        return f"a value is not a valid {enum.group(1)}"
    return type(error).__name__


# --- values as the images hold them ---------------------------------------------------------------


def json_map(value: Any) -> dict[str, Any]:
    """A map attribute, stored either as a DynamoDB map or (``JSONAttribute``) as a JSON string."""
    if isinstance(value, str):
        value = json.loads(value) if value else None
    return value if isinstance(value, dict) else {}


def json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        value = json.loads(value) if value else None
    return value if isinstance(value, list) else []


def when(value: Any, fallback: datetime) -> datetime:
    """A time attribute (ISO text), or ``fallback`` where there is none."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- what else the stream consumer reads off a change ---------------------------------------------

WORKFLOW_FIELDS = ("state_category", "sla", "approval", "waiting_since")
"""Ticket fields whose change a parked workflow must look at (its next deadline may have moved)."""


def workflow_to_wake(change: CommittedChange) -> str | None:
    """The task token of a ticket's parked workflow, when this committed change matters to it.

    The write that parks the workflow (a new token) wakes nothing; a change to the state, the clocks
    or the approval does, so the workflow re-checks at once instead of at its old deadline.
    """
    new, old = change.new, change.old
    if change.event_name != "MODIFY" or not new or not old:
        return None
    if new.get("kind") != "ticket" or not new.get("workflow_token"):
        return None
    if new.get("workflow_token") != old.get("workflow_token"):
        return None
    if all(new.get(name) == old.get(name) for name in WORKFLOW_FIELDS):
        return None
    return str(new["workflow_token"])


def bot_finished(change: CommittedChange) -> tuple[str, str] | None:
    """(outcome, resolved_by) when this change ends the bot's part in a conversation, for the
    bot-resolution-rate metric: ``resolved`` by ``kb``/``custom_action``/``bot``, or ``handed_off``
    and ``ticket_created``."""
    if not change.new or change.new.get("kind") != "conversation":
        return None
    now, before = json_map(change.new.get("bot")), json_map(change.old.get("bot"))
    if not now.get("outcome") or before.get("outcome"):
        return None
    return str(now["outcome"]), str(now.get("resolved_by") or "unknown")
