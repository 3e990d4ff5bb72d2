"""The bot's custom-action steps: confirm, call on the caller's verified identity, sign in, not on account.

Every call carries the ``ActionCaller`` of the request being answered (the messenger authorizer's
verdict on its token), never an identity from the conversation's text or stored snapshot. So:

- an anonymous visitor who reaches an action on a customer's records is asked to sign in (or passed
  to a person, as ``bot.yaml``'s ``visitors`` says) and nothing is called; once they have signed in
  and their conversation became the customer's, their next message runs the step as that customer;
- a record the action finds is not the caller's is "not found on your account": the step's result
  holds only its outcome, and the agents' timeline only says so;
- results fetched for one identity are forgotten if a later turn comes from another one.
"""

from __future__ import annotations

from typing import Any, Protocol

from helpdesk.domain.action_ownership import ActionCaller
from helpdesk.domain.actions import ActionOutcome
from helpdesk.domain.bot import ActionStep, BotConfig, BotPath, StepBase
from helpdesk.domain.models import BotState, Conversation, HandoffReason, MessageKind, MessageOption
from helpdesk.services.bot_ports import ActionRunner

SIGNED_IN = "signed-in"
PERSON = "person"
_ACTING_FOR = "_acting_for"
"""The customer whose verified identity fetched the action results held in the bot's variables."""
ACTION_DONE = "_action_done"


class Turn(Protocol):
    """What the action steps use of the bot turn they are part of (``helpdesk.services.bot``'s)."""

    caller: ActionCaller
    config: BotConfig
    conversation: Conversation
    state: BotState
    action_runner: ActionRunner | None
    fallback_team: str

    def say(self, body: str, *, kind: MessageKind = ..., internal: bool = ...) -> None: ...
    def wait(self, awaiting: Any, body: str, options: list[MessageOption]) -> None: ...
    def render(self, template: str, **extra: Any) -> str: ...
    def hand_off(self, team: str, reason: HandoffReason) -> None: ...
    def continue_at(self, path: BotPath, step_id: str | None) -> None: ...
    def retry(self, path: BotPath, step: StepBase, problem: str, options: list[MessageOption]) -> None: ...
    def show_menu(self, text: str | None = None) -> None: ...
    def picked_option(self) -> MessageOption | None: ...
    def yes_or_no(self) -> bool | None: ...
    def step_waited_on[S: StepBase](self, kind: type[S]) -> tuple[BotPath, S] | None: ...


