"""The bot: runs a conversation through the waterfall before a human is needed.

The waterfall: a path picked from the first message (or the greeting menu), a knowledge-base
answer, a custom action on the business's systems, then a live agent of the right team, then a
ticket. ``BotEngine.respond`` takes the bot's state and the customer's words and returns the new
state, the bot's replies and what should happen next (hand off, open a ticket); it does no storage
itself, so the conversation service can write everything the turn produced in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from helpdesk.domain import bot_answers as answers
from helpdesk.domain.action_ownership import ActionCaller
from helpdesk.domain.bot import (
    END,
    PLACEHOLDER,
    ActionStep,
    AskStep,
    BotConfig,
    BotPath,
    BranchStep,
    ChooseStep,
    CreateTicketStep,
    HandoffStep,
    KbStep,
    ResolveStep,
    SayStep,
    StepBase,
)
from helpdesk.domain.models import (
    BotOutcome,
    BotState,
    ContextPackage,
    Conversation,
    HandoffReason,
    KbAnswer,
    MessageKind,
    MessageOption,
    ResolvedBy,
)
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.services.bot_actions import ACTION_DONE, ActionSteps
from helpdesk.services.bot_ports import (
    ActionOutcome,
    ActionRunner,
    BotTurn,
    CustomerInput,
    Handoff,
    Knowledge,
    Reply,
    TicketRequest,
)

__all__ = ["ActionOutcome", "ActionRunner", "BotEngine", "BotTurn", "CustomerInput", "Handoff", "Knowledge"]
__all__ += ["Reply", "TicketRequest"]

MAX_STEPS_PER_TURN = 50
"""A path that jumps in circles without waiting on the customer is stopped and handed off."""
MENU_ATTEMPTS = 2


class BotEngine:
    def __init__(
        self,
        config: BotConfig,
        *,
        default_team: str,
        team_names: dict[str, str],
        knowledge: Knowledge | None = None,
        actions: ActionRunner | None = None,
        someone_present: Callable[[str], str | None] | None = None,
        team_is_open: Callable[[str], bool] | None = None,
    ) -> None:
        self._config = config
        self._fallback_team = config.fallback_team or default_team
        self._team_names = team_names
        self._knowledge = knowledge
        self._actions = actions
        self._someone_present = someone_present or (lambda _team: None)
        self._team_is_open = team_is_open or (lambda _team: True)

    @property
    def name(self) -> str:
        return self._config.name

    def respond(
        self, conversation: Conversation, state: BotState | None, said: CustomerInput, *, customer: CustomerPrincipal
    ) -> BotTurn:
        """The bot's answer to ``said``, acting for ``customer``: the caller this request's token proved.

        Custom actions run on that verified identity, never on one found in the conversation.
        """
        turn = _Turn(self, conversation, (state or BotState()).model_copy(deep=True), said, customer)
        turn.run()
        return turn.result


class _Turn:
    """One customer message's worth of bot work."""

    def __init__(
        self,
        engine: BotEngine,
        conversation: Conversation,
        state: BotState,
        said: CustomerInput,
        customer: CustomerPrincipal,
    ) -> None:
        self.engine = engine
        self.config = engine._config
        self.action_runner = engine._actions
        self.fallback_team = engine._fallback_team
        self.conversation = conversation
        self.state = state
        self.said = said
        self.customer = customer
        self.caller = ActionCaller.of(customer)
        self.result = BotTurn(state=state)
        self.steps_run = 0
        self.actions = ActionSteps(self)
        state.turn += 1
        state.vars["text"] = said.text
        self.actions.forget_results_of_another_caller()

    # --- entry -----------------------------------------------------------------------------------

    def run(self) -> None:
        state = self.state
        if state.outcome is not None:
            return
        person = self.config.person_path(self.said.text) if state.awaiting and not self.said.option_id else None
        if person is not None and person.id != state.path_id:
            self.start_path(person)  # asking for a person wins over answering the bot's question
            return
        match state.awaiting:
            case None:
                self.first_message()
            case "menu":
                self.menu_answer()
            case "kb_feedback":
                self.kb_feedback()
            case "answer":
                self.answer()
            case "choice":
                self.choice()
            case "confirm":
                self.actions.confirmation()
            case "sign_in":
                self.actions.signed_in_answer()

    def first_message(self) -> None:
        path = self.config.first_path(self.said.text, self.said.option_id)
        if path is not None:
            self.start_path(path)
            return
        if self.config.knowledge_base and self.try_knowledge(self.said.text, path_step=None):
            return
        self.say(self.render(self.config.greeting))
        self.show_menu()

    # --- the menu and the knowledge base ---------------------------------------------------------

    def menu_options(self) -> list[MessageOption]:
        paths = [self.config.path(p) for p in self.config.menu]
        return [MessageOption(id=p.id, label=p.label) for p in paths if p is not None]

    def show_menu(self, text: str | None = None) -> None:
        options = self.menu_options()
        if not options:
            self.hand_off(self.engine._fallback_team, HandoffReason.NO_MENU)
            return
        self.state.menu_shown = True
        self.wait("menu", text or self.config.messages.menu, options)

    def menu_answer(self) -> None:
        picked = self.picked_option()
        path = self.config.path(picked.id) if picked else self.config.matching_path(self.said.text)
        if path is not None:
            self.start_path(path)
            return
        if self.state.attempts + 1 >= MENU_ATTEMPTS:
            self.say(self.config.messages.too_many_attempts)
            self.hand_off(self.engine._fallback_team, HandoffReason.NOT_UNDERSTOOD)
            return
        self.state.attempts += 1
        self.wait("menu", self.config.messages.not_understood, self.state.offered)

    def try_knowledge(self, question: str, *, path_step: str | None) -> bool:
        knowledge = self.engine._knowledge
        if knowledge is None or not question.strip():
            return False
        context = self.conversation.context
        hit = knowledge.best_answer(question, locale=context.locale if context else None)
        if hit is None:
            return False
        article = hit.article
        self.state.kb_article_id = article.id
        self.state.kb_answers.append(KbAnswer(article_id=article.id, path_id=self.state.path_id, step_id=path_step))
        text = answers.kb_answer_text(article.id, article.title, article.body, getattr(article, "url", None))
        self.say(text, kind=MessageKind.KB_ANSWER)
        messages = self.config.messages
        self.state.step_id = path_step
        self.wait(
            "kb_feedback",
            messages.kb_helpful,
            [MessageOption(id="yes", label=messages.kb_yes), MessageOption(id="no", label=messages.kb_no)],
        )
        return True

    def kb_feedback(self) -> None:
        answer = self.yes_or_no()
        if answer is None:
            self.wait("kb_feedback", self.config.messages.not_understood, self.state.offered)
            return
        if self.state.kb_answers:
            self.state.kb_answers[-1].helpful = answer
        if answer:
            self.finish(BotOutcome.RESOLVED, ResolvedBy.KB, self.config.messages.kb_resolved)
            return
        path = self.current_path()
        step = path.step(self.state.step_id) if path and self.state.step_id else None
        if path is not None and isinstance(step, KbStep):
            self.continue_at(path, step.if_not_helpful or path.after(step))
        elif not self.state.menu_shown:
            self.show_menu("Sorry about that. " + self.config.messages.menu)
        else:
            self.hand_off(self.engine._fallback_team, HandoffReason.KB_NOT_HELPFUL)

    # --- paths -----------------------------------------------------------------------------------

    def current_path(self) -> BotPath | None:
        return self.config.path(self.state.path_id) if self.state.path_id else None

    def start_path(self, path: BotPath) -> None:
        self.state.path_id = path.id
        self.state.attempts = 0
        self.continue_at(path, path.steps[0].id)

    def continue_at(self, path: BotPath, step_id: str | None) -> None:
        """Run steps from ``step_id`` until one waits on the customer or the path ends."""
        self.state.awaiting = None
        self.state.offered = []
        self.state.attempts = 0
        while True:
            if step_id is None or step_id == END:
                self.hand_off(path.team or self.engine._fallback_team, HandoffReason.PATH_ENDED)
                return
            step = path.step(step_id)
            if step is None:  # pragma: no cover - config validation rejects unknown targets
                self.hand_off(path.team or self.engine._fallback_team, HandoffReason.PATH_ENDED)
                return
            self.steps_run += 1
            if self.steps_run > MAX_STEPS_PER_TURN:
                self.say(self.config.messages.too_many_attempts)
                self.hand_off(path.team or self.engine._fallback_team, HandoffReason.PATH_ENDED)
                return
            self.state.step_id = step.id
            following = self.execute(path, step)
            if self.state.awaiting is not None or self.state.outcome is not None:
                return
            step_id = following

    def execute(self, path: BotPath, step: StepBase) -> str | None:
        """Run one step; returns the step to go on with (ignored when it waits or finishes)."""
        after = step.goto or path.after(step)
        match step:
            case SayStep():
                self.say(self.render(step.say))
            case AskStep():
                prefilled = self.prefill(step) if step.attribute not in self.state.vars else None
                if prefilled is not None:
                    self.state.vars[step.attribute] = prefilled
                else:
                    self.wait("answer", self.render(step.ask), self.skip_option(step))
            case ChooseStep():
                self.wait("choice", self.render(step.choose), self.choice_options(step))
            case KbStep():
                if not self.try_knowledge(self.render(step.answer_from_kb), path_step=step.id):
                    return step.if_not_helpful or after
            case ActionStep():
                return self.actions.start(path, step)
            case BranchStep():
                for case in step.branch:
                    if answers.holds(self.state.vars, case.when):
                        return case.goto
                return step.otherwise or after
            case HandoffStep():
                self.handoff_step(step)
            case CreateTicketStep():
                self.create_ticket(path, step)
            case ResolveStep():
                resolved_by = ResolvedBy.CUSTOM_ACTION if self.state.vars.get(ACTION_DONE) else ResolvedBy.BOT
                self.finish(BotOutcome.RESOLVED, resolved_by, self.render(step.resolve))
        return after

    # --- answers ---------------------------------------------------------------------------------

    def step_waited_on[S: StepBase](self, kind: type[S]) -> tuple[BotPath, S] | None:
        path = self.current_path()
        step = path.step(self.state.step_id) if path and self.state.step_id else None
        return (path, step) if path is not None and isinstance(step, kind) else None

    def answer(self) -> None:
        waited = self.step_waited_on(AskStep)
        if waited is None:  # pragma: no cover - state written by us
            self.hand_off(self.engine._fallback_team, HandoffReason.PATH_ENDED)
            return
        path, step = waited
        skip = self.skip_option(step)
        skipped = bool(skip) and self.picked_option() == skip[0]  # going on without the file
        attached = [a.id for a in self.said.attachments]
        value, problem = ([], None) if skipped else answers.validate_answer(step, self.said.text, attached)
        if problem is not None:
            self.retry(path, step, step.error or problem, skip)
            return
        self.state.vars[step.attribute] = value
        self.continue_at(path, step.goto or path.after(step))

    def choice(self) -> None:
        waited = self.step_waited_on(ChooseStep)
        if waited is None:  # pragma: no cover
            self.hand_off(self.engine._fallback_team, HandoffReason.PATH_ENDED)
            return
        path, step = waited
        picked = self.picked_option()
        if picked is None:
            self.retry(path, step, self.config.messages.not_understood, self.state.offered)
            return
        if step.attribute:
            self.state.vars[step.attribute] = picked.id
        self.state.vars[step.id] = {"id": picked.id, "label": picked.label}
        option = next((o for o in step.options if o.id == picked.id), None)
        target = (option.goto if option else None) or step.goto or path.after(step)
        self.continue_at(path, target)

    def retry(self, path: BotPath, step: StepBase, problem: str, options: list[MessageOption]) -> None:
        self.state.attempts += 1
        limit = step.max_attempts if isinstance(step, AskStep) else MENU_ATTEMPTS + 1
        if self.state.attempts >= limit:
            self.say(self.config.messages.too_many_attempts)
            self.hand_off(path.team or self.engine._fallback_team, HandoffReason.NOT_UNDERSTOOD)
            return
        question = step.ask if isinstance(step, AskStep) else ""
        text = f"{problem} {self.render(question)}".strip() if question else problem
        self.say_and_wait(text, options)

    def skip_option(self, step: AskStep) -> list[MessageOption]:
        label = self.config.messages.skip_files
        return [MessageOption(id=answers.SKIP_FILES, label=label)] if answers.may_skip(step) else []

    def picked_option(self) -> MessageOption | None:
        offered = self.state.offered
        if self.said.option_id:
            return next((o for o in offered if o.id == self.said.option_id), None)
        typed = self.said.text.strip().lower()
        return next((o for o in offered if typed in (o.label.lower(), o.id.lower())), None)

    def yes_or_no(self) -> bool | None:
        picked = self.picked_option()
        if picked is not None and picked.id in ("yes", "no"):
            return picked.id == "yes"
        typed = self.said.text.strip().lower().rstrip("!.")
        if typed in answers.YES_WORDS:
            return True
        if typed in answers.NO_WORDS:
            return False
        return None

    def choice_options(self, step: ChooseStep) -> list[MessageOption]:
        """The step's options; with ``options_from``, the action's list first and the fixed ones after."""
        built: list[MessageOption] = []
        if step.options_from:
            items = answers.lookup(self.state.vars, step.options_from)
            if isinstance(items, list):
                built = [
                    MessageOption(id=str(i["id"]), label=str(i.get("label") or i["id"]))
                    for i in items[:9]
                    if isinstance(i, dict) and i.get("id")
                ]
        return built + [MessageOption(id=o.id, label=self.render(o.label)) for o in step.options]

    def prefill(self, step: AskStep) -> str | None:
        context: ContextPackage | None = self.conversation.context
        if step.from_context and context is not None and context.object is not None:
            return context.object.id if context.object.type == step.from_context else None
        return None

    # --- doing things ----------------------------------------------------------------------------

    def handoff_step(self, step: HandoffStep) -> None:
        team = step.handoff
        team_name = self.engine._team_names.get(team, team)
        if step.office_hours and not self.engine._team_is_open(team):
            self.say(self.render(step.closed_message, team=team_name))
        agent = self.engine._someone_present(team)
        if agent is None and step.when_nobody_online == "ticket" and step.ticket_type:
            self.result.ticket = TicketRequest(
                ticket_type_id=step.ticket_type,
                attributes=self.ticket_values({}),
                title=None,
                team_id=team,
                message=CreateTicketStep.model_fields["message"].default,
                fallback_team=team,
            )
            self.finish(BotOutcome.TICKET_CREATED, ResolvedBy.TICKET, None)
            return
        self.say(self.render(step.message, team=team_name))
        self.result.handoff = Handoff(team_id=team, agent_id=agent)
        self.state.handoff_reason = HandoffReason.REQUESTED
        self.finish(BotOutcome.HANDED_OFF, ResolvedBy.AGENT, None)

    def hand_off(self, team: str, reason: HandoffReason) -> None:
        team_name = self.engine._team_names.get(team, team)
        self.say(self.render(HandoffStep.model_fields["message"].default, team=team_name))
        self.result.handoff = Handoff(team_id=team, agent_id=self.engine._someone_present(team))
        self.state.handoff_reason = reason
        self.finish(BotOutcome.HANDED_OFF, ResolvedBy.AGENT, None)

    def create_ticket(self, path: BotPath, step: CreateTicketStep) -> None:
        self.result.ticket = TicketRequest(
            ticket_type_id=step.create_ticket,
            attributes=self.ticket_values(step.attributes),
            title=self.render(step.title) if step.title else None,
            team_id=step.team,
            message=self.render(step.message, ticket={"number": "{ticket.number}"}, team="{team}"),
            fallback_team=path.team or self.engine._fallback_team,
        )
        self.finish(BotOutcome.TICKET_CREATED, ResolvedBy.TICKET, None)

    def ticket_values(self, mapping: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, template in mapping.items():
            value = self.value_of(template)
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, "", []):
                values[name] = value
        return values

    # --- plumbing --------------------------------------------------------------------------------

    def say(self, body: str, *, kind: MessageKind = MessageKind.TEXT, internal: bool = False) -> None:
        if body:
            self.result.replies.append(Reply(body=body, kind=kind, internal=internal))

    def say_and_wait(self, body: str, options: list[MessageOption]) -> None:
        self.result.replies.append(Reply(body=body, options=list(options)))

    def wait(self, awaiting: Any, body: str, options: list[MessageOption]) -> None:
        self.state.awaiting = awaiting
        self.state.offered = list(options)
        self.say_and_wait(body, options)

    def finish(self, outcome: BotOutcome, resolved_by: ResolvedBy, message: str | None) -> None:
        if message:
            self.say(message)
        self.state.outcome = outcome
        self.state.resolved_by = resolved_by
        self.state.awaiting = None
        self.state.offered = []

    def scope(self) -> dict[str, Any]:
        context = self.conversation.context
        return {
            **self.state.vars,
            # Who the request's token proved: a visitor who signed in mid-conversation is the customer now.
            "customer": {
                "name": self.customer.name or self.conversation.customer_name or "there",
                "id": self.customer.user_id,
            },
            "context": context.model_dump(mode="json") if context else {},
        }

    def value_of(self, template: Any) -> Any:
        """A lone ``{placeholder}`` keeps its value's type (a list of photos stays a list)."""
        if isinstance(template, str) and (whole := PLACEHOLDER.fullmatch(template.strip())):
            return answers.lookup(self.scope(), whole.group(1))
        return self.render(template) if isinstance(template, str) else template

    def render(self, template: str, **extra: Any) -> str:
        scope = {**self.scope(), **extra}

        def fill(match: re.Match[str]) -> str:
            value = answers.lookup(scope, match.group(1))
            return "" if value is None else str(value)

        return PLACEHOLDER.sub(fill, template)
