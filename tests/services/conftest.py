"""Services wired to moto's DynamoDB and the demo workspace, plus a few principals."""

from __future__ import annotations

from typing import Any

import pytest
from helpdesk.adapters.repository import TableRepository
from helpdesk.services.conversations import ConversationService
from helpdesk.services.tickets import TicketService


@pytest.fixture
def repository(table: str) -> TableRepository:
    return TableRepository()


@pytest.fixture
def conversations(repository: TableRepository, workspace: Any) -> ConversationService:
    return ConversationService(repository, workspace)


@pytest.fixture
def tickets(repository: TableRepository, workspace: Any) -> TicketService:
    return TicketService(repository, workspace)
