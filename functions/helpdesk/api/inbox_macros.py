"""The inbox's tag and macro routes: tagging conversations, the tag list, agents' macros, applying a macro.

Included in the inbox API (``api/inbox.py``); tickets are tagged through ``PATCH /inbox/tickets/{id}``.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from helpdesk import wiring
from helpdesk.api import macro_views, ticket_views, views
from helpdesk.api.identity import agent_from_event
from helpdesk.api.params import Id, created
from helpdesk.domain.macros import MacroDefinition
from helpdesk.domain.principals import AgentPrincipal

router = Router()


def _agent() -> AgentPrincipal:
    return agent_from_event(router.current_event.raw_event)


@router.get("/inbox/tags", summary="The workspace's tags")
def list_tags() -> macro_views.TagList:
    """The tags agents pick from, and whether other (lowercase) words may be used too."""
    _agent()
    settings = wiring.workspace().tags
    return macro_views.TagList(items=list(settings.allowed), free=settings.free)


@router.post("/inbox/conversations/<conversation_id>/tags", summary="Add or remove tags on a conversation")
def retag_conversation(conversation_id: Id, request: macro_views.RetagRequest) -> views.AgentConversationSummary:
    """For agents who work on the conversation; tags are internal and each is a view (`?tag=`)."""
    conversation = wiring.tags().retag_conversation(_agent(), conversation_id, request.add_tags, request.remove_tags)
    return views.agent_conversation_summary(conversation)


@router.get("/inbox/macros", summary="The macros I can use: the workspace's and my own")
def list_macros(
    q: Annotated[str, Query(max_length=100, description="Words that start words of the name.")] = "",
) -> macro_views.MacroList:
    """What the composer's `/` picker searches: the caller's own macros first, then the workspace's."""
    return macro_views.MacroList(items=[macro_views.MacroView.of(m) for m in wiring.macros().available(_agent(), q)])


@router.post("/inbox/macros", summary="Save a macro of my own")
def create_macro(request: macro_views.NewMacroRequest) -> Response[macro_views.MacroView]:
    """A personal macro: only its owner sees, applies and deletes it."""
    macro = wiring.macros().create(_agent(), MacroDefinition.model_validate(request.model_dump()))
    return created(macro_views.MacroView.of(macro))


@router.delete("/inbox/macros/<macro_id>", summary="Delete a macro of my own")
def delete_macro(macro_id: Id) -> Response[str]:
    """Only the owner deletes their macro; the workspace's macros are changed in its configuration."""
    wiring.macros().delete(_agent(), macro_id)
    return Response(status_code=204, body="")


@router.post(
    "/inbox/tickets/<ticket_id>/macros/<macro_id>/apply",
    summary="Apply a macro to a ticket: its reply and its changes in one step",
)
def apply_macro_to_ticket(
    ticket_id: Id, macro_id: Id, request: macro_views.ApplyMacroRequest
) -> macro_views.TicketMacroResult:
    """Renders the reply for this customer and ticket and changes state, team, priority and tags, all or nothing
    (`preview: true` shows what it would do and stores nothing)."""
    applied = wiring.macros().apply_to_ticket(_agent(), ticket_id, macro_id, preview=request.preview)
    return macro_views.TicketMacroResult(
        ticket=ticket_views.agent_ticket_view(applied.ticket, wiring.workspace()),
        reply=ticket_views.reply_view(applied.reply) if applied.reply else None,
        stored=applied.stored,
    )


@router.post(
    "/inbox/conversations/<conversation_id>/macros/<macro_id>/apply",
    summary="Apply a macro to a conversation: its reply, close or reopen, and tags in one step",
)
def apply_macro_to_conversation(
    conversation_id: Id, macro_id: Id, request: macro_views.ApplyMacroRequest
) -> macro_views.ConversationMacroResult:
    """Renders the reply for this customer; a macro that changes a ticket's team or priority is refused here
    (`preview: true` shows what it would do and stores nothing)."""
    applied = wiring.macros().apply_to_conversation(_agent(), conversation_id, macro_id, preview=request.preview)
    return macro_views.ConversationMacroResult(
        conversation=views.agent_conversation_summary(applied.conversation),
        message=views.agent_message_view(applied.message) if applied.message else None,
        stored=applied.stored,
    )
