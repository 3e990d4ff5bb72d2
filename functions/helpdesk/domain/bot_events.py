"""The domain events about the bot's part in a conversation: how it ended, and the knowledge-base
answers it showed and the customer rated (same envelope and rules as ``helpdesk.domain.events``:
ids and outcomes, never names or words).
"""

from __future__ import annotations

from pydantic import Field

from helpdesk.domain.event_base import _CONVERSATION_EXAMPLE, _ENVELOPE_EXAMPLE, DetailType, EventDetail, Id, _example
from helpdesk.domain.models import BotOutcome, Channel, HandoffReason, ResolvedBy


class ConversationEventDetail(EventDetail):
    """Events about the bot's part in a conversation carry whose conversation it is and where it came from."""

    conversation_id: Id = Field(description="The conversation's id.")
    customer_id: Id = Field(description="Whose conversation it is.")
    team_id: Id = Field(description="The team the conversation belongs to.")
    channel: Channel = Field(description="Where the customer wrote from.")


class BotConversationEnded(ConversationEventDetail):
    detail_type = DetailType.BOT_CONVERSATION_ENDED
    summary = (
        "The bot's part in a conversation ended: resolved by it, handed to a person, or turned into a ticket. "
        "Once per conversation."
    )
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        _CONVERSATION_EXAMPLE,
        outcome="handed_off",
        resolved_by="agent",
        path_id="damaged-item",
        step_id="handoff",
        handoff_reason="requested",
    )

    outcome: BotOutcome = Field(description="How the bot's part ended.")
    resolved_by: ResolvedBy | None = Field(description="kb, custom_action, bot, agent or ticket.")
    path_id: Id | None = Field(description="The bot path it ended on (null: before any path).")
    step_id: Id | None = Field(description="The step of the path it ended on.")
    handoff_reason: HandoffReason | None = Field(
        description="With outcome handed_off: why the bot gave the conversation to a person."
    )


class KnowledgeAnswerShown(ConversationEventDetail):
    detail_type = DetailType.KNOWLEDGE_ANSWER_SHOWN
    summary = "The bot answered with a knowledge-base article and asked whether it helped."
    model_config = _example(
        _ENVELOPE_EXAMPLE, _CONVERSATION_EXAMPLE, article_id="where-is-my-order", path_id=None, step_id=None
    )

    article_id: Id = Field(description="The knowledge-base article shown.")
    path_id: Id | None = Field(description="The bot path that showed it, if one did.")
    step_id: Id | None = Field(description="The step of that path.")


class KnowledgeAnswerRated(KnowledgeAnswerShown):
    detail_type = DetailType.KNOWLEDGE_ANSWER_RATED
    summary = "The customer said whether a knowledge-base answer helped."
    model_config = _example(
        _ENVELOPE_EXAMPLE,
        _CONVERSATION_EXAMPLE,
        article_id="where-is-my-order",
        path_id=None,
        step_id=None,
        helpful=False,
    )

    helpful: bool = Field(description="What the customer answered to 'did this help?'")
