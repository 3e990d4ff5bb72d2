"""Handlers called with the sample events, over moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.events import Reply, invoke


def _fresh_clients() -> None:
    from helpdesk import wiring

    wiring.reset()


@pytest.fixture
def messenger(table: str, messenger_secret: str, attachments_bucket: str) -> Callable[[dict[str, Any]], Reply]:
    from helpdesk.handlers import messenger_api

    _fresh_clients()
    return lambda event: invoke(messenger_api.lambda_handler, event)


@pytest.fixture
def inbox(table: str, attachments_bucket: str) -> Callable[[dict[str, Any]], Reply]:
    from helpdesk.handlers import inbox_api

    _fresh_clients()
    return lambda event: invoke(inbox_api.lambda_handler, event)
