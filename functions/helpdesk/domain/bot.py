"""Bot paths as configuration: what the bot says, asks and does before (or instead of) a human.

A workspace's ``bot.yaml`` holds the greeting, the menu of paths, and the paths themselves. A path
is a list of steps run in order (``goto`` jumps by step id); each step has exactly one kind::

    say:            send a message
    ask:            ask a question; the answer is validated (type, pattern) and stored as ``attribute``
    choose:         offer quick-reply options; the chosen option may jump (``goto``) and is stored
    answer_from_kb: answer from the knowledge base and ask whether it helped
    custom_action:  call the business's system (``actions/<id>.yaml``); writes ask to ``confirm`` first.
                    It acts for the caller the messenger token proved: an anonymous visitor reaching an
                    action on a customer's records is asked to sign in (``visitors``), and a record that
                    isn't the caller's is the outcome ``not_on_account`` (``{step.outcome}``)
    branch:         jump on collected values or action results
    handoff:        pass the conversation to a team (live agent, else a ticket or the team's queue)
    create_ticket:  open a ticket of a type with the collected attributes
    resolve:        the bot is done: the conversation is resolved without a human

Text may use ``{placeholders}``: collected answers (``{order_id}``), action results by step id
(``{lookup.status}``; every result also has ``ok``, ``outcome`` and ``http_status``),
``{customer.name}`` and ``{context.object.id}``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Slug = Annotated[str, Field(pattern=SLUG)]
VariableName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
STEP_KINDS = (
    "say",
    "ask",
    "choose",
    "answer_from_kb",
    "custom_action",
    "branch",
    "handoff",
    "create_ticket",
    "resolve",
)
END = "end"
"""``goto: end`` finishes the path (the conversation then goes to the path's fallback hand-off)."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnswerType(StrEnum):
    TEXT = "text"
    """Any non-empty text."""
    STRING = "string"
    """One line of text."""
    INTEGER = "integer"
    DECIMAL = "decimal"
    EMAIL = "email"
    YES_NO = "yes_no"
    FILES = "files"
    """One or more attachments (a photo, a PDF): the answer is their ids."""


class StepBase(_Config):
    id: Slug
    goto: str | None = None
    """Where to continue after this step (a step id, or ``end``); default: the next step."""


class SayStep(StepBase):
    say: str = Field(min_length=1, max_length=2000)


class AskStep(StepBase):
    ask: str = Field(min_length=1, max_length=1000)
    attribute: VariableName
    """The name the answer is stored under (a ticket attribute when a ticket is created)."""
    type: AnswerType = AnswerType.TEXT
    pattern: str | None = None
    """A regular expression the (trimmed) answer must match in full."""
    error: str | None = Field(default=None, max_length=500)
    """What to say when the answer is not valid (default: a message naming what is expected)."""
    max_attempts: int = Field(default=3, ge=1, le=10)
    """After this many invalid answers the bot hands off instead of asking again."""
    from_context: Slug | None = None
    """Skip the question when the messenger's context names an object of this type (e.g. ``order``)."""
    normalize: Literal["upper", "lower"] | None = None
    required: bool = False
    """A ``files`` question: without it, the customer is offered to go on without a file (``messages.skip_files``)."""

    @model_validator(mode="after")
    def _valid_pattern(self) -> AskStep:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(f"pattern is not a valid regular expression: {error}") from error
        return self


class ChoiceOption(_Config):
    id: Slug
    label: str = Field(min_length=1, max_length=80)
    goto: str | None = None


class ChooseStep(StepBase):
    choose: str = Field(min_length=1, max_length=1000)
    options: tuple[ChoiceOption, ...] = Field(min_length=1, max_length=10)
    attribute: VariableName | None = None
    """Store the chosen option's id under this name."""
    options_from: str | None = None
    """Build the options from an action result: ``<step>.<list>`` whose items have ``id`` and ``label``."""


class KbStep(StepBase):
    answer_from_kb: str = Field(default="{text}", max_length=1000)
    """The question to search for (default: what the customer last wrote)."""
    if_not_helpful: str | None = None
    """Where to continue when there is no confident answer or the customer says it didn't help."""


class ActionStep(StepBase):
    custom_action: Slug
    inputs: dict[str, str] = {}
    confirm: str | None = Field(default=None, max_length=1000)
    """Ask the customer to confirm before the call (required for actions that change their data)."""
    on_decline: str | None = None
    on_failure: str | None = None
    """Where to continue when the call fails, times out or finds the record isn't the caller's
    (``outcome: not_on_account``); default: say so and hand off to the path's team."""
    on_sign_in_required: str | None = None
    """Where an anonymous visitor continues when the action needs a signed-in customer (default: the
    bot's ``visitors`` rule: ask them to sign in, or hand off)."""
    success_message: str | None = Field(default=None, max_length=2000)


class Condition(_Config):
    var: str = Field(min_length=1, max_length=100)
    equals: Any = None
    not_equals: Any = None
    one_of: tuple[Any, ...] | None = None
    exists: bool | None = None


class Case(_Config):
    when: Condition
    goto: str


class BranchStep(StepBase):
    branch: tuple[Case, ...] = Field(min_length=1)
    otherwise: str | None = None


class HandoffStep(StepBase):
    handoff: Slug
    """The team that takes over."""
    message: str = Field(
        default="I'm passing you to our {team} team: someone will reply here shortly.", max_length=1000
    )
    when_nobody_online: Literal["queue", "ticket"] = "queue"
    """With no agent of the team online: wait in the team's queue, or open a ticket of ``ticket_type``."""
    ticket_type: Slug | None = None
    office_hours: bool = False
    """Tell the customer when the team is closed (the workspace's business hours)."""
    closed_message: str = Field(
        default="Our team is away right now; we'll reply as soon as we're back.", max_length=1000
    )

    @model_validator(mode="after")
    def _ticket_needs_type(self) -> HandoffStep:
        if self.when_nobody_online == "ticket" and self.ticket_type is None:
            raise ValueError("when_nobody_online: 'ticket' needs a ticket_type")
        return self


class CreateTicketStep(StepBase):
    create_ticket: Slug
    """The ticket type."""
    attributes: dict[str, Any] = {}
    """Attribute id -> value or ``{placeholder}`` (a lone placeholder keeps the value's type)."""
    title: str | None = Field(default=None, max_length=200)
    team: Slug | None = None
    message: str = Field(
        default="I've opened ticket #{ticket.number} for you: our {team} team will take it from here. "
        "You can follow it in your tickets.",
        max_length=1000,
    )


class ResolveStep(StepBase):
    resolve: str = Field(default="Glad I could help!", max_length=1000)


Step = SayStep | AskStep | ChooseStep | KbStep | ActionStep | BranchStep | HandoffStep | CreateTicketStep | ResolveStep
_STEP_CLASSES: dict[str, type[StepBase]] = {
    "say": SayStep,
    "ask": AskStep,
    "choose": ChooseStep,
    "answer_from_kb": KbStep,
    "custom_action": ActionStep,
    "branch": BranchStep,
    "handoff": HandoffStep,
    "create_ticket": CreateTicketStep,
    "resolve": ResolveStep,
}


def step_kind(step: StepBase) -> str:
    return next(kind for kind, cls in _STEP_CLASSES.items() if type(step) is cls)


def parse_step(data: Any, index: int) -> StepBase:
    if not isinstance(data, dict):
        raise ValueError(f"step {index + 1} must be a mapping with one of: {', '.join(STEP_KINDS)}")
    kinds = [k for k in STEP_KINDS if k in data]
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        raise ValueError(f"step {index + 1} must have exactly one of: {', '.join(STEP_KINDS)} (found: {found})")
    values = dict(data)
    values.setdefault("id", f"step-{index + 1}")
    return _STEP_CLASSES[kinds[0]].model_validate(values)


class BotPath(_Config):
    id: Slug
    label: str = Field(min_length=1, max_length=80)
    """The quick-reply button in the greeting menu."""
    match: tuple[str, ...] = ()
    """Phrases (case-insensitive, whole words) that pick this path from the customer's first message."""
    team: Slug | None = None
    """Who takes over when the path can't finish (default: the workspace's default team)."""
    steps: tuple[Any, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _parse_steps(self) -> BotPath:
        parsed = tuple(parse_step(s, i) if not isinstance(s, StepBase) else s for i, s in enumerate(self.steps))
        object.__setattr__(self, "steps", parsed)
        ids = [s.id for s in parsed]
        if len(set(ids)) != len(ids):
            raise ValueError(f"step ids must be unique within a path: {ids}")
        known = set(ids) | {END}
        for step in parsed:
            for target in _targets(step):
                if target not in known:
                    raise ValueError(f"step '{step.id}': goes to '{target}', which is not a step of this path")
        return self

    @cached_property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.steps)

    def step(self, step_id: str) -> StepBase | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def after(self, step: StepBase) -> str | None:
        """The step that follows ``step`` when it doesn't jump: the next one, or None at the end."""
        index = self.step_ids.index(step.id)
        return self.step_ids[index + 1] if index + 1 < len(self.step_ids) else None

    @cached_property
    def _patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(rf"\b{re.escape(p.lower())}\b") for p in self.match)

    def matches(self, text: str) -> bool:
        lowered = text.lower()
        return any(p.search(lowered) for p in self._patterns)


