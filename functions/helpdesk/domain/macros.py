"""Macros: saved replies with placeholders that can also set a ticket's state, team, priority and tags.

A macro is the workspace's (``macros/<id>.yaml``, read by every agent, changed only in configuration)
or one agent's own (made through the inbox API). Applying one to a ticket or conversation renders its
reply for that customer and makes its changes in the same write: all of it happens, or none.

Placeholders in ``body``: ``{customer.first_name}``, ``{customer.name}``, ``{customer.email}``,
``{ticket.number}``, ``{ticket.title}``, ``{ticket.attributes.<attribute id>}``, ``{agent.name}``,
``{agent.first_name}``. A value that may be missing takes a fallback after ``|``:
``Hi {customer.first_name|there}``. A placeholder with no value and no fallback refuses the macro
(rather than sending "Hi ,").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import MAX_MESSAGE_LENGTH, ConversationStatus, Priority
from helpdesk.domain.tags import MAX_TAGS, Tag, TagSettings
from helpdesk.domain.workspace import SLUG, StateCategory

PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z0-9_-]+)+)(?:\|([^{}]{0,100}))?\}")
FIXED_PLACEHOLDERS = frozenset(
    {
        "customer.first_name",
        "customer.name",
        "customer.email",
        "ticket.number",
        "ticket.title",
        "agent.name",
        "agent.first_name",
    }
)
ATTRIBUTE_PLACEHOLDER = "ticket.attributes."
MAX_PERSONAL_MACROS = 100


def known_placeholder(name: str) -> bool:
    return name in FIXED_PLACEHOLDERS or (
        name.startswith(ATTRIBUTE_PLACEHOLDER) and bool(re.fullmatch(SLUG, name.removeprefix(ATTRIBUTE_PLACEHOLDER)))
    )


class MacroDefinition(BaseModel):
    """What a macro says and does: the fields of ``macros/<id>.yaml`` and of an agent's new macro."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80, description="What agents search for after '/'.")
    body: str | None = Field(
        default=None, max_length=MAX_MESSAGE_LENGTH, description="The reply, with {placeholders}; none: only changes."
    )
    internal: bool = Field(default=False, description="Post the body as an internal note instead of a reply.")
    state: StateCategory | None = Field(
        default=None,
        description="A ticket moves to the first state of this category of its type; a conversation closes on "
        "resolved and reopens on any other.",
    )
    team_id: str | None = Field(default=None, pattern=SLUG, description="A ticket moves to this team.")
    priority: Priority | None = Field(default=None, description="A ticket gets this priority.")
    add_tags: tuple[Tag, ...] = Field(default=(), max_length=MAX_TAGS)
    remove_tags: tuple[Tag, ...] = Field(default=(), max_length=MAX_TAGS)

    @field_validator("name", "body")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        return value.strip() if value is not None else None

    @field_validator("body")
    @classmethod
    def _known_placeholders(cls, body: str | None) -> str | None:
        unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(body or "")} - _known(body or ""))
        if unknown:
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}; known: {', '.join(_listed())}")
        return body

    @model_validator(mode="after")
    def _does_something(self) -> MacroDefinition:
        if not (self.body or self.state or self.team_id or self.priority or self.add_tags or self.remove_tags):
            raise ValueError("a macro replies (body) or changes something (state, team_id, priority, tags)")
        return self


def _known(body: str) -> set[str]:
    return {m.group(1) for m in PLACEHOLDER.finditer(body) if known_placeholder(m.group(1))}


def _listed() -> list[str]:
    return [f"{{{name}}}" for name in sorted(FIXED_PLACEHOLDERS)] + ["{ticket.attributes.<id>}"]


class Macro(MacroDefinition):
    id: str = Field(min_length=1, max_length=64)
    owner_id: str | None = Field(default=None, description="Whose macro it is; none: the workspace's.")


def reference_problems(macro: MacroDefinition, *, teams: set[str], tags: TagSettings) -> list[tuple[str, str]]:
    """What a macro names that the workspace doesn't have: a team, a tag (each with its field)."""
    problems: list[tuple[str, str]] = []
    if macro.team_id is not None and macro.team_id not in teams:
        problems.append(("team_id", f"'{macro.team_id}' is not one of the workspace's teams"))
    for field in ("add_tags", "remove_tags"):
        for n, tag in enumerate(getattr(macro, field)):
            if (problem := tags.problem(tag)) is not None:
                problems.append((f"{field}.{n}", problem))
    return problems


def first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.split() else None


def render(body: str, values: Mapping[str, Any]) -> str:
    """``body`` with each placeholder replaced by its value (or its fallback); refused if one has neither."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        value = values.get(name)
        if value is None or value == "":
            if fallback is None:
                missing.append(name)
                return ""
            return fallback
        return str(value)

    text = PLACEHOLDER.sub(fill, body).strip()
    if missing:
        names = ", ".join(f"{{{m}}}" for m in dict.fromkeys(missing))
        raise InvalidInput(
            f"this macro needs {names}, which isn't known here",
            [("body", f"{names} has no value here: give it a fallback, like {{{missing[0]}|there}}")],
        )
    return text


def conversation_status(state: StateCategory | None) -> ConversationStatus | None:
    """What a macro's state does to a conversation: resolved closes it, any other category reopens it."""
    if state is None:
        return None
    return ConversationStatus.CLOSED if state is StateCategory.RESOLVED else ConversationStatus.OPEN


def matches(macro: Macro, query: str) -> bool:
    """The picker's search: every word of the query starts a word of the macro's name (or is in its body)."""
    words = query.lower().split()
    name_words = macro.name.lower().split()
    body = (macro.body or "").lower()
    return all(any(w.startswith(q) for w in name_words) or q in body for q in words)


def placeholder_values(
    *, customer_name: str | None, customer_email: str | None, ticket: Any | None, agent_name: str | None
) -> dict[str, Any]:
    """The values a macro's placeholders take for this customer, ticket (if any) and agent."""
    values: dict[str, Any] = {
        "customer.first_name": first_name(customer_name),
        "customer.name": customer_name,
        "customer.email": customer_email,
        "agent.name": agent_name,
        "agent.first_name": first_name(agent_name),
    }
    if ticket is not None:
        values |= {"ticket.number": ticket.number, "ticket.title": ticket.title}
        for key, value in ticket.attributes.items():
            shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
            values[ATTRIBUTE_PLACEHOLDER + key] = shown
    return values
