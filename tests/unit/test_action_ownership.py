"""Custom actions bind the records they touch to the verified caller: configuration rules and outcomes.

The configuration refuses, naming the file, any action on a customer's records without an ownership
rule; at call time a visitor is never sent, another customer's record is "not on your account" with
nothing of the answer kept, and the identity sent is always the verified caller's, whatever the inputs say.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpdesk.adapters.action_files import load_actions
from helpdesk.adapters.custom_actions import CustomActionClient, CustomActionRunner
from helpdesk.adapters.workspace_files import WorkspaceConfigError
from helpdesk.domain.action_ownership import NOT_ON_ACCOUNT, ActionCaller, owned_by
from helpdesk.domain.actions import ActionOutcome, CustomAction
from orders import OrderSystem

from tests.unit.conftest import ACTIONS_DIR, ALICE, BOB, VISITOR

PUBLIC_READ: dict[str, Any] = {
    "id": "store-stock",
    "description": "How many of an item the shop has",
    "requires": "anyone",
    "method": "GET",
    "url": "https://shop.example/stock/{sku}",
}
INVOICE_READ: dict[str, Any] = {
    "id": "get-invoice",
    "description": "An invoice of the customer's",
    "requires": "verified_customer",
    "method": "GET",
    "url": "https://shop.example/invoices/{invoice_id}",
    "ownership": {"records": ["invoice_id"], "owner": "customer.id"},
}
REFUND_WRITE: dict[str, Any] = {
    "id": "refund-invoice",
    "description": "Refund an invoice of the customer's",
    "requires": "verified_customer",
    "method": "POST",
    "url": "https://shop.example/invoices/{invoice_id}/refunds",
    "headers": {"X-Customer": "{customer.id}"},
    "request": {"amount": "{amount}"},
    "ownership": {"records": ["invoice_id"]},
}


def write_actions(directory: Path, *actions: dict[str, Any]) -> Path:
    directory.mkdir(exist_ok=True)
    for action in actions:
        (directory / f"{action['id']}.yaml").write_text(yaml.safe_dump(action, sort_keys=False))
    return directory


def edited(action: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The action with fields replaced; a change to None removes the field."""
    result = {**action, **changes}
    return {key: value for key, value in result.items() if value is not None}


# --- configuration ---------------------------------------------------------------------------------


