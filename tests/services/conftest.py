"""Services wired to moto's DynamoDB and the demo workspace, plus a few principals."""

from __future__ import annotations

from typing import Any

import pytest
from helpdesk.adapters.store import TableStores
from helpdesk.services.conversations import ConversationService
from helpdesk.services.tickets import TicketService


@pytest.fixture
def stores(table: str) -> TableStores:
    return TableStores()


@pytest.fixture
def conversations(stores: TableStores, workspace: Any) -> ConversationService:
    return ConversationService(stores.conversations, workspace)


@pytest.fixture
def tickets(stores: TableStores, workspace: Any) -> TicketService:
    return TicketService(stores.tickets, stores.conversations, stores.attachments, workspace)
