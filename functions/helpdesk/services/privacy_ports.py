"""What the data-protection service (``helpdesk.services.customer_data``) needs from the outside."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from helpdesk.domain.privacy import CustomerHoldings, DataRequest, ErasureCounts


class CustomerDataRecords(Protocol):
    def customer_exists(self, customer_id: str) -> bool: ...

    def save_request(self, request: DataRequest) -> None: ...

    def get_request(self, request_id: str) -> DataRequest | None: ...

    def holdings(self, customer_id: str) -> CustomerHoldings: ...

    def erase(self, held: CustomerHoldings, *, keep_agent_messages: bool) -> ErasureCounts: ...


class PrivacyFiles(Protocol):
    def read_file(self, key: str) -> bytes | None: ...

    def write_export(self, key: str, body: bytes) -> None: ...

    def export_link(self, key: str, filename: str) -> str: ...

    def delete_prefix(self, prefix: str) -> int: ...

    def email_originals(self, prefix: str) -> dict[str, bytes]:
        """The emails filed under ``prefix`` in the inbound bucket, by name (none without one)."""
        ...

    def delete_email_originals(self, prefix: str) -> int: ...

    def lake_events(self, wanted: Callable[[Mapping[str, Any]], bool], since_day: str) -> list[dict[str, Any]]: ...

    def rewrite_lake(self, keep: Callable[[Mapping[str, Any]], bool], since_day: str) -> tuple[int, int]: ...


class PrivacyTasks(Protocol):
    """The privacy worker's queue (an export to build)."""

    def send(self, task: dict[str, Any]) -> None: ...


class ErasureWorkflow(Protocol):
    """Starts the erasure's state machine (named after the request: started once)."""

    def start(self, workflow: str, execution_name: str, payload: dict[str, Any]) -> bool: ...

    def complete(self, token: str, output: dict[str, Any]) -> bool: ...
