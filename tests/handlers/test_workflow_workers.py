"""The workflow's workers against a state machine really executing on moto (in process).

The ticket's execution asks for a check through the workflow-tasks queue; the worker answers
through the task token; the execution then parks with its token on the ticket.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.services.tickets import NewTicket, TicketService

from tests.support.events import sample_event

REPO = Path(__file__).resolve().parents[2]
RITA = AgentPrincipal(id="agent-rita", teams=frozenset({"returns"}))


@pytest.fixture
def executing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


@pytest.fixture
def machinery(executing: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from helpdesk.adapters.table import TableItem, table_definition

    from tests.conftest import TEST_TABLE

    TableItem._connection = None
    boto3.client("dynamodb").create_table(**table_definition().create_table_kwargs(TEST_TABLE))
    queue = boto3.client("sqs").create_queue(QueueName="workflow-tasks")["QueueUrl"]
    topic = boto3.client("sns").create_topic(Name="alarms")["TopicArn"]
    text = (REPO / "workflows" / "standard.asl.json").read_text()
    text = text.replace("${WorkflowTasksQueueUrl}", queue).replace("${AlarmTopicArn}", topic)
    arn = boto3.client("stepfunctions").create_state_machine(
        name="helpdesk-standard", definition=text, roleArn="arn:aws:iam::123456789012:role/workflows"
    )["stateMachineArn"]
    monkeypatch.setenv("WORKFLOW_ARN_STANDARD", arn)
    from helpdesk import wiring

    wiring.reset()
    return {"queue": queue, "machine": arn}


def next_task(queue: str) -> dict[str, Any]:
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])
            return dict(messages[0])
    raise AssertionError("the workflow asked for no task")


def as_sqs_event(sample: str, body: str) -> dict[str, Any]:
    event = sample_event(sample)
    event["Records"][0]["body"] = body
    return event


def test_a_created_ticket_starts_one_execution_that_checks_then_parks_with_its_token(
    machinery: dict[str, str], workspace: Any
) -> None:
    from helpdesk.adapters.store import TableStores
    from helpdesk.handlers import workflow_starter, workflow_tasks

    from tests.support.events import FakeLambdaContext

    stores = TableStores()
    ticket = TicketService(stores.tickets, stores.conversations, stores.attachments, workspace).create(
        RITA,
        NewTicket(
            ticket_type_id="damaged-item", customer_id="alice", attributes={"order_id": "O-1", "description": "x"}
        ),
    )
    started = sample_event("workflow_starter/ticket_created")
    detail = json.loads(started["Records"][0]["body"])
    detail["detail"]["ticket_id"] = ticket.id
    event = as_sqs_event("workflow_starter/ticket_created", json.dumps(detail))
    for _ in range(2):  # a redelivered TicketCreated starts nothing more
        assert workflow_starter.lambda_handler(event, FakeLambdaContext())["batchItemFailures"] == []
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=machinery["machine"])["executions"]
    assert [e["name"] for e in executions] == [ticket.id]

    check = next_task(machinery["queue"])
    assert json.loads(check["Body"])["task"] == "check"
    result = workflow_tasks.lambda_handler(as_sqs_event("workflow_tasks/check", check["Body"]), FakeLambdaContext())
    assert result["batchItemFailures"] == []

    park = next_task(machinery["queue"])
    body = json.loads(park["Body"])
    assert body["task"] == "park"
    assert body["version"] == ticket.version
    workflow_tasks.lambda_handler(as_sqs_event("workflow_tasks/park", park["Body"]), FakeLambdaContext())
    parked = stores.tickets.get_ticket(ticket.id)
    assert parked is not None
    assert parked.workflow_token == body["token"]


def test_an_unknown_task_fails_its_record_so_it_is_retried_then_dead_lettered(machinery: dict[str, str]) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
    from helpdesk.handlers import workflow_tasks

    from tests.support.events import FakeLambdaContext

    body = json.dumps({"task": "dance", "ticket_id": "t", "token": "x"})
    with pytest.raises(BatchProcessingError, match="All records failed"):
        workflow_tasks.lambda_handler(as_sqs_event("workflow_tasks/check", body), FakeLambdaContext())
