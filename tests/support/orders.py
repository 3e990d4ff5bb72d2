"""A fake of the demo order system behind the bot's ``ActionRunner`` port, for the bot's service tests.

It keeps the real runner's contract: the demo's order actions need a signed-in customer (a visitor
gets ``sign_in_required`` without a call), and an order that isn't the caller's is
``not_on_account`` with no outputs. Every call is recorded with the caller it was made for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from helpdesk.domain.action_ownership import NOT_ON_ACCOUNT, ActionCaller

SLOTS = [{"id": "slot-fri-am", "label": "Friday 8-12"}, {"id": "slot-sat-pm", "label": "Saturday 12-18"}]
OWNERS = {"ORD-1001": "alice", "ORD-1002": "alice", "ORD-2001": "bob"}
"""Whose each order is; any other number is nobody's (it doesn't exist)."""


@dataclass
class Result:
    action_id: str
    outcome: str
    status: int | None = 200
    outputs: dict[str, Any] = field(default_factory=dict)
    attempts: int = 1
    duration_ms: float = 12.0
    error: str | None = None


@dataclass
class FakeOrderSystem:
    """Answers like the demo order system would; ``failing`` makes every call time out."""

    failing: bool = False
    calls: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)
    callers: list[ActionCaller] = field(default_factory=list)

    def requires_signed_in_customer(self, action_id: str) -> bool:
        return action_id in ("get-order", "list-delivery-slots", "change-delivery-slot")

    def run(
        self, action_id: str, inputs: dict[str, Any], *, caller: ActionCaller, idempotency_key: str | None
    ) -> Result:
        if self.requires_signed_in_customer(action_id) and not caller.signed_in:
            return Result(action_id, "sign_in_required", status=None, attempts=0, error="needs a signed-in customer")
        self.calls.append((action_id, inputs, idempotency_key))
        self.callers.append(caller)
        if self.failing:
            return Result(action_id, "timeout", status=None, attempts=3, duration_ms=6000, error="no answer in 2 s")
        if OWNERS.get(str(inputs.get("order_id"))) != caller.customer_id:
            return Result(action_id, "not_on_account", status=None, error=NOT_ON_ACCOUNT)
        match action_id:
            case "get-order":
                return Result(
                    action_id,
                    "success",
                    outputs={
                        "status": "shipped",
                        "status_label": "on its way",
                        "carrier": "DHL",
                        "tracking_number": "JD0001",
                        "slot": "Thursday 8-12",
                    },
                )
            case "list-delivery-slots":
                return Result(action_id, "success", outputs={"slots": SLOTS})
            case "change-delivery-slot":
                return Result(action_id, "success", outputs={"slot_id": inputs["slot_id"]})
        raise AssertionError(f"unexpected action {action_id}")