def _targets(step: StepBase) -> list[str]:
    targets = [step.goto] if step.goto else []
    match step:
        case ChooseStep():
            targets += [o.goto for o in step.options if o.goto]
        case KbStep():
            targets += [step.if_not_helpful] if step.if_not_helpful else []
        case ActionStep():
            targets += [t for t in (step.on_decline, step.on_failure, step.on_sign_in_required) if t]
        case BranchStep():
            targets += [c.goto for c in step.branch] + ([step.otherwise] if step.otherwise else [])
    return targets


PERSON_REQUEST_WORDS = 12
"""A message longer than this isn't read as a request for a person (it is about something else)."""


class BotMessages(_Config):
    """The bot's own words for the waterfall's fixed moments."""

    kb_helpful: str = "Did that answer your question?"
    kb_yes: str = "Yes, thanks"
    kb_no: str = "No"
    kb_resolved: str = "Great, glad I could help!"
    menu: str = "I can help you with these right away, or pass you to a person:"
    not_understood: str = "Sorry, I didn't catch that. Please pick one of the options."
    action_failed: str = "I couldn't reach our systems just now, so I'm passing you to a person who can help."
    not_on_account: str = "I couldn't find that on your account, so I'm passing you to a person who can help."
    sign_in_required: str = (
        "I can only do that once you're signed in, so I know it's your account. "
        'Please sign in, then tap "I\'ve signed in". Or I can pass you to a person.'
    )
    still_not_signed_in: str = "You're not signed in yet. Please sign in first, then tap \"I've signed in\"."
    sign_in_handoff: str = "I can only do that for signed-in customers, so I'm passing you to a person who can help."
    signed_in: str = "I've signed in"
    person: str = "Talk to a person"
    declined: str = "No problem, I haven't changed anything."
    too_many_attempts: str = "Let me get a person to help you with this."
    skip_files: str = "Continue without a photo"
    yes: str = "Yes"
    no: str = "No"