def test_a_public_read_and_reads_and_writes_with_an_ownership_rule_load(tmp_path: Path) -> None:
    loaded = load_actions(write_actions(tmp_path / "actions", PUBLIC_READ, INVOICE_READ, REFUND_WRITE))

    by_id = {action.id: action for action in loaded}
    assert not by_id["store-stock"].requires_signed_in_customer
    assert by_id["get-invoice"].requires_signed_in_customer
    assert by_id["refund-invoice"].passes_identity
    assert by_id["refund-invoice"].inputs == ("invoice_id", "amount")


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        pytest.param(edited(PUBLIC_READ, requires=None), "requires: say who may run this action", id="no-requires"),
        pytest.param(
            edited(REFUND_WRITE, ownership=None, headers=None),
            "ownership: an action on a customer's records must say how",
            id="write-without-ownership",
        ),
        pytest.param(
            edited(REFUND_WRITE, requires="anyone", ownership=None, headers=None),
            "requires: must be 'verified_customer' because it changes a customer's records",
            id="write-for-anyone",
        ),
        pytest.param(
            edited(INVOICE_READ, requires="anyone"),
            "must be 'verified_customer' because it declares an ownership rule",
            id="ownership-for-anyone",
        ),
        pytest.param(
            edited(PUBLIC_READ, url="https://shop.example/customers/{customer.id}/stock/{sku}"),
            "must be 'verified_customer' because it sends the customer's identity",
            id="identity-for-anyone",
        ),
        pytest.param(
            edited(INVOICE_READ, url="https://shop.example/customers/{customer_id}/invoices/{invoice_id}"),
            "input '{customer_id}' would be filled from the conversation",
            id="identity-as-an-input",
        ),
        pytest.param(
            edited(REFUND_WRITE, headers=None, ownership={"records": ["invoice_id"], "owner": "customer_id"}),
            "a write's answer arrives after the change is made",
            id="write-guarded-by-its-answer",
        ),
        pytest.param(
            edited(INVOICE_READ, ownership={"records": ["order_id"], "owner": "customer_id"}),
            "ownership.records: 'order_id' is not an input of this action (invoice_id)",
            id="records-not-inputs",
        ),
        pytest.param(
            edited(INVOICE_READ, ownership={"records": ["invoice_id"]}),
            "ownership: declares no check",
            id="no-check",
        ),
        pytest.param(
            edited(INVOICE_READ, url="https://shop.example/{customer.name}/invoices/{invoice_id}"),
            "'{customer.name}' is not a verified identity",
            id="unverifiable-placeholder",
        ),
        pytest.param(
            edited(INVOICE_READ, ownership={"owner": "customer_id", "owner_is": "{invoice_id}"}),
            "ownership.owner_is: Value error, must be one of {customer.id}",
            id="owner-compared-with-an-input",
        ),
        pytest.param(
            edited(INVOICE_READ, ownership={"owner": "customer[id"}),
            "ownership.owner: Value error, 'customer[id' is not a valid JMESPath",
            id="owner-not-jmespath",
        ),
        pytest.param(
            edited(REFUND_WRITE, headers={"X-Customer": "{invoice_id}"}),
            "headers: Value error, X-Customer: headers may hold text",
            id="input-in-a-header",
        ),
        pytest.param(
            edited(INVOICE_READ, ownership={"records": ["invoice_id"], "owner": "o", "verify_with": "get-invoice"}),
            "ownership.verify_with: is for writes",
            id="verify-with-on-a-read",
        ),
    ],
)
def test_an_action_without_a_sound_ownership_rule_is_refused_naming_the_file(
    tmp_path: Path, action: dict[str, Any], problem: str
) -> None:
    directory = write_actions(tmp_path / "actions", action)

    with pytest.raises(WorkspaceConfigError) as refused:
        load_actions(directory)

    assert f"{directory / action['id']}.yaml:" in str(refused.value)
    assert problem in str(refused.value)


@pytest.mark.parametrize(
    ("check", "problem"),
    [
        pytest.param(None, "is not a declared action", id="unknown"),
        pytest.param(
            edited(INVOICE_READ, ownership=None, requires="anyone"),
            "must be a read (GET) action with ownership.owner",
            id="check-without-owner",
        ),
        pytest.param(
            edited(INVOICE_READ, url="https://shop.example/invoices/{invoice_id}/{line}"),
            "needs input(s) line: list them in ownership.records",
            id="check-needs-more-than-the-records",
        ),
    ],
)
def test_a_write_checked_first_by_a_read_needs_a_read_that_names_the_owner(
    tmp_path: Path, check: dict[str, Any] | None, problem: str
) -> None:
    write = edited(REFUND_WRITE, headers=None, ownership={"records": ["invoice_id"], "verify_with": "get-invoice"})
    directory = write_actions(tmp_path / "actions", write, *([check] if check else []))

    with pytest.raises(WorkspaceConfigError) as refused:
        load_actions(directory)

    assert f"{directory / 'refund-invoice'}.yaml: ownership.verify_with: 'get-invoice'" in str(refused.value)
    assert problem in str(refused.value)


def test_the_demo_order_actions_all_require_a_signed_in_customer_and_send_the_identity() -> None:
    for action in load_actions(ACTIONS_DIR):
        assert action.requires_signed_in_customer, action.id
        assert action.passes_identity, action.id
        assert action.ownership is not None
        # An order's actions name it; the recent orders name none (the customer's own, from the identity sent)
        assert action.ownership.records == (() if action.id == "recent-orders" else ("order_id",)), action.id
        assert action.render_headers({}, ALICE) == {"X-Customer-Id": "demo-customer-1"}


