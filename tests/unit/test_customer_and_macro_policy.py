"""Who may read a customer, run their profile actions, export or erase them, and keep macros."""

from __future__ import annotations

import pytest
from helpdesk.domain.policy import Action, Resource, Role, Visibility, allowed, decide
from helpdesk.domain.principals import AgentPrincipal

FRONTLINE = AgentPrincipal(id="agent-fiona", teams=frozenset({"frontline"}))
BILLING = AgentPrincipal(id="agent-bill", teams=frozenset({"billing"}))
LEAD = AgentPrincipal(id="agent-lee", teams=frozenset({"billing"}), role=Role.LEAD)
ADMIN = AgentPrincipal(id="agent-ada", role=Role.ADMIN)

ANNA = Resource.customer("cust-anna", {"frontline"})


def test_a_customer_is_read_by_the_agents_of_a_team_they_have_work_in() -> None:
    assert allowed(FRONTLINE, Action.READ, ANNA)
    assert allowed(FRONTLINE, Action.WORK, ANNA)
    refusal = decide(BILLING, Action.READ, ANNA)
    assert not refusal.allowed
    assert "cust-anna" in refusal.reason


def test_reading_every_customer_opens_no_profile_action_to_other_teams() -> None:
    assert allowed(BILLING, Action.READ, ANNA, Visibility.ALL)
    assert not allowed(BILLING, Action.WORK, ANNA, Visibility.ALL)


@pytest.mark.parametrize("action", [Action.EXPORT, Action.ERASE])
def test_only_admins_export_or_erase_a_customer(action: Action) -> None:
    assert allowed(ADMIN, action, ANNA)
    for agent in (FRONTLINE, LEAD):
        decision = decide(agent, action, ANNA, Visibility.ALL)
        assert not decision.allowed
        assert "admins" in decision.reason


def test_a_personal_macro_is_its_owner_s_alone() -> None:
    mine = Resource.macro("macro-1", FRONTLINE.id)
    assert allowed(FRONTLINE, Action.CREATE, mine)
    assert allowed(FRONTLINE, Action.WORK, mine)
    assert allowed(FRONTLINE, Action.READ, mine)
    for action in (Action.READ, Action.WORK, Action.CREATE):
        assert not allowed(BILLING, action, mine, Visibility.ALL)


def test_workspace_macros_are_applied_by_everyone_and_changed_only_in_configuration() -> None:
    shared = Resource.macro("refund-approved", None)
    assert allowed(BILLING, Action.READ, shared)
    decision = decide(LEAD, Action.WORK, shared)
    assert not decision.allowed
    assert "macros/*.yaml" in decision.reason
