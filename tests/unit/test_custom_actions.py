"""Custom actions against the demo order system: outcomes, retries, time bounds, idempotent writes, secrets."""

from __future__ import annotations

import logging
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from helpdesk.adapters.action_files import load_actions
from helpdesk.adapters.custom_actions import CustomActionClient
from helpdesk.adapters.workspace_files import WorkspaceConfigError
from helpdesk.domain.action_ownership import ActionCaller
from helpdesk.domain.actions import ActionConfigurationError, ActionOutcome, CustomAction
from orders import OrderSystem

from tests.unit.conftest import ACTIONS_DIR, ALICE, API_KEY, BOB

MARGIN_SECONDS = 1.5


def free_slot(order_system: OrderSystem, order_id: str) -> str:
    return order_system.orders[order_id].free_slots[0].id


def test_the_demo_has_the_order_actions_and_the_recent_orders_on_the_profile() -> None:
    actions = {action.id: action for action in load_actions(ACTIONS_DIR)}

    assert set(actions) == {"get-order", "list-delivery-slots", "change-delivery-slot", "recent-orders"}
    assert [a for a in actions if actions[a].profile] == ["recent-orders"]
    assert actions["recent-orders"].inputs == ()
    assert actions["change-delivery-slot"].inputs == ("order_id", "slot_id")
    assert actions["get-order"].inputs == ("order_id",)


def test_an_order_lookup_maps_the_answer_to_the_outputs(
    client: CustomActionClient, demo_action: Callable[..., CustomAction]
) -> None:
    result = client.call(demo_action("get-order"), {"order_id": "ORD-1004"}, caller=BOB, idempotency_key=None)

    assert result.outcome is ActionOutcome.SUCCESS
    assert result.status == 200
    assert result.attempts == 1
    assert result.outputs["status"] == "out_for_delivery"
    assert result.outputs["carrier"] == "UPS"
    assert result.outputs["tracking_number"] == "1Z999AA10123456784"
    assert result.outputs["eta"] == result.outputs["slot_id"][:10]
    assert "12:00-17:00" in result.outputs["slot"]


