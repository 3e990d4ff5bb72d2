"""Workspace configuration as code: teams, ticket types, their typed attributes and their states.

A workspace is a directory: ``workspace.yaml`` (name, teams, the team new conversations go to) and
``ticket_types/<id>.yaml``, one file per ticket type. Everything is validated by pydantic when it
is loaded; a broken file fails with a message naming the file, the field and the problem.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from helpdesk.domain.actions import CustomAction
from helpdesk.domain.bot import BotConfig
from helpdesk.domain.business_hours import BusinessCalendar, BusinessHours
from helpdesk.domain.retention import PrivacySettings, Retention
from helpdesk.domain.roles import Visibility
from helpdesk.domain.tags import TagSettings

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_HOST = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
MESSENGER_ORIGIN = re.compile(rf"https://{_HOST}(?::\d{{1,5}})?|http://(?:localhost|127\.0\.0\.1)(?::\d{{1,5}})?")
"""An origin a business's site is served from: https (plain http only for a developer's own machine)."""
SELF_ORIGIN = "self"
"""In ``messenger_origins``: the messenger page's own origin (its demo page, or a same-site embed)."""
Slug = Annotated[str, Field(pattern=SLUG)]

MAX_STRING_LENGTH = 500
MAX_TEXT_LENGTH = 10_000
MAX_FILES = 20


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttributeType(StrEnum):
    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    LIST = "list"
    """One of a list of options."""
    FILES = "files"
    """Attachment ids."""


class StateCategory(StrEnum):
    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"


class Option(_Config):
    id: Slug
    label: str = Field(min_length=1, max_length=100)


class AttributeDefinition(_Config):
    id: Slug
    label: str = Field(min_length=1, max_length=100)
    type: AttributeType
    description: str = ""
    required: bool = False
    """Must be given to create a ticket of the type."""
    visible_to_customer: bool = True
    editable_by_customer: bool = False
    options: tuple[Option, ...] = ()

    @model_validator(mode="after")
    def _options_only_for_lists(self) -> AttributeDefinition:
        if self.type is AttributeType.LIST and not self.options:
            raise ValueError("a 'list' attribute needs at least one entry in 'options'")
        if self.type is not AttributeType.LIST and self.options:
            raise ValueError("'options' is only allowed on attributes of type 'list'")
        if self.editable_by_customer and not self.visible_to_customer:
            raise ValueError("an attribute editable by the customer must be visible to the customer")
        return self


class StateDefinition(_Config):
    id: Slug
    category: StateCategory
    label: str = Field(min_length=1, max_length=60)
    """What agents see."""
    customer_label: str = Field(min_length=1, max_length=60)
    """What the customer sees."""


class Team(_Config):
    id: Slug
    name: str = Field(min_length=1, max_length=100)
    description: str = ""


class AttributeError_(Exception):
    """Collected problems with attribute values: ``[(attribute id, message)]``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


class SlaPolicy(_Config):
    """How quickly the team promises to answer and to resolve a ticket of the type.

    Durations count business time when the workspace has ``business_hours`` (unless ``business_hours: false``
    here), so PT8H is one working day of 08:00-16:00, and P1D is 24 business hours.
    """

    first_response: timedelta = Field(description="ISO 8601 duration, e.g. PT4H")
    resolution: timedelta = Field(description="ISO 8601 duration, e.g. P2D")
    next_response: timedelta | None = Field(
        default=None, description="Time to answer each new customer message once the first response was given"
    )
    warn_at: float = Field(default=0.8, gt=0, lt=1, description="Fraction of a target at which a warning is due")
    business_hours: bool = Field(
        default=True, description="Count only the workspace's business hours (if it has any); false: 24/7"
    )

    @model_validator(mode="after")
    def _positive(self) -> SlaPolicy:
        if self.first_response <= timedelta(0) or self.resolution <= timedelta(0):
            raise ValueError("SLA durations must be positive")
        if self.first_response > self.resolution:
            raise ValueError("first_response can't be longer than resolution")
        if self.next_response is not None and self.next_response <= timedelta(0):
            raise ValueError("next_response must be positive")
        if self.next_response is not None and self.next_response > self.resolution:
            raise ValueError("next_response can't be longer than resolution")
        return self


class ApprovalPolicy(_Config):
    """Tickets whose ``attribute`` is above ``above`` wait for a specialist's decision in the inbox."""

    attribute: Slug
    above: Decimal = Field(ge=0)
    approved_state: Slug
    """Where the workflow moves the ticket once approved (the follow-up work)."""
    rejected_state: Slug