class ActionSteps:
    """The action-step part of one bot turn."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.caller = turn.caller

    # --- identity across turns -------------------------------------------------------------------

    def forget_results_of_another_caller(self) -> None:
        """Action results belong to the identity that fetched them: another caller starts without them."""
        variables = self.turn.state.vars
        fetched_for = variables.get(_ACTING_FOR)
        if fetched_for is None or fetched_for == self.caller.customer_id:
            return
        action_steps = {s.id for p in self.turn.config.paths for s in p.steps if isinstance(s, ActionStep)}
        for name in [*action_steps, ACTION_DONE, _ACTING_FOR]:
            variables.pop(name, None)

    # --- reaching an action step -----------------------------------------------------------------

    def start(self, path: BotPath, step: ActionStep) -> str | None:
        """Ask to sign in, ask to confirm, or call: returns the step to go on with when it doesn't wait."""
        if not self.caller.signed_in and self.needs_signed_in_customer(step):
            return self.sign_in_needed(path, step)
        if step.confirm:
            messages = self.turn.config.messages
            options = [MessageOption(id="yes", label=messages.yes), MessageOption(id="no", label=messages.no)]
            self.turn.wait("confirm", self.turn.render(step.confirm), options)
            return None
        return self.call(path, step)

    def needs_signed_in_customer(self, step: ActionStep) -> bool:
        runner = self.turn.action_runner
        try:
            return runner is not None and runner.requires_signed_in_customer(step.custom_action)
        except ValueError:  # not declared: the call itself reports it, and the path goes on as for a failure
            return False

    def sign_in_needed(self, path: BotPath, step: ActionStep) -> str | None:
        turn, messages = self.turn, self.turn.config.messages
        turn.say(
            f"Custom action {step.custom_action}: not called: the customer is not signed in",
            kind=MessageKind.ACTION,
            internal=True,
        )
        turn.state.vars[step.id] = {"ok": False, "outcome": ActionOutcome.SIGN_IN_REQUIRED.value, "http_status": None}
        if step.on_sign_in_required:
            return step.on_sign_in_required
        if turn.config.visitors == "handoff":
            turn.say(messages.sign_in_handoff)
            turn.hand_off(path.team or turn.fallback_team, HandoffReason.NOT_SIGNED_IN)
            return None
        turn.wait("sign_in", messages.sign_in_required, self.sign_in_options())
        return None

    def sign_in_options(self) -> list[MessageOption]:
        messages = self.turn.config.messages
        return [MessageOption(id=SIGNED_IN, label=messages.signed_in), MessageOption(id=PERSON, label=messages.person)]

    # --- the customer's answers ------------------------------------------------------------------

    def signed_in_answer(self) -> None:
        """The bot asked a visitor to sign in: go on if this request's token is a customer's, whatever was typed."""
        turn = self.turn
        waited = turn.step_waited_on(ActionStep)
        if waited is None:  # pragma: no cover - state written by us
            turn.hand_off(turn.fallback_team, HandoffReason.PATH_ENDED)
            return
        path, step = waited
        picked = turn.picked_option()
        if picked is not None and picked.id == PERSON:
            turn.hand_off(path.team or turn.fallback_team, HandoffReason.NOT_SIGNED_IN)
            return
        if not self.caller.signed_in:
            turn.retry(path, step, turn.config.messages.still_not_signed_in, self.sign_in_options())
            return
        turn.state.vars.pop(step.id, None)
        turn.continue_at(path, step.id)

    def confirmation(self) -> None:
        turn = self.turn
        waited = turn.step_waited_on(ActionStep)
        if waited is None:  # pragma: no cover
            turn.hand_off(turn.fallback_team, HandoffReason.PATH_ENDED)
            return
        path, step = waited
        answer = turn.yes_or_no()
        if answer is None:
            turn.retry(path, step, turn.config.messages.not_understood, turn.state.offered)
            return
        if not answer:
            turn.say(turn.config.messages.declined)
            if step.on_decline:
                turn.continue_at(path, step.on_decline)
            else:
                turn.state.path_id = None
                turn.state.step_id = None
                turn.show_menu("Is there anything else I can help with?")
            return
        turn.state.awaiting = None
        turn.continue_at(path, self.call(path, step))

    # --- the call --------------------------------------------------------------------------------

    def call(self, path: BotPath, step: ActionStep) -> str | None:
        turn = self.turn
        runner = turn.action_runner
        inputs = {name: turn.render(template) for name, template in step.inputs.items()}
        key = f"{turn.conversation.id}.{path.id}.{step.id}.{turn.state.turn}"
        outputs: dict[str, Any] = {}
        status_code: int | None = None
        outcome: str | None = None
        if runner is None:
            outcome_text, ok = "not configured", False
        else:
            try:
                result = runner.run(step.custom_action, inputs, caller=self.caller, idempotency_key=key)
            except ValueError as problem:  # inputs the action needs are missing, or the token lacks an identity
                outcome_text, ok = f"not called: {problem}", False
            else:
                if result.outcome == ActionOutcome.SIGN_IN_REQUIRED:
                    return self.sign_in_needed(path, step)
                outcome, ok = str(result.outcome), result.outcome == ActionOutcome.SUCCESS
                outputs = dict(result.outputs)
                status_code = result.status
                status = f"HTTP {result.status}, " if result.status else ""
                detail = f" ({result.error})" if result.error and not ok else ""
                outcome_text = (
                    f"{outcome}{detail} ({status}{result.attempts} attempt"
                    f"{'s' if result.attempts != 1 else ''}, {int(result.duration_ms)} ms)"
                )
        turn.say(f"Custom action {step.custom_action}: {outcome_text}", kind=MessageKind.ACTION, internal=True)
        # A failure keeps nothing of the answer: only whether, how and (for a refusal) with which status.
        kept = outputs if ok else {}
        turn.state.vars[step.id] = {**kept, "ok": ok, "outcome": outcome, "http_status": status_code}
        if ok:
            turn.state.vars[ACTION_DONE] = True
            turn.state.vars[_ACTING_FOR] = self.caller.customer_id
            if step.success_message:
                turn.say(turn.render(step.success_message))
            return step.goto or path.after(step)
        if step.on_failure:
            return step.on_failure
        not_yours = outcome == ActionOutcome.NOT_ON_ACCOUNT
        turn.say(turn.config.messages.not_on_account if not_yours else turn.config.messages.action_failed)
        turn.hand_off(path.team or turn.fallback_team, HandoffReason.ACTION_FAILED)
        return None