def test_a_slot_change_is_sent_as_json_and_applied(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    slot_id = free_slot(order_system, "ORD-1001")

    result = client.call(
        demo_action("change-delivery-slot"),
        {"order_id": "ORD-1001", "slot_id": slot_id},
        caller=ALICE,
        idempotency_key="conv-1:m-7",
    )

    assert result.outcome is ActionOutcome.SUCCESS
    assert result.outputs["slot_id"] == slot_id
    assert order_system.orders["ORD-1001"].delivery_slot.id == slot_id


def test_a_refused_write_is_failed_with_the_systems_reason(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    result = client.call(
        demo_action("change-delivery-slot"),
        {"order_id": "ORD-1002", "slot_id": free_slot(order_system, "ORD-1001")},
        caller=ALICE,
        idempotency_key="conv-1:m-8",
    )

    assert result.outcome is ActionOutcome.FAILED
    assert result.status == 409
    assert result.error is not None
    assert "has been delivered" in result.error
    assert result.outputs == {}


def test_a_5xx_then_success_is_retried_into_a_success(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    order_system.set_fault("error", count=1)

    result = client.call(demo_action("get-order"), {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)

    assert result.outcome is ActionOutcome.SUCCESS
    assert result.attempts == 2
    assert order_system.stats.requests == 2


def test_a_persistent_5xx_is_failed_after_every_retry(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    order_system.set_fault("error")

    result = client.call(
        demo_action("get-order", retries=2), {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None
    )

    assert result.outcome is ActionOutcome.FAILED
    assert result.status == 503
    assert result.attempts == 3
    assert order_system.stats.requests == 3
    assert result.error is not None
    assert result.error.startswith("HTTP 503")


def test_a_write_without_an_idempotency_key_is_not_retried_once_sent(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    order_system.set_fault("error")

    result = client.call(
        demo_action("change-delivery-slot"),
        {"order_id": "ORD-1001", "slot_id": free_slot(order_system, "ORD-1001")},
        caller=ALICE,
        idempotency_key=None,
    )

    assert result.outcome is ActionOutcome.FAILED
    assert result.attempts == 1
    assert order_system.stats.requests == 1


def test_a_hanging_system_times_out_within_the_configured_bound(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    action = demo_action("get-order", timeout_seconds=0.5, retries=1)
    order_system.set_fault("hang", seconds=10)
    bound = CustomActionClient.worst_case_seconds(action)

    started = time.monotonic()
    result = client.call(action, {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)
    elapsed = time.monotonic() - started

    assert result.outcome is ActionOutcome.TIMEOUT
    assert result.status is None
    assert result.attempts == 2
    assert elapsed >= 1.0  # both attempts waited their timeout
    assert elapsed < bound + MARGIN_SECONDS


def test_a_refused_connection_is_unreachable(demo_action: Callable[..., CustomAction], orders_secret: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CustomActionClient(environ={"ORDERS_API_URL": f"http://127.0.0.1:{port}"}, backoff_factor=0.01)

    result = client.call(demo_action("get-order"), {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)

    assert result.outcome is ActionOutcome.UNREACHABLE
    assert result.status is None
    assert result.attempts == 3
    assert result.error == "connection refused or host not found"


def test_malformed_json_is_an_invalid_response(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    order_system.set_fault("malformed")

    result = client.call(demo_action("get-order"), {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)

    assert result.outcome is ActionOutcome.INVALID_RESPONSE
    assert result.status == 200
    assert result.error is not None
    assert result.error.startswith("answer is not JSON")
    assert result.outputs == {}


def test_a_write_whose_answer_was_lost_is_retried_and_applied_once(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    # Given the system applies the first attempt but holds its answer past the client's timeout
    order_system.set_fault("hang", seconds=3, count=1)
    slot_id = free_slot(order_system, "ORD-1005")

    result = client.call(
        demo_action("change-delivery-slot", timeout_seconds=0.5),
        {"order_id": "ORD-1005", "slot_id": slot_id},
        caller=BOB,
        idempotency_key="conv-9:msg-3",
    )

    # Then the retry with the same key gets the stored answer, and the slot moved exactly once
    assert result.outcome is ActionOutcome.SUCCESS
    assert result.attempts == 2
    assert result.outputs["slot_id"] == slot_id
    assert order_system.stats.slot_changes_applied == 1
    assert order_system.stats.idempotent_replays == 1
    assert order_system.orders["ORD-1005"].delivery_slot.id == slot_id


def test_a_write_without_a_key_is_not_repeated_after_a_timeout(
    client: CustomActionClient, order_system: OrderSystem, demo_action: Callable[..., CustomAction]
) -> None:
    order_system.set_fault("hang", seconds=3, count=1)

    result = client.call(
        demo_action("change-delivery-slot", timeout_seconds=0.5),
        {"order_id": "ORD-1005", "slot_id": free_slot(order_system, "ORD-1005")},
        caller=BOB,
        idempotency_key=None,
    )

    assert result.outcome is ActionOutcome.TIMEOUT
    assert result.attempts == 1
    assert order_system.stats.requests == 1


def test_the_api_key_comes_from_secrets_manager_and_never_shows_in_logs_or_results(
    client: CustomActionClient,
    order_system: OrderSystem,
    demo_action: Callable[..., CustomAction],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Everything our code and the HTTP library log (botocore's own DEBUG output prints API responses, secrets
    # included, whoever reads them: it must stay off outside local debugging).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="helpdesk")
    caplog.set_level(logging.DEBUG, logger="urllib3")

    found = client.call(demo_action("get-order"), {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)
    order_system.set_fault("error")
    failed = client.call(demo_action("get-order"), {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)

    assert found.outcome is ActionOutcome.SUCCESS  # the server accepted the bearer key from Secrets Manager
    assert failed.outcome is ActionOutcome.FAILED
    assert "custom action get-order: success" in caplog.text
    assert API_KEY not in caplog.text
    assert API_KEY not in found.model_dump_json()
    assert API_KEY not in failed.model_dump_json()


def test_a_wrong_secret_is_a_failed_401(
    order_system: OrderSystem, demo_action: Callable[..., CustomAction], aws: None
) -> None:
    from aws_lambda_powertools.utilities import parameters

    boto3.client("secretsmanager").create_secret(Name="helpdesk/orders-api", SecretString="stale-key")
    parameters.clear_caches()
    client = CustomActionClient(environ={"ORDERS_API_URL": order_system.url})

    result = client.call(demo_action("get-order"), {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)

    assert result.outcome is ActionOutcome.FAILED
    assert result.status == 401


def test_a_missing_secret_names_the_secret(order_system: OrderSystem, demo_action: Callable[..., CustomAction]) -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    client = CustomActionClient(environ={"ORDERS_API_URL": order_system.url, "ORDERS_API_SECRET": "shop/api-key"})
    action = demo_action("get-order")

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        from moto import mock_aws

        with mock_aws(), pytest.raises(ActionConfigurationError, match="secretsmanager secret 'shop/api-key'"):
            client.call(action, {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)


def test_a_missing_input_names_it(client: CustomActionClient, demo_action: Callable[..., CustomAction]) -> None:
    with pytest.raises(ValueError, match="change-delivery-slot': missing input\\(s\\): slot_id"):
        client.call(demo_action("change-delivery-slot"), {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key="k-1")


def test_an_unset_base_url_names_the_variable(demo_action: Callable[..., CustomAction]) -> None:
    client = CustomActionClient(environ={})

    with pytest.raises(ActionConfigurationError, match="ORDERS_API_URL is not set"):
        client.call(demo_action("get-order"), {"order_id": "ORD-1001"}, caller=ALICE, idempotency_key=None)


def test_inputs_are_url_encoded_and_body_placeholders_keep_their_type() -> None:
    action = CustomAction.model_validate(
        {
            "id": "rate-order",
            "description": "Rate an order",
            "requires": "verified_customer",
            "method": "POST",
            "url": "${SHOP_URL:-https://shop.example}/customers/{customer.id}/orders/{order_id}/ratings",
            "request": {"stars": "{stars}", "comment": "From {name}", "tags": ["{tag}"], "by": "{customer.id}"},
            "ownership": {"records": ["order_id"]},
        }
    )
    inputs = {"order_id": "A 1/../admin?x=1", "stars": 4, "name": "Alice", "tag": "quick"}
    caller = ActionCaller(customer_id="cust/42", signed_in=True)

    assert action.render_url(inputs, {}, caller) == (
        "https://shop.example/customers/cust%2F42/orders/A%201%2F..%2Fadmin%3Fx%3D1/ratings"
    )
    assert action.render_body(inputs, caller) == {
        "stars": 4,
        "comment": "From Alice",
        "tags": ["quick"],
        "by": "cust/42",
    }


@pytest.fixture
def copy_of_actions(tmp_path: Path) -> Path:
    target = tmp_path / "actions"
    shutil.copytree(ACTIONS_DIR, target)
    return target


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda text: text.replace("timeout_seconds: 5", "timeout_seconds: 60"), "timeout_seconds: Input should be"),
        (lambda text: text.replace("retries: 2", "retries: 9"), "retries: Input should be less than or equal to 5"),
        (lambda text: text.replace("method: PUT", "method: FETCH"), "method: Input should be"),
        (lambda text: text.replace("slot_id: delivery_slot.id", "slot_id: delivery_slot.[id"), "response: Value error"),
        (lambda text: text.replace("${ORDERS_API_URL}", "ftp://orders"), "url: Value error, must start with http"),
        (lambda text: text.replace("{order_id}", "{order-id}"), "not a valid input placeholder"),
        (lambda text: text.replace("type: bearer", "type: header"), "needs 'header'"),
        (lambda text: text.replace("method: PUT", "method: GET"), "a GET action can't have a 'request' body"),
        (lambda text: text.replace("id: change-delivery-slot", "id: move-slot"), "must match the file name"),
        (lambda text: text + "\nverbose: true\n", "verbose: Extra inputs are not permitted"),
    ],
)
def test_a_broken_action_file_names_file_field_and_problem(
    copy_of_actions: Path, edit: Callable[[str], str], expected: str
) -> None:
    path = copy_of_actions / "change-delivery-slot.yaml"
    path.write_text(edit(path.read_text()))

    with pytest.raises(WorkspaceConfigError) as broken:
        load_actions(copy_of_actions)

    assert str(path) in str(broken.value)
    assert expected in str(broken.value)


def test_a_yml_file_is_not_silently_ignored(copy_of_actions: Path) -> None:
    (copy_of_actions / "get-order.yaml").rename(copy_of_actions / "get-order.yml")

    with pytest.raises(WorkspaceConfigError, match=r"get-order\.yml: name action files <id>\.yaml"):
        load_actions(copy_of_actions)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda text: text.replace("method: GET", "method: POST"), "only a read (GET) is shown on the customer's"),
        (
            lambda text: (
                text.replace('  X-Customer-Id: "{customer.id}"\n', "  X-Shop: demo\n")
                .replace("/customers/{customer.id}/orders", "/orders/recent")
                .replace("requires: verified_customer", "requires: anyone")
                .replace("ownership:\n  owner: customer_id\n", "")
            ),
            "a profile action runs as the customer",
        ),
    ],
)
def test_a_profile_action_must_be_a_read_that_runs_as_the_customer(
    tmp_path: Path, change: Callable[[str], str], problem: str
) -> None:
    text = (ACTIONS_DIR / "recent-orders.yaml").read_text()
    (tmp_path / "recent-orders.yaml").write_text(change(text))

    with pytest.raises(WorkspaceConfigError, match="profile") as raised:
        load_actions(tmp_path)

    assert problem in str(raised.value)
