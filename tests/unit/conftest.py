"""Fixtures for the custom-action tests: the demo order system on a free port, its key where the demo
actions read it, a client pointed at it, the demo's action files, and the demo customers as callers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from helpdesk.adapters.action_files import load_actions
from helpdesk.adapters.custom_actions import CustomActionClient
from helpdesk.domain.action_ownership import ActionCaller
from helpdesk.domain.actions import CustomAction
from orders import OrderSystem, start_order_system

from tests.conftest import DEMO_WORKSPACE

API_KEY = "orders-key-that-must-never-be-logged-7f3a"
ACTIONS_DIR = DEMO_WORKSPACE / "actions"
# The demo orders' owners (orders/catalogue.py): ORD-1001..1003 are Alice's, ORD-1004..1005 Bob's.
ALICE = ActionCaller(customer_id="demo-customer-1", signed_in=True, email="alice@example.com")
BOB = ActionCaller(customer_id="demo-customer-2", signed_in=True, email="bob@example.com")
VISITOR = ActionCaller(customer_id="visitor-3f9c", signed_in=False)


@pytest.fixture
def order_system() -> Iterator[OrderSystem]:
    system = start_order_system(api_key=API_KEY)
    yield system
    system.stop()


@pytest.fixture
def orders_secret(aws: None) -> str:
    """The orders API key where the demo actions read it: Secrets Manager, ``helpdesk/orders-api``."""
    from aws_lambda_powertools.utilities import parameters

    boto3.client("secretsmanager").create_secret(Name="helpdesk/orders-api", SecretString=API_KEY)
    parameters.clear_caches()
    return API_KEY


@pytest.fixture
def client(order_system: OrderSystem, orders_secret: str) -> CustomActionClient:
    # Short waits between retries keep the tests quick; the bounds below still hold with jitter.
    return CustomActionClient(environ={"ORDERS_API_URL": order_system.url}, backoff_factor=0.05)


@pytest.fixture
def demo_action() -> Callable[..., CustomAction]:
    actions = {action.id: action for action in load_actions(ACTIONS_DIR)}

    def action(action_id: str, **overrides: Any) -> CustomAction:
        return actions[action_id].model_copy(update=overrides)

    return action
