"""Handlers called with the sample events, over moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.events import Reply, invoke


@pytest.fixture
def messenger(table: str) -> Callable[[dict[str, Any]], Reply]:
    from helpdesk.api import app as api_app
    from helpdesk.handlers import messenger_api

    api_app.repository.cache_clear()
    return lambda event: invoke(messenger_api.lambda_handler, event)


@pytest.fixture
def inbox(table: str) -> Callable[[dict[str, Any]], Reply]:
    from helpdesk.api import app as api_app
    from helpdesk.handlers import inbox_api

    api_app.repository.cache_clear()
    return lambda event: invoke(inbox_api.lambda_handler, event)
