"""Agent and customer identity as API Gateway's authorizers pass it."""

from __future__ import annotations

import pytest
from helpdesk.api.identity import agent_from_event, customer_from_event
from helpdesk.domain.errors import Unauthenticated
from helpdesk.domain.policy import Action, Resource, allowed
from helpdesk.domain.roles import Role


@pytest.mark.parametrize(
    "groups",
    ["returns,admins", "[returns admins]", '["returns", "admins"]', ["returns", "admins"]],
)
def test_cognito_groups_in_any_shape_become_teams_and_admin(groups: object) -> None:
    event = {"requestContext": {"authorizer": {"claims": {"sub": "a-1", "cognito:groups": groups}}}}

    agent = agent_from_event(event)

    assert agent.teams == frozenset({"returns"})
    assert agent.role is Role.ADMIN
    assert allowed(agent, Action.WORK, Resource.team("billing"))


def test_an_agent_without_groups_works_on_no_team() -> None:
    agent = agent_from_event({"requestContext": {"authorizer": {"claims": {"sub": "a-2"}}}})
    assert agent.teams == frozenset()
    assert agent.role is Role.AGENT
    assert not allowed(agent, Action.WORK, Resource.team("returns"))


def test_the_leads_group_makes_a_lead_of_the_agent_s_teams() -> None:
    event = {"requestContext": {"authorizer": {"claims": {"sub": "a-3", "cognito:groups": "leads,billing"}}}}

    agent = agent_from_event(event)

    assert agent.role is Role.LEAD
    assert agent.teams == frozenset({"billing"})


@pytest.mark.parametrize("event", [{}, {"requestContext": {}}, {"requestContext": {"authorizer": {"user_id": ""}}}])
def test_no_identity_is_unauthenticated(event: dict) -> None:
    with pytest.raises(Unauthenticated):
        customer_from_event(event)
    with pytest.raises(Unauthenticated):
        agent_from_event(event)
