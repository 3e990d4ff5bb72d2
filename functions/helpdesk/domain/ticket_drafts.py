"""A ticket drafted from a conversation, for the agent to confirm before converting it.

The title comes from, in this order: the subject of the email that started the conversation; the
bot path's own ticket title (``create_ticket.title`` of the path the bot followed, its ``{name}``
placeholders filled from what the bot collected); the customer's first message; the type's name.

Attributes are pre-filled from what the bot collected (its variables, named after attributes), from
the context package (the object the customer was looking at), and from the customer's own words
(an order number they mentioned, found with the bot's ``pattern`` for that attribute, or an
id-like token such as ``ORD-1001`` for an ``…_id`` attribute). Each value says where it came from:
nothing is set until the agent converts with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from helpdesk.domain.bot import AskStep, BotConfig, CreateTicketStep
from helpdesk.domain.models import AuthorType, Channel, Conversation, Message, MessageKind
from helpdesk.domain.ticket_rules import MAX_TITLE_LENGTH
from helpdesk.domain.workspace import AttributeError_, AttributeType, TicketType

TITLE_FROM_MESSAGE = 80
"""How much of the customer's first message a title takes (cut at a word)."""
ID_LIKE = re.compile(r"\b[A-Z]{2,6}-?\d{3,12}\b")
"""An id a customer quotes (``ORD-1001``, ``INV20394``), for ``…_id`` attributes without a bot pattern."""
QUOTE_AROUND = 30
"""Characters of the customer's words kept either side of what was found in them."""
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Source(StrEnum):
    EMAIL_SUBJECT = "email_subject"
    BOT = "bot"
    CONTEXT = "context"
    CONVERSATION = "conversation"
    TICKET_TYPE = "ticket_type"


@dataclass(frozen=True)
class Prefilled:
    value: Any
    source: Source
    quote: str | None = None
    """The customer's words the value was found in (for ``conversation``)."""


@dataclass(frozen=True)
class TicketDraft:
    ticket_type_id: str
    title: str
    title_source: Source
    attributes: dict[str, Prefilled] = field(default_factory=dict)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,.;:") + "…"


def _customer_words(messages: list[Message]) -> list[Message]:
    return [
        m
        for m in messages
        if m.author.type is AuthorType.CUSTOMER and not m.internal and m.kind is MessageKind.TEXT and m.body.strip()
    ]


def _bot_steps(bot: BotConfig | None, path_id: str | None) -> list[Any]:
    if bot is None:
        return []
    paths = [p for p in bot.paths if p.id == path_id] if path_id else list(bot.paths)
    return [step for path in paths for step in path.steps]


def _title(
    ticket_type: TicketType, conversation: Conversation, said: list[Message], bot: BotConfig | None
) -> tuple[str, Source]:
    if conversation.channel is Channel.EMAIL and conversation.email_subject and conversation.email_subject.strip():
        return _cut(conversation.email_subject, MAX_TITLE_LENGTH), Source.EMAIL_SUBJECT
    state = conversation.bot
    if state is not None and state.path_id:
        variables = state.vars
        for step in _bot_steps(bot, state.path_id):
            if isinstance(step, CreateTicketStep) and step.create_ticket == ticket_type.id and step.title:
                names = _PLACEHOLDER.findall(step.title)
                if all(isinstance(variables.get(n), str | int | float) for n in names):
                    filled = _PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), step.title)
                    return _cut(filled, MAX_TITLE_LENGTH), Source.BOT
    if said:
        return _cut(said[0].body, TITLE_FROM_MESSAGE), Source.CONVERSATION
    return ticket_type.name, Source.TICKET_TYPE


def _valid(ticket_type: TicketType, attribute_id: str, value: Any) -> Any | None:
    try:
        cleaned = ticket_type.validate_attributes({attribute_id: value}, creating=False)
    except AttributeError_:
        return None
    return cleaned.get(attribute_id)


def _mentioned(pattern: re.Pattern[str], said: list[Message]) -> tuple[str, str] | None:
    for message in said:
        found = pattern.search(message.body)
        if found:
            start, end = max(0, found.start() - QUOTE_AROUND), found.end() + QUOTE_AROUND
            quote = " ".join(message.body[start:end].split())
            return found.group(0), ("…" if start else "") + quote + ("…" if end < len(message.body) else "")
    return None


def draft_ticket(
    ticket_type: TicketType, conversation: Conversation, messages: list[Message], bot: BotConfig | None = None
) -> TicketDraft:
    """The draft of a ticket of ``ticket_type`` from ``conversation`` (``messages`` oldest first)."""
    said = _customer_words(messages)
    title, title_source = _title(ticket_type, conversation, said, bot)
    variables = conversation.bot.vars if conversation.bot else {}
    steps = _bot_steps(bot, conversation.bot.path_id if conversation.bot else None) or _bot_steps(bot, None)
    patterns = {
        step.attribute: step.pattern for step in steps if isinstance(step, AskStep) and step.pattern is not None
    }
    context_object = conversation.context.object if conversation.context else None
    attributes: dict[str, Prefilled] = {}
    for attribute in ticket_type.attributes:
        if attribute.type is AttributeType.FILES:
            continue
        collected = variables.get(attribute.id)
        if isinstance(collected, str | int | float | bool) and (value := _valid(ticket_type, attribute.id, collected)):
            attributes[attribute.id] = Prefilled(value, Source.BOT)
            continue
        if context_object is not None and attribute.id == f"{context_object.type}_id":
            attributes[attribute.id] = Prefilled(context_object.id, Source.CONTEXT)
            continue
        if attribute.type is not AttributeType.STRING:
            continue
        pattern = patterns.get(attribute.id)
        compiled = re.compile(pattern, re.IGNORECASE) if pattern else ID_LIKE if attribute.id.endswith("_id") else None
        if compiled is None:
            continue
        found = _mentioned(compiled, said)
        if found is not None and (value := _valid(ticket_type, attribute.id, found[0].upper())):
            attributes[attribute.id] = Prefilled(value, Source.CONVERSATION, found[1])
    return TicketDraft(ticket_type.id, title, title_source, attributes)
