"""Agents: who they are (from the authorizer), which teams they're in, and whether they're present."""

from __future__ import annotations

import random

from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import Agent, Availability, utc_now
from helpdesk.domain.principals import AgentPrincipal
from helpdesk.domain.workspace import Workspace
from helpdesk.services.ports import AgentRecords


class AgentService:
    def __init__(self, agents: AgentRecords, workspace: Workspace) -> None:
        self._store = agents
        self._workspace = workspace

    def me(self, principal: AgentPrincipal) -> Agent:
        """The agent's profile, refreshed from their token's claims (teams may have changed)."""
        stored = self._store.get_agent(principal.id)
        teams = sorted(t for t in principal.teams if self._workspace.team(t) is not None)
        if stored is not None and stored.teams == teams and stored.name == principal.name:
            return stored
        agent = Agent(
            id=principal.id,
            name=principal.name,
            email=principal.email,
            teams=teams,
            availability=stored.availability if stored else Availability.AWAY,
            updated_at=utc_now(),
        )
        left = set(stored.teams) - set(teams) if stored else set()
        self._store.save_agent(agent, left_teams=sorted(left))
        return agent

    def set_availability(self, principal: AgentPrincipal, availability: Availability) -> Agent:
        current = self.me(principal)
        agent = current.model_copy(update={"availability": availability, "updated_at": utc_now()})
        self._store.save_agent(agent)
        return agent

    def roster(self, team_id: str) -> list[Agent]:
        if self._workspace.team(team_id) is None:
            raise InvalidInput(f"unknown team '{team_id}'", [("team_id", f"'{team_id}' is not a team")])
        return self._store.team_roster(team_id)

    def someone_present(self, team_id: str) -> str | None:
        """An online agent of the team for live routing, or None when nobody is there."""
        online = [a.id for a in self._store.team_roster(team_id) if a.availability is Availability.ONLINE]
        return random.choice(online) if online else None  # noqa: S311 - spreading work, not security
