"""The customer profile in the inbox: who the customer is, their history, and their profile actions.

``profile`` reads the customer's partition once (two Queries: the profile with their tickets, and
their conversations); the agent must be allowed to read the customer (``Resource.customer`` with the
teams of that history), and then sees each conversation and ticket only if the policy lets them read
it, and the satisfaction ratings of those tickets only.

``run_action`` runs a custom action marked ``profile: true`` for an agent who may work on the customer
(``WORK``), *as the customer*: with the identity the business signed (their id, the email of their
token, the attributes signed into their newest conversation), never with anything an agent or the
conversation typed. A visitor or a customer known only by an email address has no such identity, so
nothing is called for them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from helpdesk.auth.customer_tokens import EMAIL_CUSTOMER_PREFIX
from helpdesk.domain.action_ownership import ActionCaller
from helpdesk.domain.actions import ERROR_TEXT_LIMIT, ActionOutcome, ActionResult, CustomAction
from helpdesk.domain.customer_profiles import (
    MAX_HISTORY,
    CustomerHistory,
    CustomerProfile,
    GivenRating,
    Identity,
    ProfileAction,
    identity_of,
)
from helpdesk.domain.errors import Conflict, InvalidInput, NotFound
from helpdesk.domain.policy import Action, Resource, allowed, authorize
from helpdesk.domain.principals import VISITOR_PREFIX, AgentPrincipal
from helpdesk.domain.workspace import Workspace

logger = logging.getLogger(__name__)

MAX_INPUT_LENGTH = 200


class CustomerHistoryRecords(Protocol):
    def customer_history(self, customer_id: str, *, limit: int) -> CustomerHistory:
        """The profile with the newest ``limit`` tickets and conversations: two requests."""
        ...


class ProfileActionRunner(Protocol):
    """Calls the workspace's custom actions (``adapters.custom_actions.CustomActionRunner``)."""

    def run(
        self, action_id: str, inputs: dict[str, Any], *, caller: ActionCaller, idempotency_key: str | None
    ) -> ActionResult: ...


class CustomerProfiles:
    def __init__(
        self, records: CustomerHistoryRecords, workspace: Workspace, actions: ProfileActionRunner | None = None
    ) -> None:
        self._records = records
        self._workspace = workspace
        self._runner = actions

    @property
    def _profile_actions(self) -> Sequence[CustomAction]:
        return [a for a in self._workspace.actions if a.profile]

    def _history(self, agent: AgentPrincipal, customer_id: str, action: Action) -> CustomerHistory:
        history = self._records.customer_history(customer_id, limit=MAX_HISTORY)
        if not history.exists:
            raise NotFound(f"customer {customer_id} not found")
        authorize(agent, action, Resource.customer(customer_id, history.teams), self._workspace.agent_visibility)
        return history

    def profile(self, agent: AgentPrincipal, customer_id: str) -> CustomerProfile:
        history = self._history(agent, customer_id, Action.READ)
        visibility = self._workspace.agent_visibility
        conversations = [
            c for c in history.conversations if allowed(agent, Action.READ, Resource.conversation(c), visibility)
        ]
        tickets = [t for t in history.tickets if allowed(agent, Action.READ, Resource.ticket(t), visibility)]
        newest = history.conversations[0] if history.conversations else None
        customer = history.customer
        may_work = allowed(agent, Action.WORK, Resource.customer(customer_id, history.teams), visibility)
        return CustomerProfile(
            customer_id=customer_id,
            name=(customer.name if customer else None) or (newest.customer_name if newest else None),
            email=(customer.email if customer else None) or (newest.customer_email if newest else None),
            phone=customer.phone if customer else None,
            identity=self._identity(customer_id, history),
            conversations=conversations,
            tickets=tickets,
            ratings=[GivenRating(t.id, t.number, t.rating) for t in tickets if t.rating is not None],
            actions=[ProfileAction(a.id, a.description, a.inputs) for a in self._profile_actions] if may_work else [],
        )

    def run_action(
        self, agent: AgentPrincipal, customer_id: str, action_id: str, inputs: Mapping[str, Any]
    ) -> ActionResult:
        """Runs the profile action ``action_id`` as the customer; ``inputs`` are the action's own (never who)."""
        history = self._history(agent, customer_id, Action.WORK)
        action = next((a for a in self._profile_actions if a.id == action_id), None)
        if action is None or self._runner is None:
            raise NotFound(f"profile action {action_id} not found: only actions marked 'profile: true' run here")
        identity = self._identity(customer_id, history)
        if not identity.signed_in:
            raise Conflict(
                f"customer {customer_id} has no verified identity ({identity.status.value}): a profile action runs "
                "only as a customer the business signed in"
            )
        problems = [(f"inputs.{n}", "is required by this action") for n in action.inputs if not inputs.get(n)]
        problems += [(f"inputs.{n}", "is not an input of this action") for n in inputs if n not in action.inputs]
        problems += [
            (f"inputs.{n}", f"must be text of at most {MAX_INPUT_LENGTH} characters")
            for n, v in inputs.items()
            if n in action.inputs and not (isinstance(v, str) and len(v) <= MAX_INPUT_LENGTH)
        ]
        if problems:
            raise InvalidInput(f"action {action_id} can't run with these inputs", problems)
        caller = ActionCaller(
            customer_id=customer_id,
            signed_in=True,
            email=history.customer.email if history.customer else None,
            attributes=identity.verified_attributes,
        )
        try:
            result = self._runner.run(action_id, dict(inputs), caller=caller, idempotency_key=None)
        except ValueError as problem:  # deployed without its ${VARIABLE} or secret, or the token lacks a claim
            logger.warning("profile action not called", extra={"action_id": action_id, "problem": str(problem)})
            return ActionResult(
                action_id=action_id,
                outcome=ActionOutcome.FAILED,
                attempts=0,
                duration_ms=0,
                error=f"not called: {problem}"[:ERROR_TEXT_LIMIT],
            )
        logger.info(
            "profile action run",
            extra={"action_id": action_id, "agent_id": agent.id, "outcome": str(result.outcome)},
        )
        return result

    @staticmethod
    def _identity(customer_id: str, history: CustomerHistory) -> Identity:
        return identity_of(
            customer_id, history.conversations, email_prefix=EMAIL_CUSTOMER_PREFIX, visitor_prefix=VISITOR_PREFIX
        )
