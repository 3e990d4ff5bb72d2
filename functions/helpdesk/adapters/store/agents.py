"""Agents' profiles and team rosters (who is on a team, and whether they are online)."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from helpdesk.adapters import mapping
from helpdesk.adapters.store.base import TableStore
from helpdesk.adapters.table import AgentItem, RosterItem, TableItem
from helpdesk.domain.models import Agent, Availability


class AgentTable(TableStore):
    def get_agent(self, agent_id: str) -> Agent | None:
        try:
            item = AgentItem.get(mapping.agent_pk(agent_id), "PROFILE")
        except DoesNotExist:
            return None
        return mapping.agent_from_item(item)

    def save_agent(self, agent: Agent, *, left_teams: Iterable[str] = ()) -> None:
        """The agent's profile and their entry in each of their teams' rosters, atomically."""

        def build(transaction: TransactWrite) -> None:
            transaction.save(
                AgentItem(
                    pk=mapping.agent_pk(agent.id),
                    sk="PROFILE",
                    id=agent.id,
                    name=agent.name,
                    email=agent.email,
                    teams=agent.teams,
                    availability=agent.availability.value,
                    updated_at=agent.updated_at,
                )
            )
            for team_id in agent.teams:
                transaction.save(
                    RosterItem(
                        pk=mapping.roster_pk(team_id),
                        sk=f"AGENT#{agent.id}",
                        agent_id=agent.id,
                        team_id=team_id,
                        name=agent.name,
                        availability=agent.availability.value,
                        updated_at=agent.updated_at,
                    )
                )
            for team_id in left_teams:
                transaction.delete(RosterItem(pk=mapping.roster_pk(team_id), sk=f"AGENT#{agent.id}"))

        self._write(build)

    def team_roster(self, team_id: str) -> list[Agent]:
        entries = RosterItem.query(mapping.roster_pk(team_id), TableItem.sk.startswith("AGENT#"), limit=200)
        return [
            Agent(
                id=e.agent_id,
                name=e.name,
                teams=[team_id],
                availability=Availability(e.availability),
                updated_at=e.updated_at,
            )
            for e in entries
            if isinstance(e, RosterItem)
        ]
