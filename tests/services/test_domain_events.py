"""Domain events and status updates from the real stream of moto's table, driven by the real services."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from helpdesk.adapters.store import TableStores
from helpdesk.adapters.stream_changes import read_change
from helpdesk.domain.models import Ticket, TicketCategory
from helpdesk.domain.notifications import StatusUpdate, StatusUpdateKind
from helpdesk.domain.workspace import Workspace
from helpdesk.services.conversations import ConversationService
from helpdesk.services.domain_events import (
    CommittedChange,
    DetailType,
    DomainEvent,
    MappedChange,
    StreamRecordError,
    map_change,
)
from helpdesk.services.tickets import NewTicket, TicketChanges, TicketService
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from tests.conftest import REPO, TEST_TABLE
from tests.support.principals import ADMIN, ALICE, FRONTLINE_AGENT, ORDER_CONTEXT, RETURNS_AGENT

SCHEMAS = REPO / "events" / "schemas"
DAMAGED = NewTicket(
    ticket_type_id="damaged-item",
    team_id="returns",
    attributes={"description": "The lid is cracked", "carrier_ref": "CLM-9"},
)


# --- helpers shared with the handler tests --------------------------------------------------------


class TableStream:
    """Reads the records of moto's table stream, in order, each record once."""

    def __init__(self, table_name: str = TEST_TABLE) -> None:
        arn = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        region = boto3.session.Session().region_name
        # botocore now calls an account-based streams endpoint that moto doesn't route; name the classic one.
        self._client = boto3.client("dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com")
        shards = self._client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self._iterators = [
            self._client.get_shard_iterator(StreamArn=arn, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
            for s in shards
        ]

    def new_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for index, iterator in enumerate(self._iterators):
            response = self._client.get_records(ShardIterator=iterator)
            records += response["Records"]
            self._iterators[index] = response["NextShardIterator"]
        return records


def as_lambda_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record from ``get_records`` as Lambda delivers it: the creation time in epoch seconds."""
    body = dict(record["dynamodb"])
    approximate = body["ApproximateCreationDateTime"]
    if isinstance(approximate, datetime):
        body["ApproximateCreationDateTime"] = approximate.timestamp()
    return {
        **{k: v for k, v in record.items() if k != "dynamodb"},
        "dynamodb": body,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/helpdesk-test/stream/2026-01-01T00:00:00",
    }


@cache
def schema_validator(detail_type: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{detail_type}.json").read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(event: DomainEvent) -> None:
    schema_validator(event.detail_type.value).validate(event.detail)


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def stream(table: str) -> TableStream:
    return TableStream(table)


@pytest.fixture
def translate(stream: TableStream, stores: TableStores, workspace: Workspace) -> Callable[[], list[MappedChange]]:
    """Maps the stream's new records, checking every event against its schema."""

    def read() -> list[MappedChange]:
        records = stream.new_records()
        mapped = [map_change(read_change(r), workspace, stores.tickets.get_ticket) for r in records]
        for change in mapped:
            for event in change.events:
                assert_valid(event)
        return mapped

    return read


def events_of(mapped: list[MappedChange]) -> list[DomainEvent]:
    return [e for change in mapped for e in change.events]


def updates_of(mapped: list[MappedChange]) -> list[StatusUpdate]:
    return [u for change in mapped for u in change.status_updates]


def types(events: list[DomainEvent]) -> list[str]:
    return [e.detail_type.value for e in events]


def by_type(events: list[DomainEvent], detail_type: DetailType) -> dict[str, Any]:
    [event] = [e for e in events if e.detail_type is detail_type]
    return event.detail


@pytest.fixture
def converted(conversations: ConversationService, tickets: TicketService) -> Ticket:
    started = conversations.start(ALICE, "My parcel arrived damaged", ORDER_CONTEXT)
    return tickets.convert_conversation(FRONTLINE_AGENT, started.conversation.id, DAMAGED)


def current(stores: TableStores, ticket_id: str) -> Ticket:
    ticket = stores.tickets.get_ticket(ticket_id)
    assert ticket is not None
    return ticket


# --- a ticket's life ------------------------------------------------------------------------------


def test_a_conversation_turned_ticket_announces_itself(converted: Ticket, translate) -> None:
    mapped = translate()
    events = events_of(mapped)

    assert types(events) == ["ConversationStarted", "MessageReceived", "TicketCreated", "MessageReceived"]
    started = by_type(events, DetailType.CONVERSATION_STARTED)
    assert started["customer_id"] == "alice"
    assert started["viewed_object_type"] == "order"
    created = by_type(events, DetailType.TICKET_CREATED)
    assert created["ticket_number"] == converted.number
    assert created["conversation_id"] == converted.conversation_id
    assert (created["state_id"], created["category"], created["team_id"]) == ("received", "customer", "returns")
    assert created["version"] == converted.version

    # Ids, not words: the customer's message and details stay out of the events.
    everything = json.dumps([e.detail for e in events])
    for private in ("parcel arrived damaged", "alice@example.com", "Alice", "lid is cracked", "CLM-9"):
        assert private not in everything

    # The customer is told their ticket's number, with the state's customer-facing label.
    [update] = updates_of(mapped)
    assert update.kind is StatusUpdateKind.TICKET_CREATED
    assert (update.customer_id, update.ticket_id, update.ticket_number) == ("alice", converted.id, converted.number)
    assert update.state_label == "Received"
    # The conversation already holds the "ticket opened" notice: the update goes by email and SMS only.
    assert update.conversation_id is None


def test_state_assignment_replies_and_resolution_become_events_and_customer_updates(
    converted: Ticket, tickets: TicketService, stores: TableStores, translate
) -> None:
    translate()

    tickets.update(
        RETURNS_AGENT,
        converted.id,
        TicketChanges(state_id="assessing", assignee_id=RETURNS_AGENT.id),
        version=converted.version,
    )
    mapped = translate()
    events = events_of(mapped)
    assert sorted(types(events)) == ["TicketAssigned", "TicketStateChanged"]
    changed = by_type(events, DetailType.TICKET_STATE_CHANGED)
    assert (changed["from_state_id"], changed["to_state_id"]) == ("received", "assessing")
    assert (changed["from_state_category"], changed["to_state_category"]) == ("submitted", "in_progress")
    assert changed["version"] == converted.version + 1
    assigned = by_type(events, DetailType.TICKET_ASSIGNED)
    assert (assigned["from_assignee_id"], assigned["to_assignee_id"]) == (None, RETURNS_AGENT.id)
    [update] = updates_of(mapped)
    assert (update.kind, update.state_label) == (StatusUpdateKind.STATE_CHANGED, "We're looking into it")

    tickets.reply(RETURNS_AGENT, converted.id, "A replacement is on its way.", internal=False)
    tickets.reply(RETURNS_AGENT, converted.id, "Courier is slow this week", internal=True)
    mapped = translate()
    events = events_of(mapped)
    # The internal note isn't a reply; the first reply stops the first-response clock, met.
    assert types(events) == ["TicketReplied", "SlaClockStopped"]
    stopped = by_type(events, DetailType.SLA_CLOCK_STOPPED)
    assert (stopped["clock"], stopped["fulfilled"], stopped["breached_at"]) == ("first_response", True, None)
    assert 0 <= stopped["elapsed_seconds"] <= stopped["target_seconds"]
    assert stopped["assignee_id"] == RETURNS_AGENT.id
    replied = events[0].detail
    assert (replied["author_type"], replied["visible_to_customer"]) == ("agent", True)
    assert replied["body_length"] == len("A replacement is on its way.")
    [update] = updates_of(mapped)
    assert (update.kind, update.body) == (StatusUpdateKind.AGENT_REPLY, "A replacement is on its way.")
    assert update.ticket_number == converted.number

    tickets.reply_as_customer(ALICE, converted.id, "Thanks!")
    mapped = translate()
    assert [e.detail["author_type"] for e in events_of(mapped)] == ["customer"]
    assert updates_of(mapped) == []  # the customer isn't told about their own reply

    version = current(stores, converted.id).version
    tickets.update(RETURNS_AGENT, converted.id, TicketChanges(state_id="replaced"), version=version)
    mapped = translate()
    events = events_of(mapped)
    # Resolving stops the resolution clock (met) and the next-response clock the customer's message started.
    assert sorted(types(events)) == ["SlaClockStopped", "SlaClockStopped", "TicketResolved", "TicketStateChanged"]
    assert by_type(events, DetailType.TICKET_RESOLVED)["state_id"] == "replaced"
    stops = {e.detail["clock"]: e.detail["fulfilled"] for e in events if e.detail_type is DetailType.SLA_CLOCK_STOPPED}
    assert stops == {"resolution": True, "next_response": False}
    assert {e.detail["sequence"] for e in events} == {events[0].detail["sequence"]}  # one change
    updates = updates_of(mapped)
    assert [u.kind for u in updates] == [StatusUpdateKind.RESOLVED, StatusUpdateKind.CSAT_REQUEST]
    assert {u.state_label for u in updates} == {"Resolved - replaced"}

    tickets.rate(ALICE, converted.id, 4, "Quick, thanks")
    mapped = translate()
    rated = by_type(events_of(mapped), DetailType.CSAT_RATED)
    assert (rated["score"], rated["has_comment"]) == (4, True)
    assert "Quick, thanks" not in json.dumps(rated)
    assert updates_of(mapped) == []


def test_a_state_change_the_customer_cant_see_sends_no_update(
    tickets: TicketService, stores: TableStores, translate
) -> None:
    request = NewTicket(
        ticket_type_id="refund-request",
        customer_id="alice",
        attributes={"order_id": "O1", "amount": "9.99", "reason": "charged-twice"},
    )
    ticket = tickets.create(ADMIN, request)
    ticket = tickets.update(ADMIN, ticket.id, TicketChanges(state_id="reviewing"), version=ticket.version)
    translate()

    # Both states read "Being reviewed" to the customer.
    tickets.update(ADMIN, ticket.id, TicketChanges(state_id="awaiting-approval"), version=ticket.version)
    mapped = translate()

    assert types(events_of(mapped)) == ["TicketStateChanged"]
    assert updates_of(mapped) == []


def test_back_office_work_is_an_event_but_never_a_customer_update(
    converted: Ticket, tickets: TicketService, translate
) -> None:
    translate()
    request = NewTicket(
        ticket_type_id="refund-request",
        category=TicketCategory.BACK_OFFICE,
        linked_ticket_id=converted.id,
        attributes={"order_id": "O1", "amount": "9.99", "reason": "charged-twice"},
    )
    back_office = tickets.create(ADMIN, request)
    tickets.reply(ADMIN, back_office.id, "Finance: please refund", internal=False)
    mapped = translate()

    created = by_type(events_of(mapped), DetailType.TICKET_CREATED)
    assert (created["category"], created["linked_ticket_id"]) == ("back_office", converted.id)
    assert "TicketReplied" in types(events_of(mapped))
    assert updates_of(mapped) == []


# --- at least once: stable ids --------------------------------------------------------------------


def test_a_redelivered_record_yields_the_same_ids(
    converted: Ticket, tickets: TicketService, stream: TableStream, stores: TableStores, workspace: Workspace
) -> None:
    tickets.update(RETURNS_AGENT, converted.id, TicketChanges(state_id="replaced"), version=converted.version)
    records = stream.new_records()

    def mapped_ids(record: dict[str, Any]) -> tuple[list[str], list[str]]:
        mapped = map_change(read_change(record), workspace, stores.tickets.get_ticket)
        return [e.event_id for e in mapped.events], [u.id for u in mapped.status_updates]

    first = [mapped_ids(r) for r in records]
    again = [mapped_ids(r) for r in records]
    assert first == again

    event_ids = [i for events, _ in first for i in events]
    update_ids = [i for _, updates in first for i in updates]
    assert len(event_ids) >= 5
    assert len(set(event_ids)) == len(event_ids)  # each event of each record has its own id
    assert len(set(update_ids)) == len(update_ids) >= 3  # created, resolved, csat request


def test_items_that_are_not_domain_changes_yield_nothing(
    stream: TableStream, stores: TableStores, workspace: Workspace
) -> None:
    client = boto3.client("dynamodb")
    client.put_item(
        TableName=TEST_TABLE,
        Item={"PK": {"S": "CUSTOMER#alice"}, "SK": {"S": "PROFILE"}, "kind": {"S": "customer"}, "user_id": {"S": "a"}},
    )
    stores.tickets.next_ticket_number()
    client.delete_item(TableName=TEST_TABLE, Key={"PK": {"S": "CUSTOMER#alice"}, "SK": {"S": "PROFILE"}})
    records = stream.new_records()

    assert {r["eventName"] for r in records} >= {"INSERT", "REMOVE"}
    for record in records:
        mapped = map_change(read_change(record), workspace, stores.tickets.get_ticket)
        assert mapped == MappedChange()


# --- attributes the workflows add: SLA clocks, bot outcome, reminders ------------------------------


def _set(pk: str, name: str, value: Any) -> None:
    boto3.resource("dynamodb").Table(TEST_TABLE).update_item(
        Key={"PK": pk, "SK": "~META"},
        UpdateExpression="SET #n = :v",
        ExpressionAttributeNames={"#n": name},
        ExpressionAttributeValues={":v": value},
    )


@pytest.mark.parametrize("as_json", [True], ids=["json-string"])  # as the ticket model stores it
def test_each_sla_clock_warns_and_breaches_once(converted: Ticket, translate, as_json: bool) -> None:
    translate()
    pk = f"TICKET#{converted.id}"

    def sla(clocks: dict[str, Any]) -> Any:
        value = {"clocks": clocks, "policy": "damaged-item"}
        return json.dumps(value) if as_json else value

    due = "2026-05-01T13:00:00+00:00"
    _set(pk, "sla", sla({"first_response": {"due_at": due, "warned_at": None, "breached_at": None}}))
    assert events_of(translate()) == []  # a clock started: nothing to tell yet

    _set(
        pk,
        "sla",
        sla(
            {
                "first_response": {"due_at": due, "warned_at": "2026-05-01T12:00:00+00:00", "breached_at": None},
                "resolution": {"due_at": "2026-05-03T09:00:00+00:00", "warned_at": None},
            }
        ),
    )
    [warning] = events_of(translate())
    assert warning.detail_type is DetailType.SLA_WARNING
    assert (warning.detail["clock"], warning.detail["ticket_id"]) == ("first_response", converted.id)
    assert warning.detail["due_at"] == "2026-05-01T13:00:00Z"
    assert warning.detail["occurred_at"] == warning.detail["warned_at"] == "2026-05-01T12:00:00Z"

    _set(
        pk,
        "sla",
        sla(
            {
                "first_response": {
                    "due_at": due,
                    "warned_at": "2026-05-01T12:00:00+00:00",
                    "breached_at": "2026-05-01T13:00:00+00:00",
                },
                "resolution": {"due_at": "2026-05-03T09:00:00+00:00", "warned_at": "2026-05-03T08:00:00+00:00"},
            }
        ),
    )
    events = events_of(translate())
    assert sorted((e.detail_type.value, e.detail["clock"]) for e in events) == [
        ("SlaBreached", "first_response"),
        ("SlaWarning", "resolution"),
    ]
    assert len({e.event_id for e in events}) == 2


def test_the_bot_resolving_a_conversation_is_an_event_once(conversations: ConversationService, translate) -> None:
    started = conversations.start(ALICE, "Where is my order?", ORDER_CONTEXT)
    translate()
    pk = f"CONV#{started.conversation.id}"

    # Stored as the conversation model stores it: JSON text.
    _set(pk, "bot", json.dumps({"outcome": None, "path_id": "where-is-my-order"}))
    assert events_of(translate()) == []
    _set(pk, "bot", json.dumps({"outcome": "resolved", "resolved_by": "kb", "path_id": "where-is-my-order"}))
    ended, event = events_of(translate())
    assert (ended.detail_type, ended.detail["outcome"]) == (DetailType.BOT_CONVERSATION_ENDED, "resolved")
    assert event.detail_type is DetailType.BOT_RESOLVED
    assert (event.detail["resolved_by"], event.detail["path_id"]) == ("kb", "where-is-my-order")
    assert event.detail["conversation_id"] == started.conversation.id

    _set(pk, "bot", json.dumps({"outcome": "resolved", "resolved_by": "kb", "path_id": "where-is-my-order", "turn": 2}))
    assert events_of(translate()) == []


def test_knowledge_answers_and_the_end_of_the_bot_are_events_for_the_reports(
    conversations: ConversationService, translate
) -> None:
    started = conversations.start(ALICE, "Do you ship to Norway?", ORDER_CONTEXT)
    translate()
    pk = f"CONV#{started.conversation.id}"
    shown = {"article_id": "international-delivery", "path_id": None, "step_id": None, "helpful": None}

    _set(pk, "bot", json.dumps({"kb_answers": [shown]}))
    [answer] = events_of(translate())
    _set(pk, "bot", json.dumps({"kb_answers": [shown | {"helpful": False}]}))
    [verdict] = events_of(translate())
    ended: dict[str, Any] = {"outcome": "handed_off", "path_id": "something-else", "step_id": "to-frontline",
             "handoff_reason": "kb_not_helpful", "resolved_by": "agent"}  # fmt: skip
    ended["kb_answers"] = [shown | {"helpful": False}]
    _set(pk, "bot", json.dumps(ended))
    [end] = events_of(translate())
    _set(pk, "bot", json.dumps(ended | {"turn": 3}))

    assert (answer.detail_type, answer.detail["article_id"]) == (
        DetailType.KNOWLEDGE_ANSWER_SHOWN,
        "international-delivery",
    )
    assert (verdict.detail_type, verdict.detail["helpful"]) == (DetailType.KNOWLEDGE_ANSWER_RATED, False)
    assert end.detail_type is DetailType.BOT_CONVERSATION_ENDED
    assert (end.detail["outcome"], end.detail["handoff_reason"]) == ("handed_off", "kb_not_helpful")
    assert end.detail["channel"] == "messenger"
    assert events_of(translate()) == []  # nothing new: nothing again


def test_a_reminder_part_reaches_the_customer(converted: Ticket, translate) -> None:
    translate()
    boto3.client("dynamodb").put_item(
        TableName=TEST_TABLE,
        Item={
            "PK": {"S": f"TICKET#{converted.id}"},
            "SK": {"S": "PART#01REMINDER0000000000000000"},
            "kind": {"S": "ticket_part"},
            "id": {"S": "01REMINDER0000000000000000"},
            "ticket_id": {"S": converted.id},
            "part_type": {"S": "reminder"},
            "author_type": {"S": "bot"},
            "body": {"S": "We still need photos of the damage."},
            "visible_to_customer": {"BOOL": True},
            "created_at": {"S": "2026-05-02T09:00:00.000000+0000"},
        },
    )
    mapped = translate()

    assert events_of(mapped) == []
    [update] = updates_of(mapped)
    assert (update.kind, update.body, update.customer_id) == (
        StatusUpdateKind.REMINDER,
        "We still need photos of the damage.",
        "alice",
    )
    assert update.occurred_at.isoformat() == "2026-05-02T09:00:00+00:00"


# --- bad records ----------------------------------------------------------------------------------


def test_an_item_that_doesnt_match_its_model_is_named_without_its_values(
    converted: Ticket, stream: TableStream, stores: TableStores, workspace: Workspace
) -> None:
    stream.new_records()
    boto3.client("dynamodb").update_item(
        TableName=TEST_TABLE,
        Key={"PK": {"S": f"TICKET#{converted.id}"}, "SK": {"S": "~META"}},
        UpdateExpression="SET priority = :p",
        ExpressionAttributeValues={":p": {"S": "alice@example.com"}},
    )
    [record] = stream.new_records()

    with pytest.raises(StreamRecordError) as raised:
        map_change(read_change(record), workspace, stores.tickets.get_ticket)

    message = str(raised.value)
    assert record["eventID"] in message
    assert f"TICKET#{converted.id}/~META" in message
    assert "not a valid Priority" in message
    assert "alice@example.com" not in message
    # nor in a chained traceback
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1"}}, "eventID"),
        ({"eventID": "e1", "eventName": "UPSERT", "dynamodb": {"SequenceNumber": "1"}}, "eventName"),
        ({"eventID": "e1", "eventName": "INSERT", "dynamodb": {}}, "SequenceNumber"),
        ({"eventID": "e1", "eventName": "INSERT", "dynamodb": {"SequenceNumber": "1"}}, "ApproximateCreationDateTime"),
    ],
)
def test_a_record_that_isnt_a_stream_record_says_what_is_missing(record: dict[str, Any], problem: str) -> None:
    with pytest.raises(StreamRecordError, match=problem):
        read_change(record)


