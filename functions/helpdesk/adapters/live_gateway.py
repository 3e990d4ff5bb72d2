"""Posts frames to browsers through API Gateway's WebSocket management API (``@connections``).

``endpoint`` is the stage's callback URL (``https://<api id>.execute-api.<region>.amazonaws.com/<stage>``;
locally the local gateway's ``http://127.0.0.1:<port>/_live``). A connection that is gone (closed, or
idle-timed out without ``$disconnect``) answers 410 ``GoneException``: the caller forgets it.
Throttling and 5xx answers are retried by botocore's standard retry mode; anything else raises.

The client is created on first use; tests inject one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

GONE = "GoneException"
MAX_FRAME_BYTES = 128 * 1024
"""API Gateway's WebSocket message limit (billed in 32 KB units)."""


class FrameTooLarge(ValueError):
    pass


class ApiGatewayConnections:
    def __init__(self, endpoint: str, *, client: Any = None) -> None:
        if not endpoint:
            raise ValueError("endpoint is required: the WebSocket stage's callback URL")
        self._endpoint = endpoint.rstrip("/")
        self._client = client

    @cached_property
    def client(self) -> Any:
        if self._client is not None:
            return self._client
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=self._endpoint,
            config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5),
        )

    def post(self, connection_id: str, frame: Mapping[str, Any]) -> bool:
        """Send one frame; False when the connection is gone (nothing was delivered)."""
        data = json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
        if len(data) > MAX_FRAME_BYTES:
            raise FrameTooLarge(f"frame {frame.get('id')} is {len(data)} bytes; the limit is {MAX_FRAME_BYTES}")
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == GONE:
                return False
            raise
        return True

    def disconnect(self, connection_id: str) -> None:
        """Close a connection from our side (its ``$disconnect`` follows); a gone one is already closed."""
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != GONE:
                raise
