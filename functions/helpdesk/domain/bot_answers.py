"""How the bot reads what the customer answered: typed answers, yes or no, and dotted look-ups.

Pure functions over the bot's configuration and the customer's words, shared by the bot's steps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from helpdesk.domain.bot import AnswerType, AskStep, Condition

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
YES_WORDS = {"yes", "y", "yeah", "yep", "sure", "ok", "okay", "please", "correct", "true", "ja", "oui", "si"}
SKIP_FILES = "skip"
"""The option that goes on without a file (a ``files`` question the step doesn't require)."""
NO_WORDS = {"no", "n", "nope", "nah", "false", "nein", "non", "not really"}


def lookup(scope: dict[str, Any], dotted: str) -> Any:
    """``a.b.0.c`` in nested dicts and lists; None when any part is missing."""
    value: Any = scope
    for part in dotted.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def holds(variables: dict[str, Any], condition: Condition) -> bool:
    """Whether a branch's condition holds for the conversation's variables."""
    value = lookup(variables, condition.var)
    present = value not in (None, "", [], {})  # an empty list of slots is no slots
    if condition.exists is not None and present != condition.exists:
        return False
    if condition.equals is not None and str(value) != str(condition.equals):
        return False
    if condition.not_equals is not None and str(value) == str(condition.not_equals):
        return False
    return not (condition.one_of is not None and str(value) not in {str(v) for v in condition.one_of})


def validate_answer(step: AskStep, text: str, attachment_ids: Sequence[str]) -> tuple[Any, str | None]:
    """The answer, normalised, or the problem to tell the customer."""
    text = text.strip()
    match step.type:
        case AnswerType.FILES:
            if not attachment_ids:
                return None, "Please attach a photo or file with the paperclip button."
            return list(attachment_ids), None
        case AnswerType.INTEGER:
            if not re.fullmatch(r"[+-]?\d{1,15}", text):
                return None, "Please answer with a whole number."
            return int(text), None
        case AnswerType.DECIMAL:
            try:
                number = Decimal(text.replace(",", "."))
            except InvalidOperation:
                return None, "Please answer with a number such as 12.50."
            if not number.is_finite():
                return None, "Please answer with a number such as 12.50."
            return str(number), None
        case AnswerType.EMAIL:
            if not EMAIL.fullmatch(text) or len(text) > 254:
                return None, "That doesn't look like an email address."
            return text.lower(), None
        case AnswerType.YES_NO:
            lowered = text.lower().rstrip("!.")
            if lowered in YES_WORDS:
                return True, None
            if lowered in NO_WORDS:
                return False, None
            return None, "Please answer yes or no."
    if not text:
        return None, "Please type your answer."
    if step.type is AnswerType.STRING and ("\n" in text or len(text) > 500):
        return None, "Please answer in one line (at most 500 characters)."
    if step.normalize == "upper":
        text = text.upper()
    elif step.normalize == "lower":
        text = text.lower()
    if step.pattern is not None and not re.fullmatch(step.pattern, text):
        return None, "That doesn't look right."
    return text, None


def may_skip(step: AskStep) -> bool:
    """A question for a file offers to go on without one, unless the step requires it."""
    return step.type is AnswerType.FILES and not step.required


def kb_answer_text(article_id: str, title: str, body: str, url: str | None) -> str:
    """A knowledge-base answer in Markdown, with a link to the whole article: the business's page for
    it, or the messenger's own view of it (``article:<id>``)."""
    return f"{title}\n\n{body}\n\n[Read the full article]({url or f'article:{article_id}'})"