# --- the schemas themselves -----------------------------------------------------------------------


def test_there_is_one_valid_schema_per_detail_type_and_the_readme_lists_them() -> None:
    files = {path.stem for path in Path(SCHEMAS).glob("*.json")}
    assert files == {t.value for t in DetailType}
    readme = (SCHEMAS / "README.md").read_text()
    for detail_type in DetailType:
        Draft202012Validator.check_schema(json.loads((SCHEMAS / f"{detail_type.value}.json").read_text()))
        assert f"`{detail_type.value}`" in readme


def test_the_schemas_refuse_what_consumers_must_not_get(converted: Ticket, translate) -> None:
    created = next(e for e in events_of(translate()) if e.detail_type is DetailType.TICKET_CREATED)
    validator = schema_validator("TicketCreated")

    with pytest.raises(ValidationError, match="Additional properties"):
        validator.validate(created.detail | {"customer_email": "alice@example.com"})
    with pytest.raises(ValidationError, match="date-time"):
        validator.validate(created.detail | {"occurred_at": "yesterday"})
    with pytest.raises(ValidationError, match="required"):
        validator.validate({k: v for k, v in created.detail.items() if k != "event_id"})


def test_a_change_whose_event_its_schema_would_refuse_is_not_published(workspace: Workspace) -> None:
    # Given a reply part written by an author type the published TicketReplied schema doesn't know
    part = {
        "PK": {"S": "TICKET#t1"},
        "SK": {"S": "PART#p1"},
        "kind": {"S": "ticket_part"},
        "id": {"S": "p1"},
        "ticket_id": {"S": "t1"},
        "part_type": {"S": "reply"},
        "author_type": {"S": "carrier"},
        "visible_to_customer": {"BOOL": False},
        "created_at": {"S": "2026-11-23T10:00:00.000000+0000"},
    }
    change = read_change(
        {
            "eventID": "e-carrier",
            "eventName": "INSERT",
            "dynamodb": {"NewImage": part, "SequenceNumber": "7", "ApproximateCreationDateTime": 1.8e9},
        }
    )
    # When it is mapped, Then no event is built: the record fails (and the stream retries it) naming the field
    with pytest.raises(StreamRecordError, match=r"TicketReplied doesn't validate: author_type"):
        map_change(change, workspace, lambda _: None)


def test_the_end_of_the_bot_part_is_counted_once_for_the_resolution_rate() -> None:
    from helpdesk.services.domain_events import bot_finished

    def record(old: dict[str, Any] | None, new: dict[str, Any]) -> CommittedChange:
        def item(bot: dict[str, Any]) -> dict[str, Any]:
            return {"PK": "CONV#1", "SK": "~META", "kind": "conversation", "bot": json.dumps(bot)}

        return CommittedChange(
            event_id="e1",
            event_name="MODIFY" if old is not None else "INSERT",
            sequence="100",
            approximate_at=datetime(2027, 1, 15, 8, 0, tzinfo=UTC),
            new=item(new),
            old=item(old) if old is not None else {},
        )

    waiting = {"outcome": None, "awaiting": "menu"}
    resolved = {"outcome": "resolved", "resolved_by": "custom_action"}
    assert bot_finished(record(None, waiting)) is None
    assert bot_finished(record(waiting, resolved)) == ("resolved", "custom_action")
    assert bot_finished(record(resolved, resolved | {"turn": 3})) is None
    assert bot_finished(record(waiting, {"outcome": "handed_off", "resolved_by": "agent"})) == ("handed_off", "agent")
