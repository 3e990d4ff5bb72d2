"""Step Functions as the services see it: start a ticket's execution, complete a waiting task, and
tell a waiting task it is still looked after (a heartbeat)."""

from __future__ import annotations

import json
import os
from functools import cached_property
from typing import Any

import boto3
from botocore.exceptions import ClientError

from helpdesk.surfaces import WORKFLOWS

GONE_TOKEN_ERRORS = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}


class StepFunctionsEngine:
    """State machine ARNs come from ``WORKFLOW_ARN_<NAME>`` (one per declared workflow)."""

    @cached_property
    def _client(self) -> Any:
        return boto3.client("stepfunctions")

    def _arn(self, workflow: str) -> str:
        declared = next((w for w in WORKFLOWS if w.name == workflow), None)
        arn = os.environ.get(declared.arn_env, "") if declared else ""
        if not arn:
            raise LookupError(f"workflow '{workflow}' has no state machine (is its WORKFLOW_ARN_* set?)")
        return arn

    def start(self, workflow: str, execution_name: str, payload: dict[str, Any]) -> bool:
        try:
            self._client.start_execution(
                stateMachineArn=self._arn(workflow), name=execution_name, input=json.dumps(payload)
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
