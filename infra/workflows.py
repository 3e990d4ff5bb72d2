"""The ticket workflows: one Step Functions Standard state machine per ``WORKFLOWS`` entry.

The definitions are the ASL files in ``workflows/`` at the repository root, shared with the local
runtime; their ``${...}`` placeholders (``WORKFLOW_SUBSTITUTIONS``) become CloudFormation definition
substitutions. The file is deployed as it is (an S3 asset the state machine's
``DefinitionS3Location`` names), so what runs is byte for byte what the local runtime runs.

Every state machine logs ALL events to a log group of fixed retention, is traced with X-Ray, and
has alarms on failed and timed-out executions. Its role may only send to the workflow-tasks queue
and publish to the alarm topic, the two services its tasks call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from helpdesk.surfaces import WORKFLOW_SUBSTITUTIONS, WORKFLOWS, Workflow

from infra.bundling import REPO
from infra.functions import LOG_RETENTION
from infra.messaging import grant_publish
from infra.monitoring import Monitoring
from infra.nag import nag

DEFINITIONS = REPO / "workflows"
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
TASK_RESPONSES = ("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat")


def state_machine_name(stage: str, workflow: Workflow) -> str:
    return f"helpdesk-{stage}-{workflow.name}"


def checked_definition(path: Path, substitutions: Mapping[str, str]) -> Path:
    """``path``, refused if it is missing, isn't JSON or refers to a placeholder nobody substitutes."""
    if not path.is_file():
        raise ValueError(f"workflow definition {path} does not exist")
    text = path.read_text()
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"workflow definition {path.name} is not JSON: {error}") from None
    unknown = sorted(set(PLACEHOLDER.findall(text)) - set(substitutions))
    if unknown:
        raise ValueError(f"{path.name} refers to {', '.join(unknown)}, not in WORKFLOW_SUBSTITUTIONS")
    return path


class TaskStateMachines(Construct):
    """State machines whose tasks go to one queue with a task token and that publish to the alarm topic.

    A subclass names the queue's placeholder (``QUEUE_PLACEHOLDER``) and the substitutions its
    definitions may use (``SUBSTITUTIONS``), and builds its state machines in ``_build``.
    """

    QUEUE_PLACEHOLDER: str
    SUBSTITUTIONS: tuple[str, ...]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        tasks_queue: sqs.IQueue,
        monitoring: Monitoring,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage
        self._tasks_queue = tasks_queue
        self._monitoring = monitoring
        self._removal = removal
        self._values = {self.QUEUE_PLACEHOLDER: tasks_queue.queue_url, "AlarmTopicArn": monitoring.topic.topic_arn}
        if set(self._values) != set(self.SUBSTITUTIONS):
            raise ValueError(f"{self.SUBSTITUTIONS} differ from what the stack provides")
        self._build()

    def _build(self) -> None:
        raise NotImplementedError

    def _state_machine(self, scope: Construct, log_id: str, machine_id: str, workflow: Workflow) -> sfn.StateMachine:
        """``workflow``'s state machine, its log group, its grants and its alarms."""
        log_group = logs.LogGroup(scope, log_id, retention=LOG_RETENTION, removal_policy=self._removal)
        state_machine = sfn.StateMachine(
            scope,
            machine_id,
            state_machine_name=state_machine_name(self._stage, workflow),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(
                str(checked_definition(DEFINITIONS / workflow.definition, self._values))
            ),
            definition_substitutions=self._values,
            # Execution data is only ids (a ticket's, an erasure's): what they name stays in the table.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            removal_policy=self._removal,
        )
        self._tasks_queue.grant_send_messages(state_machine)
        grant_publish(self._monitoring.topic, self._monitoring.key, state_machine)
        nag(state_machine.role).acknowledge(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="Log delivery (logs:CreateLogDelivery and friends) and X-Ray's PutTraceSegments support "
            "no resource-level permissions; the tasks' own grants name the queue and the topic.",
        )
        self._monitoring.watch_state_machine(workflow.name, state_machine)
        return state_machine


class Workflows(TaskStateMachines):
    QUEUE_PLACEHOLDER = "WorkflowTasksQueueUrl"
    SUBSTITUTIONS = WORKFLOW_SUBSTITUTIONS

    def _build(self) -> None:
        self.state_machines: dict[str, sfn.StateMachine] = {
            workflow.name: self._state_machine(Construct(self, workflow.name), "Logs", "StateMachine", workflow)
            for workflow in WORKFLOWS
        }

    @property
    def environment(self) -> dict[str, str]:
        """Every workflow's ARN under ``Workflow.arn_env``."""
        return {w.arn_env: self.state_machines[w.name].state_machine_arn for w in WORKFLOWS}

    @property
    def arns(self) -> list[str]:
        return [machine.state_machine_arn for machine in self.state_machines.values()]

    def grant_start(self, function: lambda_.Function) -> None:
        """StartExecution on the state machines; DescribeExecution on their executions (names are ticket ids)."""
        function.add_to_role_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=self.arns))
        stack = Stack.of(self)
        names = [state_machine_name(self._stage, w) for w in WORKFLOWS]
        executions = [
            stack.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for name in names
        ]
        function.add_to_role_policy(iam.PolicyStatement(actions=["states:DescribeExecution"], resources=executions))
        for name in names:
            nag(function.role or function).acknowledge(
                id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
                f"execution:{name}:*]",
                reason="Executions are named after tickets, created at run time; the grant names the one "
                "state machine whose executions it may describe, and only DescribeExecution.",
            )

    def grant_task_responses(self, function: lambda_.Function) -> None:
        """Completing, failing and heart-beating workflow tasks: task tokens authorise on the state machine."""
        function.add_to_role_policy(iam.PolicyStatement(actions=list(TASK_RESPONSES), resources=self.arns))
