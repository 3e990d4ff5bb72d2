"""Step Functions as the services see it: start a ticket's execution, complete a waiting task, and
tell a waiting task it is still looked after (a heartbeat)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from typing import Any

import boto3
from botocore.exceptions import ClientError

GONE_TOKEN_ERRORS = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}


class StepFunctionsEngine:
    """``arn_of(workflow)``: the state machine's ARN (from the settings' ``WORKFLOW_ARN_<NAME>``)."""

    def __init__(self, arn_of: Callable[[str], str], client: Any = None) -> None:
        self._arn_of = arn_of
        self._given_client = client

    @cached_property
    def _client(self) -> Any:
        return self._given_client or boto3.client("stepfunctions")

    def start(self, workflow: str, execution_name: str, payload: dict[str, Any]) -> bool:
        try:
            self._client.start_execution(
                stateMachineArn=self._arn_of(workflow), name=execution_name, input=json.dumps(payload)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return False
            raise
        return True

    def complete(self, token: str, output: dict[str, Any]) -> bool:
        try:
            self._client.send_task_success(taskToken=token, output=json.dumps(output))
        except ClientError as error:
            if error.response["Error"]["Code"] in GONE_TOKEN_ERRORS:
                return False
            raise
        return True

    def heartbeat(self, token: str) -> bool:
        """Reset the waiting task's heartbeat clock; False when the token is no longer waiting."""
        try:
            self._client.send_task_heartbeat(taskToken=token)
        except ClientError as error:
            if error.response["Error"]["Code"] in GONE_TOKEN_ERRORS:
                return False
            raise
        return True
