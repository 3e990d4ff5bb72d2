"""Requests and answers of the inbox's tag and macro routes (``api/inbox_macros.py``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.ticket_views import AgentTicketView, ReplyView
from helpdesk.api.views import AgentConversationSummary, AgentMessageView
from helpdesk.domain.macros import Macro, MacroDefinition
from helpdesk.domain.tags import MAX_TAGS

TagName = Annotated[str, Field(min_length=1, max_length=40)]


class RetagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add_tags: list[TagName] = Field(default=[], max_length=MAX_TAGS)
    remove_tags: list[TagName] = Field(default=[], max_length=MAX_TAGS)


class ApplyMacroRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preview: bool = Field(default=False, description="Render the reply and show the changes; store nothing.")


class NewMacroRequest(MacroDefinition):
    """An agent's own macro: what the workspace's ``macros/<id>.yaml`` files say."""


class TagList(BaseModel):
    items: list[str] = Field(description="The workspace's tags, for the inbox to offer.")
    free: bool = Field(description="Whether other lowercase words may be used too.")


class MacroView(BaseModel):
    id: str
    name: str
    body: str | None
    internal: bool
    state: str | None
    team_id: str | None
    priority: str | None
    add_tags: list[str]
    remove_tags: list[str]
    personal: bool = Field(description="The caller's own (they may delete it); else the workspace's.")

    @classmethod
    def of(cls, macro: Macro) -> MacroView:
        return cls(
            id=macro.id,
            name=macro.name,
            body=macro.body,
            internal=macro.internal,
            state=macro.state.value if macro.state else None,
            team_id=macro.team_id,
            priority=macro.priority.value if macro.priority else None,
            add_tags=list(macro.add_tags),
            remove_tags=list(macro.remove_tags),
            personal=macro.owner_id is not None,
        )


class MacroList(BaseModel):
    items: list[MacroView]


class TicketMacroResult(BaseModel):
    ticket: AgentTicketView = Field(description="The ticket after the macro (as it would be, for a preview).")
    reply: ReplyView | None = Field(description="The reply or note the macro wrote (would write).")
    stored: bool = Field(description="False for a preview, or when the macro changed nothing.")


class ConversationMacroResult(BaseModel):
    conversation: AgentConversationSummary
    message: AgentMessageView | None
    stored: bool