class BotConfig(_Config):
    name: str = Field(default="Assistant", min_length=1, max_length=60)
    greeting: str = Field(default="Hi! How can I help?", max_length=1000)
    menu: tuple[Slug, ...] = ()
    """The paths offered as quick replies, in order."""
    knowledge_base: bool = True
    """Try a knowledge-base answer when the first message picks no path."""
    fallback_team: Slug | None = None
    """Who takes over when nothing else helps (default: the workspace's default team)."""
    visitors: Literal["ask_to_sign_in", "handoff"] = "ask_to_sign_in"
    """An anonymous visitor who reaches a custom action on a customer's records (``requires:
    verified_customer``): is asked to sign in, and the step runs once they have; or is passed to a
    person of the path's team. A step's ``on_sign_in_required`` overrides it."""
    messages: BotMessages = BotMessages()
    paths: tuple[BotPath, ...] = ()

    @model_validator(mode="after")
    def _menu_paths_exist(self) -> BotConfig:
        ids = [p.id for p in self.paths]
        if len(set(ids)) != len(ids):
            raise ValueError(f"path ids must be unique: {ids}")
        for path_id in self.menu:
            if path_id not in ids:
                raise ValueError(f"menu: '{path_id}' is not one of the paths ({', '.join(ids)})")
        return self

    def path(self, path_id: str) -> BotPath | None:
        return next((p for p in self.paths if p.id == path_id), None)

    def first_path(self, text: str, option_id: str | None) -> BotPath | None:
        """The path a conversation starts on: a pick from the menu, else what the words match."""
        menu_pick = self.path(option_id) if option_id and option_id in self.menu else None
        return menu_pick or self.matching_path(text)

    def matching_path(self, text: str) -> BotPath | None:
        """The path the words pick; asking for a person (``person_path``) wins over any other match."""
        return self.person_path(text, short=False) or next((p for p in self.paths if p.matches(text)), None)

    def person_path(self, text: str, *, short: bool = True) -> BotPath | None:
        """The path that hands over to a person (its first step is a hand-off) when the words ask for one.

        Mid-path (``short``), only a short message counts (at most ``PERSON_REQUEST_WORDS`` words), so
        an answer that merely mentions a "human error" isn't taken for a request.
        """
        if short and len(text.split()) > PERSON_REQUEST_WORDS:
            return None
        return next((p for p in self.paths if isinstance(p.steps[0], HandoffStep) and p.matches(text)), None)