class WorkflowPolicy(_Config):
    """The ticket type's specialist workflow (a Step Functions state machine, one execution per ticket)."""

    name: Literal["standard", "approval"] = "standard"
    """``standard``: SLA clocks, reminders, auto-resolution, escalation. ``approval``: and an approval step."""
    remind_after: timedelta | None = Field(default=None, description="Silence while waiting on the customer")
    auto_resolve_after: timedelta | None = Field(default=None, description="Longer silence: resolve")
    auto_resolve_state: Slug | None = None
    """Which resolved state auto-resolution uses (default: the type's first resolved state)."""
    approval: ApprovalPolicy | None = None

    @model_validator(mode="after")
    def _consistent(self) -> WorkflowPolicy:
        if (self.name == "approval") != (self.approval is not None):
            raise ValueError("the 'approval' workflow needs an 'approval' policy, and only it takes one")
        for what in ("remind_after", "auto_resolve_after"):
            value = getattr(self, what)
            if value is not None and value <= timedelta(0):
                raise ValueError(f"{what} must be positive")
        if self.remind_after and self.auto_resolve_after and self.auto_resolve_after <= self.remind_after:
            raise ValueError("auto_resolve_after must be longer than remind_after")
        return self


class TicketType(_Config):
    id: Slug
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    default_team: Slug
    attributes: tuple[AttributeDefinition, ...] = ()
    states: tuple[StateDefinition, ...] = Field(min_length=1)
    initial_state: Slug | None = None
    """Defaults to the first state of category ``submitted``."""
    sla: SlaPolicy | None = None
    workflow: WorkflowPolicy | None = WorkflowPolicy()
    """None: tickets of this type get no workflow (no SLA escalation, reminders or approvals)."""

    @model_validator(mode="after")
    def _consistent(self) -> TicketType:
        _unique("attributes", [a.id for a in self.attributes])
        _unique("states", [s.id for s in self.states])
        categories = {s.category for s in self.states}
        for needed in (StateCategory.SUBMITTED, StateCategory.RESOLVED):
            if needed not in categories:
                raise ValueError(f"states: needs at least one state of category '{needed}'")
        if self.initial_state is not None and self.initial_state not in {s.id for s in self.states}:
            raise ValueError(f"initial_state: '{self.initial_state}' is not one of this type's states")
        workflow = self.workflow
        if workflow is not None:
            states = {s.id: s for s in self.states}
            named: list[tuple[str, str | None, StateCategory | None]] = [
                ("workflow.auto_resolve_state", workflow.auto_resolve_state, StateCategory.RESOLVED)
            ]
            if workflow.approval is not None:
                named.append(("workflow.approval.approved_state", workflow.approval.approved_state, None))
                named.append(("workflow.approval.rejected_state", workflow.approval.rejected_state, None))
                if workflow.approval.attribute not in {a.id for a in self.attributes}:
                    raise ValueError(
                        f"workflow.approval.attribute: '{workflow.approval.attribute}' is not an attribute"
                    )
            for where, state_id, category in named:
                if state_id is None:
                    continue
                if state_id not in states:
                    raise ValueError(f"{where}: '{state_id}' is not one of this type's states")
                if category is not None and states[state_id].category is not category:
                    raise ValueError(f"{where}: '{state_id}' must be a state of category '{category}'")
        return self

    @cached_property
    def _states_by_id(self) -> dict[str, StateDefinition]:
        return {s.id: s for s in self.states}

    @cached_property
    def _attributes_by_id(self) -> dict[str, AttributeDefinition]:
        return {a.id: a for a in self.attributes}

    def state(self, state_id: str) -> StateDefinition | None:
        return self._states_by_id.get(state_id)

    def attribute(self, attribute_id: str) -> AttributeDefinition | None:
        return self._attributes_by_id.get(attribute_id)

    @property
    def first_state(self) -> StateDefinition:
        if self.initial_state is not None:
            return self._states_by_id[self.initial_state]
        return next(s for s in self.states if s.category is StateCategory.SUBMITTED)

    def first_state_in(self, category: StateCategory) -> StateDefinition | None:
        return next((s for s in self.states if s.category is category), None)

    def customer_visible(self, values: dict[str, Any]) -> dict[str, Any]:
        """Only the attribute values the customer may see."""
        return {k: v for k, v in values.items() if (a := self.attribute(k)) is not None and a.visible_to_customer}

    def validate_attributes(self, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """Check and normalise attribute values against their definitions.

        ``creating``: every required attribute must be present. Otherwise (an edit) only the
        given ones are checked, and a required attribute can't be cleared. A ``None`` value clears.
        Raises ``AttributeError_`` listing every problem, so a form can show them all at once.
        """
        problems: list[tuple[str, str]] = []
        cleaned: dict[str, Any] = {}
        for key, value in values.items():
            definition = self.attribute(key)
            if definition is None:
                problems.append((key, f"not an attribute of ticket type '{self.id}'"))
                continue
            if value is None or value == "" or value == []:
                if definition.required:
                    problems.append((key, "is required and can't be empty"))
                else:
                    cleaned[key] = None
                continue
            try:
                cleaned[key] = _coerce(definition, value)
            except ValueError as error:
                problems.append((key, str(error)))
        if creating:
            for definition in self.attributes:
                if definition.required and definition.id not in values:
                    problems.append((definition.id, "is required"))
        if problems:
            raise AttributeError_(problems)
        return cleaned


def _coerce(definition: AttributeDefinition, value: Any) -> Any:
    match definition.type:
        case AttributeType.STRING | AttributeType.TEXT:
            limit = MAX_STRING_LENGTH if definition.type is AttributeType.STRING else MAX_TEXT_LENGTH
            if not isinstance(value, str):
                raise ValueError(f"must be a string, not {_json_type(value)}")
            if len(value) > limit:
                raise ValueError(f"must be at most {limit} characters")
            if definition.type is AttributeType.STRING and ("\n" in value or "\r" in value):
                raise ValueError("must be a single line")
            return value
        case AttributeType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"must be an integer, not {_json_type(value)}")
            if abs(value) > 2**53:
                raise ValueError("is out of range")
            return value
        case AttributeType.DECIMAL:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(f"must be a decimal number, not {_json_type(value)}")
            try:
                number = Decimal(str(value))
            except InvalidOperation as error:
                raise ValueError("must be a decimal number such as 12.50") from error
            if not number.is_finite() or abs(number) >= Decimal("1e15"):
                raise ValueError("must be a finite decimal number below 10^15")
            return str(number)
        case AttributeType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError(f"must be true or false, not {_json_type(value)}")
            return value
        case AttributeType.DATETIME:
            if not isinstance(value, str):
                raise ValueError("must be an ISO 8601 date-time string with a time zone")
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError as error:
                raise ValueError("must be an ISO 8601 date-time such as 2026-05-01T09:30:00Z") from error
            if parsed.tzinfo is None:
                raise ValueError("must include a time zone (e.g. 'Z' or '+02:00')")
            return parsed.isoformat()
        case AttributeType.LIST:
            allowed = [o.id for o in definition.options]
            if value not in allowed:
                raise ValueError(f"must be one of {', '.join(allowed)}")
            return value
        case AttributeType.FILES:
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValueError("must be a list of attachment ids")
            if len(value) > MAX_FILES:
                raise ValueError(f"must list at most {MAX_FILES} files")
            return list(value)
    raise ValueError(f"unsupported attribute type {definition.type}")  # pragma: no cover


