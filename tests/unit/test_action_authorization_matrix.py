"""Who may run which custom action: every action of the demo workspace, called by every kind of caller.

The rows are generated from the workspace's ``actions/`` files, so a new action gets its rows (and
fails here until its inputs have a sample below). Calls go through the real runner and HTTP client
to the demo order system, which checks ownership itself too:

- an anonymous visitor: ``sign_in_required`` for an action on a customer's records, and nothing is sent;
- another signed-in customer: ``not_on_account``, with no outputs, and the order is unchanged (an action
  that names no record, e.g. the recent orders, answers them with their own records, never the owner's);
- the owner: ``success``.

An action that ``requires: anyone`` (no customer's records) succeeds for all three.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy

import pytest
from helpdesk.adapters.action_files import load_actions
from helpdesk.adapters.custom_actions import CustomActionClient, CustomActionRunner
from helpdesk.domain.action_ownership import ActionCaller
from helpdesk.domain.actions import ActionOutcome
from orders import OrderSystem

from tests.unit.conftest import ACTIONS_DIR, ALICE, BOB, VISITOR

ORDER = "ORD-1001"
"""Alice's order (orders/catalogue.py): she owns it, Bob doesn't."""
CALLERS: dict[str, ActionCaller] = {"visitor": VISITOR, "other_customer": BOB, "owner": ALICE}
SAMPLE_INPUTS: dict[str, Callable[[OrderSystem], object]] = {
    "order_id": lambda _system: ORDER,
    "slot_id": lambda system: system.orders[ORDER].free_slots[0].id,
}
"""A value the owner's call succeeds with, by input name."""
ON_CUSTOMER_RECORDS = {
    "visitor": ActionOutcome.SIGN_IN_REQUIRED,
    "other_customer": ActionOutcome.NOT_ON_ACCOUNT,
    "owner": ActionOutcome.SUCCESS,
}


def rows() -> list[tuple[str, str]]:
    return [(action.id, caller) for action in load_actions(ACTIONS_DIR) for caller in CALLERS]


@pytest.mark.parametrize(("action_id", "caller"), rows())
def test_each_action_answers_each_kind_of_caller_as_its_ownership_rule_says(
    order_system: OrderSystem, orders_secret: str, action_id: str, caller: str
) -> None:
    actions = {action.id: action for action in load_actions(ACTIONS_DIR)}
    action = actions[action_id]
    missing = [name for name in action.inputs if name not in SAMPLE_INPUTS]
    assert not missing, f"add a sample value for input(s) {missing} of '{action_id}' to SAMPLE_INPUTS"
    inputs = {name: SAMPLE_INPUTS[name](order_system) for name in action.inputs}
    runner = CustomActionRunner(
        actions.values(), CustomActionClient(environ={"ORDERS_API_URL": order_system.url}, backoff_factor=0.05)
    )
    before = deepcopy(order_system.orders[ORDER])

    result = runner.run(action_id, inputs, caller=CALLERS[caller], idempotency_key=f"matrix-{caller}")

    names_a_record = action.ownership is not None and bool(action.ownership.records)
    expected = ON_CUSTOMER_RECORDS[caller] if action.requires_signed_in_customer else ActionOutcome.SUCCESS
    if caller == "other_customer" and not names_a_record:
        expected = ActionOutcome.SUCCESS
        assert ORDER not in str(result.outputs), "another customer's own records only"
    assert result.outcome is expected, result
    if expected is not ActionOutcome.SUCCESS:
        assert result.outputs == {}
        assert result.status is None
        assert order_system.orders[ORDER] == before
        assert order_system.stats.slot_changes_applied == 0
    if expected is ActionOutcome.SIGN_IN_REQUIRED:
        assert order_system.stats.requests == 0
