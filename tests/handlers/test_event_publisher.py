"""The stream handler against moto: events land on the bus, status updates on the topic, failures are reported."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from helpdesk import wiring
from helpdesk.adapters.event_bus import MAX_REQUEST_BYTES, EventBusPublisher, EventPublishError
from helpdesk.adapters.store import TableStores
from helpdesk.adapters.workspace_files import load_workspace
from helpdesk.services.conversations import ConversationService
from helpdesk.services.domain_events import DetailType, DomainEvent
from helpdesk.services.tickets import NewTicket, TicketChanges, TicketService

from tests.conftest import DEMO_WORKSPACE
from tests.services.test_domain_events import DAMAGED, TableStream, as_lambda_record, schema_validator
from tests.support.events import FakeLambdaContext, sample_event
from tests.support.principals import ALICE, FRONTLINE_AGENT, ORDER_CONTEXT, RETURNS_AGENT

BUS = "helpdesk-test-bus"


@dataclass
class Capture:
    """Queues subscribed to the bus (every helpdesk event) and to the status topic."""

    events_queue: str
    updates_queue: str
    sqs: Any = field(default_factory=lambda: boto3.client("sqs"))

    def _drain(self, queue_url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages"):
            messages += batch
            for message in batch:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self._drain(self.events_queue)]

    def updates(self) -> list[tuple[str, dict[str, Any]]]:
        """(``kind`` message attribute, the StatusUpdate) per published update."""
        return [
            (m["MessageAttributes"]["kind"]["StringValue"], json.loads(m["Body"]))
            for m in self._drain(self.updates_queue)
        ]


@pytest.fixture
def capture(table: str, monkeypatch: pytest.MonkeyPatch) -> Capture:

    sqs = boto3.client("sqs")
    events_queue = sqs.create_queue(QueueName="bus-capture")["QueueUrl"]
    updates_queue = sqs.create_queue(QueueName="status-capture")["QueueUrl"]

    def arn(url: str) -> str:
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    events = boto3.client("events")
    events.create_event_bus(Name=BUS)
    events.put_rule(Name="all-helpdesk", EventBusName=BUS, EventPattern=json.dumps({"source": ["helpdesk"]}))
    events.put_targets(Rule="all-helpdesk", EventBusName=BUS, Targets=[{"Id": "capture", "Arn": arn(events_queue)}])
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="status-updates")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn(updates_queue), Attributes={"RawMessageDelivery": "true"}
    )

    monkeypatch.setenv("EVENT_BUS_NAME", BUS)
    monkeypatch.setenv("STATUS_TOPIC_ARN", topic)
    wiring.reset()
    return Capture(events_queue, updates_queue)


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    from helpdesk.handlers import event_publisher

    response: dict[str, Any] = dict(event_publisher.lambda_handler(event, FakeLambdaContext()))
    return response


def lambda_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": [as_lambda_record(r) for r in records]}


@pytest.fixture
def services(table: str) -> tuple[ConversationService, TicketService, TableStores]:
    stores = TableStores()
    workspace = load_workspace(DEMO_WORKSPACE)
    return (
        ConversationService(stores.conversations, workspace),
        TicketService(stores.tickets, stores.conversations, stores.attachments, workspace),
        stores,
    )


# --- the sample events ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "detail_type", "update_kinds"),
    [
        ("ticket_created", "TicketCreated", ["ticket_created"]),
        ("ticket_state_changed", "TicketStateChanged", ["state_changed"]),
        # The reply's ticket isn't in this test's table: the event goes out, nobody to notify.
        ("ticket_reply", "TicketReplied", []),
        # An erasure's audit entry written: the customer's id comes from the image before it.
        ("customer_erased", "CustomerErased", []),
    ],
)
def test_the_sample_stream_events_are_published(
    capture: Capture, sample: str, detail_type: str, update_kinds: list[str]
) -> None:
    response = invoke(sample_event(f"event_publisher/{sample}"))

    assert response == {"batchItemFailures": []}
    [event] = capture.events()
    assert (event["source"], event["detail-type"]) == ("helpdesk", detail_type)
    schema_validator(detail_type).validate(event["detail"])
    assert [kind for kind, _ in capture.updates()] == update_kinds


# --- a real flow ----------------------------------------------------------------------------------


def test_committed_changes_reach_the_bus_and_the_customer_once_per_id(
    capture: Capture, services: tuple[ConversationService, TicketService, TableStores]
) -> None:
    conversations, tickets, _ = services
    stream = TableStream()
    started = conversations.start(ALICE, "My parcel arrived damaged", ORDER_CONTEXT)
    ticket = tickets.convert_conversation(FRONTLINE_AGENT, started.conversation.id, DAMAGED)
    tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(assignee_id=RETURNS_AGENT.id), version=ticket.version)
    tickets.reply(RETURNS_AGENT, ticket.id, "A replacement is on its way.", internal=False)
    batch = lambda_event(stream.new_records())

    assert invoke(batch) == {"batchItemFailures": []}

    events = capture.events()
    assert [e["detail-type"] for e in events] == [
        "ConversationStarted",
        "MessageReceived",
        "TicketCreated",
        "MessageReceived",
        "TicketAssigned",
        "TicketReplied",
        "SlaClockStopped",  # the reply met the first-response clock
    ]
    for event in events:
        schema_validator(event["detail-type"]).validate(event["detail"])
    updates = capture.updates()
    assert [kind for kind, _ in updates] == ["ticket_created", "agent_reply"]
    assert updates[0][1]["ticket_number"] == ticket.number
    assert updates[1][1]["body"] == "A replacement is on its way."
    assert {u["customer_id"] for _, u in updates} == {"alice"}

    # The stream redelivers the batch: the same ids go out again, for consumers to drop.
    assert invoke(batch) == {"batchItemFailures": []}
    assert [e["detail"]["event_id"] for e in capture.events()] == [e["detail"]["event_id"] for e in events]
    assert [u["id"] for _, u in capture.updates()] == [u["id"] for _, u in updates]


def for_order(order_id: str) -> NewTicket:
    return DAMAGED.model_copy(update={"attributes": {**DAMAGED.attributes, "order_id": order_id}})


def test_the_first_failing_record_and_everything_after_it_are_retried(
    capture: Capture, services: tuple[ConversationService, TicketService, TableStores], caplog: Any
) -> None:
    _, tickets, _ = services
    stream = TableStream()
    ticket = tickets.create(RETURNS_AGENT, for_order("O1"))
    boto3.client("dynamodb").update_item(
        TableName="helpdesk-test",
        Key={"PK": {"S": f"TICKET#{ticket.id}"}, "SK": {"S": "~META"}},
        UpdateExpression="SET priority = :p",
        ExpressionAttributeValues={":p": {"S": "yesterday"}},
    )
    tickets.create(RETURNS_AGENT, for_order("O2"))
    records = [r for r in stream.new_records() if r["dynamodb"]["Keys"]["SK"]["S"] == "~META"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "INSERT"]

    response = invoke(lambda_event(records))

    # Lambda resumes the shard from the failed record; nothing after it went out before it.
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert response == {"batchItemFailures": [{"itemIdentifier": s} for s in sequences[1:]]}
    [event] = capture.events()
    assert (event["detail-type"], event["detail"]["ticket_id"]) == ("TicketCreated", ticket.id)
    # The log says which record and why, without the item's values.
    logged = caplog.text
    assert "change not published" in logged
    assert "not a valid Priority" in logged
    assert "yesterday" not in logged


def test_events_published_are_counted_per_detail_type(
    capture: Capture, services: tuple[ConversationService, TicketService, TableStores], capsys: Any
) -> None:
    conversations, _, _ = services
    stream = TableStream()
    conversations.start(ALICE, "Hello", ORDER_CONTEXT)
    capsys.readouterr()

    invoke(lambda_event(stream.new_records()))

    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counted = {m["detail_type"]: m["EventsPublished"] for m in metrics if "EventsPublished" in m}
    assert counted == {"ConversationStarted": [1.0], "MessageReceived": [1.0]}


# --- PutEvents: batching and refused entries -------------------------------------------------------


class FakeEvents:
    """An EventBridge client that refuses entries as told, and records every call."""

    def __init__(self, refuse: list[int] | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.refuse = refuse or []
        """Per call, how many entries (from the start) to refuse; calls beyond the list accept all."""

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        refused = self.refuse[len(self.calls) - 1] if len(self.calls) <= len(self.refuse) else 0
        results = [
            {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
            if i < refused
            else {"EventId": str(i)}
            for i in range(len(Entries))
        ]
        return {"FailedEntryCount": min(refused, len(Entries)), "Entries": results}


def _events(count: int, size: int = 10) -> list[DomainEvent]:
    return [
        DomainEvent(detail_type=DetailType.MESSAGE_RECEIVED, detail={"event_id": f"e{i}", "padding": "x" * size})
        for i in range(count)
    ]


def test_events_go_in_calls_of_at_most_ten_entries_and_256_kb() -> None:
    client = FakeEvents()
    EventBusPublisher(BUS, client=client).publish(_events(23))
    assert [len(call) for call in client.calls] == [10, 10, 3]

    client = FakeEvents()
    EventBusPublisher(BUS, client=client).publish(_events(5, size=100_000))
    assert [len(call) for call in client.calls] == [2, 2, 1]
    assert all(sum(len(e["Detail"]) for e in call) < MAX_REQUEST_BYTES for call in client.calls)
    assert [json.loads(e["Detail"])["event_id"] for call in client.calls for e in call] == [f"e{i}" for i in range(5)]


def test_refused_entries_are_sent_again_until_accepted() -> None:
    client = FakeEvents(refuse=[2, 1])
    delays: list[float] = []

    EventBusPublisher(BUS, client=client, sleep=delays.append).publish(_events(3))

    assert [[json.loads(e["Detail"])["event_id"] for e in call] for call in client.calls] == [
        ["e0", "e1", "e2"],
        ["e0", "e1"],
        ["e0"],
    ]
    assert delays == sorted(delays)
    assert len(delays) == 2


def test_entries_still_refused_after_the_last_attempt_raise() -> None:
    client = FakeEvents(refuse=[1] * 10)

    with pytest.raises(EventPublishError, match=r"1 of 2 events refused by bus .*ThrottlingException"):
        EventBusPublisher(BUS, client=client, sleep=lambda _: None).publish(_events(2))
    assert len(client.calls) == 4


def test_an_event_too_big_for_eventbridge_is_refused_up_front() -> None:
    client = FakeEvents()
    with pytest.raises(EventPublishError, match=r"MessageReceived is \d+ bytes"):
        EventBusPublisher(BUS, client=client).publish(_events(1, size=MAX_REQUEST_BYTES))
    assert client.calls == []


def test_a_record_whose_events_the_bus_keeps_refusing_is_reported_for_retry(
    capture: Capture, services: tuple[ConversationService, TicketService, TableStores], monkeypatch: Any
) -> None:

    conversations, _, _ = services
    stream = TableStream()
    conversations.start(ALICE, "Hello", ORDER_CONTEXT)
    # The conversation's own records (its search keys, written with it, announce nothing and pass).
    records = [r for r in stream.new_records() if not r["dynamodb"]["Keys"]["PK"]["S"].startswith("FIND#")]
    refusing = EventBusPublisher(BUS, client=FakeEvents(refuse=[10] * 10), sleep=lambda _: None)
    monkeypatch.setattr(wiring, "event_bus", lambda: refusing)

    response = invoke(lambda_event(records))

    # Every record failed: the whole batch is handed back to Lambda to retry.
    assert response["batchItemFailures"][0] == {"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}
    assert len(response["batchItemFailures"]) == len(records)
    assert capture.updates() == []