def reference_problems(
    bot: BotConfig,
    *,
    teams: set[str],
    ticket_types: dict[str, set[str]],
    actions: set[str] | None,
) -> list[str]:
    """What in ``bot`` names a team, ticket type, attribute or action the workspace doesn't have.

    ``ticket_types``: type id -> its attribute ids; ``actions``: the declared custom actions
    (None: not checked).
    """
    problems: list[str] = []

    def team(where: str, team_id: str | None) -> None:
        if team_id is not None and team_id not in teams:
            problems.append(f"{where}: team '{team_id}' is not one of the workspace's teams")

    def ticket_type(where: str, type_id: str | None) -> set[str]:
        if type_id is not None and type_id not in ticket_types:
            problems.append(f"{where}: ticket type '{type_id}' is not one of the workspace's ticket types")
        return ticket_types.get(type_id or "", set())

    team("fallback_team", bot.fallback_team)
    for path in bot.paths:
        team(f"paths.{path.id}.team", path.team)
        for step in path.steps:
            where = f"paths.{path.id}.steps.{step.id}"
            match step:
                case HandoffStep():
                    team(where, step.handoff)
                    ticket_type(where, step.ticket_type)
                case CreateTicketStep():
                    team(where, step.team)
                    attributes = ticket_type(where, step.create_ticket)
                    for name in step.attributes:
                        if step.create_ticket in ticket_types and name not in attributes:
                            problems.append(
                                f"{where}: attribute '{name}' is not an attribute of ticket type '{step.create_ticket}'"
                            )
                case ActionStep():
                    if actions is not None and step.custom_action not in actions:
                        problems.append(f"{where}: custom action '{step.custom_action}' is not declared in actions/")
    return problems