def _json_type(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "an object" if isinstance(value, dict) else "null"
    )


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what}: id '{item}' appears twice")
        seen.add(item)


class MessengerSettings(_Config):
    anonymous_visitors: bool = True
    """Let visitors who haven't signed in chat (with a visitor token the messenger issues)."""


def _messenger_origin(value: str) -> str:
    origin = value.strip().rstrip("/").lower()
    if origin != SELF_ORIGIN and not MESSENGER_ORIGIN.fullmatch(origin):
        raise ValueError(
            f"'{value}' is not an origin: write the scheme and host of a site that embeds the messenger, "
            f"like https://shop.example.com (no path, no wildcard), or '{SELF_ORIGIN}' for the messenger's own"
        )
    return origin


class Workspace(_Config):
    name: str = Field(min_length=1, max_length=100)
    default_team: Slug
    """The team new conversations are routed to."""
    messenger: MessengerSettings = MessengerSettings()
    messenger_origins: tuple[str, ...] = Field(default=(), max_length=20)
    """The sites allowed to embed the messenger: only they may frame the hosted page (``frame-ancestors``)
    and boot it with a customer's token (``postMessage``), the one way a visitor's earlier conversations
    move into a signed-in customer's account without the customer confirming it. Empty: the page is
    never framed and is used on its own."""
    business_hours: BusinessHours | None = None
    """When SLA clocks count; without it they count around the clock."""
    teams: tuple[Team, ...] = Field(min_length=1)
    ticket_types: tuple[TicketType, ...] = ()
    bot: BotConfig | None = None
    """The bot's greeting, menu and paths (``bot.yaml``); without one, agents answer every conversation."""
    actions: tuple[CustomAction, ...] = ()
    """The custom actions the bot may call (``actions/<id>.yaml``)."""
    agent_visibility: Visibility = Visibility.TEAM
    """What agents may read beyond their own teams' work: ``team`` (nothing) or ``all`` (everything)."""
    tags: TagSettings = TagSettings()
    """The tags agents put on conversations and tickets (``tags.allowed``; ``tags.free``: any lowercase word)."""
    retention: Retention = Retention()
    """How long closed work, files, received emails and the lake are kept (``helpdesk.domain.retention``)."""
    privacy: PrivacySettings = PrivacySettings()
    """What an erasure keeps (``helpdesk.domain.retention``)."""

    @field_validator("messenger_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(dict.fromkeys(_messenger_origin(item) for item in value))
        return value

    @model_validator(mode="after")
    def _references(self) -> Workspace:
        _unique("teams", [t.id for t in self.teams])
        _unique("ticket_types", [t.id for t in self.ticket_types])
        team_ids = {t.id for t in self.teams}
        if self.default_team not in team_ids:
            raise ValueError(f"default_team: '{self.default_team}' is not one of the teams")
        for ticket_type in self.ticket_types:
            if ticket_type.default_team not in team_ids:
                raise ValueError(
                    f"ticket type '{ticket_type.id}': default_team '{ticket_type.default_team}' "
                    "is not one of the workspace's teams"
                )
        return self

    @cached_property
    def _types_by_id(self) -> dict[str, TicketType]:
        return {t.id: t for t in self.ticket_types}

    @cached_property
    def _teams_by_id(self) -> dict[str, Team]:
        return {t.id: t for t in self.teams}

    @cached_property
    def business_calendar(self) -> BusinessCalendar:
        """SLA time arithmetic on the workspace's business hours (24/7 without them)."""
        return BusinessCalendar(self.business_hours)

    def ticket_type(self, type_id: str) -> TicketType | None:
        return self._types_by_id.get(type_id)

    def team(self, team_id: str) -> Team | None:
        return self._teams_by_id.get(team_id)
