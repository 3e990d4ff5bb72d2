"""The workflow's workers against a state machine really executing on moto (in process).

The ticket's execution asks for a check through the workflow-tasks queue; the worker answers
through the task token; the execution then parks with its token on the ticket.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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


def with_heartbeat(text: str, seconds: int) -> str:
    """The definition with its heartbeat interval (and the wait that needs one) set to ``seconds``."""
    document = json.loads(text)
    for state in document["States"].values():
        if "HeartbeatSeconds" in state:
            state["HeartbeatSeconds"] = seconds
            state["Parameters"]["MessageBody"]["heartbeat_seconds"] = seconds
        for rule in state.get("Choices", []):
            if rule.get("Variable") == "$.check.wait_seconds":
                rule["NumericGreaterThan"] = seconds
    return json.dumps(document)


@pytest.fixture
def heartbeat_seconds() -> int | None:
    """None: the definition as deployed; a number: its heartbeat shortened to that, to watch it happen."""
    return None


@pytest.fixture
def machinery(executing: None, monkeypatch: pytest.MonkeyPatch, heartbeat_seconds: int | None) -> dict[str, str]:
    from helpdesk.adapters.table import TableItem
    from helpdesk.adapters.table_definition import table_definition

    from tests.conftest import TEST_TABLE

    TableItem._connection = None
    boto3.client("dynamodb").create_table(**table_definition().create_table_kwargs(TEST_TABLE))
    queue = boto3.client("sqs").create_queue(QueueName="workflow-tasks")["QueueUrl"]
    topic = boto3.client("sns").create_topic(Name="alarms")["TopicArn"]
    text = (REPO / "workflows" / "standard.asl.json").read_text()
    text = text.replace("${WorkflowTasksQueueUrl}", queue).replace("${AlarmTopicArn}", topic)
    if heartbeat_seconds is not None:
        text = with_heartbeat(text, heartbeat_seconds)
    arn = boto3.client("stepfunctions").create_state_machine(
        name="helpdesk-standard", definition=text, roleArn="arn:aws:iam::123456789012:role/workflows"
    )["stateMachineArn"]
    monkeypatch.setenv("WORKFLOW_ARN_STANDARD", arn)
    from helpdesk import wiring

    wiring.reset()
    return {"queue": queue, "machine": arn}


def next_task(queue: str, within: float = 15) -> dict[str, Any]:
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + within
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


def handle(sample: str, body: str) -> None:
    from helpdesk.handlers import workflow_tasks

    from tests.support.events import FakeLambdaContext

    assert workflow_tasks.lambda_handler(as_sqs_event(sample, body), FakeLambdaContext())["batchItemFailures"] == []


def no_task_for(queue: str, seconds: float, tick_every: float) -> None:
    """Nothing asked of the worker for ``seconds``, while its schedule ticks every ``tick_every``."""
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        handle("workflow_tasks/tick", json.dumps({"tick": True}))
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=0).get("Messages", [])
        assert messages == [], f"the workflow asked for {messages[0]['Body']}"
        time.sleep(tick_every)


@pytest.mark.parametrize("heartbeat_seconds", [6])  # long enough for a busy 2-core machine
def test_a_parked_workflow_lives_on_heartbeats_and_recovers_from_a_lost_token(
    machinery: dict[str, str], workspace: Any, heartbeat_seconds: int
) -> None:
    from helpdesk.adapters.store import TableStores

    # Given a ticket whose workflow checked it and parks until its SLA deadline, hours away
    stores = TableStores()
    ticket = TicketService(stores.tickets, stores.conversations, stores.attachments, workspace).create(
        RITA,
        NewTicket(
            ticket_type_id="damaged-item", customer_id="alice", attributes={"order_id": "O-1", "description": "x"}
        ),
    )
    sfn = boto3.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=machinery["machine"], name=ticket.id, input=json.dumps({"ticket_id": ticket.id})
    )["executionArn"]
    handle("workflow_tasks/check", next_task(machinery["queue"])["Body"])
    lost = json.loads(next_task(machinery["queue"])["Body"])
    assert lost["task"] == "park"
    assert lost["heartbeat_seconds"] == heartbeat_seconds, "a wait longer than the heartbeat is watched"
    deadline = datetime.fromisoformat(lost["wake_at"])
    assert deadline > datetime.now(UTC) + timedelta(hours=1)

    # When its park task is lost (the worker never keeps the token on the ticket)
    # Then no heartbeat comes for it, and the workflow checks the ticket again instead of sleeping for hours
    again = json.loads(next_task(machinery["queue"], within=heartbeat_seconds + 10)["Body"])
    assert again["task"] == "check"
    assert datetime.now(UTC) < deadline, "long before its deadline"
    history = sfn.get_execution_history(executionArn=execution)["events"]
    timed_out = [e["taskTimedOutEventDetails"]["error"] for e in history if e["type"] == "TaskTimedOut"]
    assert len(timed_out) == 1
    assert timed_out[0] in {"States.HeartbeatTimeout", "States.Timeout"}  # moto names both States.Timeout

    # When it parks again and the token is kept, Then the scheduled heartbeats keep it waiting
    handle("workflow_tasks/check", json.dumps(again))
    park = next_task(machinery["queue"])
    handle("workflow_tasks/park", park["Body"])
    no_task_for(machinery["queue"], seconds=heartbeat_seconds * 2, tick_every=heartbeat_seconds / 6)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    # and once nothing sends them, the wait gives up on the token the same way
    assert json.loads(next_task(machinery["queue"], within=heartbeat_seconds + 10)["Body"])["task"] == "check"
    sfn.stop_execution(executionArn=execution)