# --- the verified caller ---------------------------------------------------------------------------


def test_placeholders_are_filled_from_the_verified_caller_only() -> None:
    action = CustomAction.model_validate(
        edited(
            REFUND_WRITE,
            url="https://shop.example/accounts/{customer.attributes.shop_account}/invoices/{invoice_id}",
            headers={"X-Customer": "{customer.id}", "X-Email": "{customer.email}"},
        )
    )
    caller = ActionCaller("alice", signed_in=True, email="alice@example.com", attributes={"shop_account": "A-77"})
    # Whatever the conversation put in the inputs, the identity is the caller's.
    claims = {"invoice_id": "INV-1", "amount": 5, "customer": {"id": "mallory"}, "customer.id": "mallory"}

    assert action.render_url(claims, {}, caller) == "https://shop.example/accounts/A-77/invoices/INV-1"
    assert action.render_headers({}, caller) == {"X-Customer": "alice", "X-Email": "alice@example.com"}


@pytest.mark.parametrize(
    ("caller", "problem"),
    [
        (ActionCaller("visitor-1", signed_in=False), "an anonymous visitor has no verified identity"),
        (ActionCaller("alice", signed_in=True), "has no 'attributes.shop_account'"),
        (ActionCaller("alice", True, attributes={"shop_account": "A\r\nX-Admin: yes"}), "control characters"),
    ],
)
def test_an_identity_the_token_doesnt_carry_is_never_made_up(caller: ActionCaller, problem: str) -> None:
    action = CustomAction.model_validate(
        edited(REFUND_WRITE, headers={"X-Account": "{customer.attributes.shop_account}"})
    )

    with pytest.raises(ValueError, match=problem):
        action.render_headers({}, caller)


@pytest.mark.parametrize(
    ("owner", "expected", "by_email", "owned"),
    [
        ("alice", "alice", False, True),
        ("Alice", "alice", False, False),
        ("Alice@Example.com", "alice@example.com", True, True),
        (42, "42", False, True),
        (["bob", "alice"], "alice", False, True),
        (["bob"], "alice", False, False),
        (None, "alice", False, False),
        ("", "", False, False),
        ("  ", "alice", False, False),
        ({"id": "alice"}, "alice", False, False),
        (True, "True", False, False),
    ],
)
def test_only_an_owner_equal_to_the_caller_owns_the_record(
    owner: Any, expected: str, by_email: bool, owned: bool
) -> None:
    assert owned_by(owner, expected, by_email=by_email) is owned


# --- outcomes against the demo order system --------------------------------------------------------


def without_identity(action: CustomAction) -> CustomAction:
    """The action as if the order system couldn't be told who the customer is (a back-office API)."""
    return CustomAction.model_validate({**action.model_dump(exclude_none=True), "headers": {}})


