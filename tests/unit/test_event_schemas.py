"""The published event schemas are generated from the event models, so they can't drift from what is sent."""

from __future__ import annotations

import json
import typing
from enum import StrEnum
from typing import Any

import pytest
from helpdesk.domain.event_schemas import rendered, schema_of
from helpdesk.domain.events import DETAIL_MODELS, DetailType, EventDetail, event_detail
from helpdesk.domain.models import ConversationStatus, MessageKind
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from tests.conftest import REPO

SCHEMAS = REPO / "events" / "schemas"
REGENERATE = "make schemas"


def validator(detail_type: DetailType) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{detail_type.value}.json").read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_every_detail_type_has_a_model_and_a_committed_schema() -> None:
    assert set(DETAIL_MODELS) == set(DetailType)
    assert {p.stem for p in SCHEMAS.glob("*.json")} == {t.value for t in DetailType}


@pytest.mark.parametrize("detail_type", list(DetailType), ids=str)
def test_the_committed_schema_is_the_one_its_model_generates(detail_type: DetailType) -> None:
    committed = (SCHEMAS / f"{detail_type.value}.json").read_text()
    assert committed == rendered(detail_type), f"events/schemas/{detail_type.value}.json is stale: run {REGENERATE}"


@pytest.mark.parametrize("detail_type", list(DetailType), ids=str)
def test_every_schema_is_documented_and_its_example_is_an_event_we_would_send(detail_type: DetailType) -> None:
    schema = schema_of(DETAIL_MODELS[detail_type])
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"]), "every field is always present (null when unknown)"
    for name, field in schema["properties"].items():
        assert len(field.get("description", "").split()) >= 2, f"{detail_type}.{name} has no description"
    [example] = schema["examples"]
    validator(detail_type).validate(example)
    assert event_detail(detail_type, example) == example


def enum_fields(model: type[EventDetail]) -> dict[str, list[str]]:
    """Fields typed by a domain enum (or a literal), and the values the model accepts."""
    found: dict[str, list[str]] = {}
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        options = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
        for option in options:
            if isinstance(option, type) and issubclass(option, StrEnum):
                found[name] = [member.value for member in option]
            elif typing.get_origin(option) is typing.Literal:
                found[name] = [str(value) for value in typing.get_args(option)]
    return found


@pytest.mark.parametrize("detail_type", list(DetailType), ids=str)
def test_every_value_the_domain_can_hold_is_one_the_schema_accepts(detail_type: DetailType) -> None:
    model = DETAIL_MODELS[detail_type]
    properties = json.loads((SCHEMAS / f"{detail_type.value}.json").read_text())["properties"]
    for name, values in enum_fields(model).items():
        published = [v for v in properties[name]["enum"] if v is not None]
        assert published == values, f"{detail_type}.{name}: run {REGENERATE}"


def test_a_bot_conversation_and_a_bot_action_message_are_published() -> None:
    # The schemas once refused what the system emits: a conversation the bot is running, a custom action's record.
    started = json.loads((SCHEMAS / "ConversationStarted.json").read_text())["examples"][0]
    validator(DetailType.CONVERSATION_STARTED).validate(started | {"status": ConversationStatus.BOT.value})
    message = json.loads((SCHEMAS / "MessageReceived.json").read_text())["examples"][0]
    validator(DetailType.MESSAGE_RECEIVED).validate(message | {"message_kind": MessageKind.ACTION.value})


def test_an_event_with_a_value_outside_its_contract_is_never_built() -> None:
    example = json.loads((SCHEMAS / "MessageReceived.json").read_text())["examples"][0]
    with pytest.raises(ValidationError, match="message_kind"):
        event_detail(DetailType.MESSAGE_RECEIVED, example | {"message_kind": "carrier_pigeon"})
    with pytest.raises(ValidationError, match="customer_email"):
        event_detail(DetailType.MESSAGE_RECEIVED, example | {"customer_email": "alice@example.com"})
    with pytest.raises(ValidationError, match="occurred_at"):
        event_detail(DetailType.MESSAGE_RECEIVED, example | {"occurred_at": "2026-11-23T10:00:00"})  # no zone


def test_times_are_published_in_utc() -> None:
    example = json.loads((SCHEMAS / "SlaBreached.json").read_text())["examples"][0]
    detail = event_detail(DetailType.SLA_BREACHED, example | {"breached_at": "2026-11-23T13:00:05+01:00"})
    assert detail["breached_at"] == "2026-11-23T12:00:05Z"