def test_an_answer_owned_by_someone_else_is_not_on_account_and_leaves_nothing_behind(
    client: CustomActionClient, demo_action: Callable[..., CustomAction], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="helpdesk")
    lookup = without_identity(demo_action("get-order"))

    mine = client.call(lookup, {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)
    theirs = client.call(lookup, {"order_id": "ORD-1004"}, caller=ALICE, idempotency_key=None)

    assert mine.outcome is ActionOutcome.SUCCESS
    assert theirs.outcome is ActionOutcome.NOT_ON_ACCOUNT
    assert (theirs.status, theirs.outputs, theirs.error) == (None, {}, NOT_ON_ACCOUNT)
    assert "1Z999AA10123456784" not in caplog.text + theirs.model_dump_json()  # ORD-1004's tracking number


def test_an_answer_without_an_owner_is_not_on_account_even_for_the_owner(
    client: CustomActionClient, demo_action: Callable[..., CustomAction]
) -> None:
    action = demo_action("get-order")
    unplaceable = CustomAction.model_validate(
        {**action.model_dump(exclude_none=True), "ownership": {"records": ["order_id"], "owner": "placed_by.id"}}
    )

    result = client.call(unplaceable, {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)

    assert result.outcome is ActionOutcome.NOT_ON_ACCOUNT
    assert result.outputs == {}


def test_the_identity_sent_is_the_callers_whatever_the_inputs_claim(
    client: CustomActionClient, demo_action: Callable[..., CustomAction]
) -> None:
    claims = {"order_id": "ORD-1001", "customer": {"id": "demo-customer-1"}, "customer_id": "demo-customer-1"}

    result = client.call(demo_action("get-order"), claims, caller=BOB, idempotency_key=None)

    assert result.outcome is ActionOutcome.NOT_ON_ACCOUNT


def test_a_visitor_is_never_sent_to_the_order_system(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    result = client.call(demo_action("get-order"), {"order_id": "ORD-1001"}, caller=VISITOR, idempotency_key=None)
    nobody = client.call(demo_action("get-order"), {"order_id": "ORD-1001"}, caller=None, idempotency_key=None)

    assert result.outcome is nobody.outcome is ActionOutcome.SIGN_IN_REQUIRED
    assert result.attempts == 0
    assert order_system.stats.requests == 0


def test_an_unreadable_answer_about_a_record_not_yet_known_as_the_callers_is_not_echoed(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    order_system.set_fault("malformed")

    result = client.call(
        without_identity(demo_action("get-order")), {"order_id": "ORD-1004"}, caller=ALICE, idempotency_key=None
    )

    assert result.outcome is ActionOutcome.INVALID_RESPONSE
    assert result.error == "answer is not JSON"


def test_a_write_checked_first_by_a_read_is_never_sent_for_someone_elses_record(
    order_system: OrderSystem, orders_secret: str, demo_action: Callable[..., CustomAction]
) -> None:
    # Given an order system that can't be told who the customer is: the write is guarded by get-order's owner
    lookup = without_identity(demo_action("get-order"))
    change = CustomAction.model_validate(
        {
            **demo_action("change-delivery-slot").model_dump(exclude_none=True),
            "headers": {},
            "ownership": {"records": ["order_id"], "verify_with": "get-order"},
        }
    )
    client = CustomActionClient(environ={"ORDERS_API_URL": order_system.url}, backoff_factor=0.05)
    runner = CustomActionRunner([lookup, change], client)
    slot_id = order_system.orders["ORD-1001"].free_slots[0].id
    inputs = {"order_id": "ORD-1001", "slot_id": slot_id}

    refused = runner.run("change-delivery-slot", inputs, caller=BOB, idempotency_key="conv-1.change.1")
    assert refused.outcome is ActionOutcome.NOT_ON_ACCOUNT
    assert refused.action_id == "change-delivery-slot"
    assert order_system.stats.requests == 1  # only the read
    assert order_system.stats.slot_changes_applied == 0

    done = runner.run("change-delivery-slot", inputs, caller=ALICE, idempotency_key="conv-2.change.1")
    assert done.outcome is ActionOutcome.SUCCESS
    assert order_system.orders["ORD-1001"].delivery_slot.id == slot_id


def test_a_demo_workspace_copy_with_an_unguarded_write_fails_to_load(tmp_path: Path) -> None:
    target = tmp_path / "actions"
    shutil.copytree(ACTIONS_DIR, target)
    path = target / "change-delivery-slot.yaml"
    text = path.read_text()
    path.write_text(text.replace('  X-Customer-Id: "{customer.id}"\n', "  X-Shop: demo\n"))

    with pytest.raises(WorkspaceConfigError) as refused:
        load_actions(target)

    assert str(path) in str(refused.value)
    assert "a write's answer arrives after the change is made" in str(refused.value)
