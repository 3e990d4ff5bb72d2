"""The one authorization policy for agents: who may do what to which conversation, ticket or file.

Every inbox action on every resource, and every live subscription (which team views, conversations
and tickets an agent's connection receives changes of, checked again on every change pushed), asks
``authorize(agent, action, resource, visibility)`` (or ``allowed``) here, from the agent's role and
teams and the workspace's ``agent_visibility``; no
service or route decides on its own. Customers are not agents: what a customer may touch is
decided by ownership (their own conversations and tickets, 404 otherwise), in the services.

Roles (from the agent's Cognito groups: ``admins`` -> admin, ``leads`` -> lead, the other groups are
team ids):

- ``agent``: reads and works what belongs to their teams (or is assigned to them); hands their
  team's work to another team (the hand-off); assigns within their teams.
- ``lead``: as an agent, plus reassigning their teams' work to any agent of any team, deciding
  approvals the workflows wait for (e.g. a refund above the limit), and reading the reports.
- ``admin``: everything, in every team.

The reports (figures over every team, from the event lake) are for leads and admins: a lead compares
their teams with the others, so a lead sees every team's figures; an agent sees none, whatever
``agent_visibility`` says (it opens conversations and tickets, not the reports).

Reads follow ``agent_visibility``: ``team`` (the default) shows an agent only their teams' work (and
what is assigned to them); ``all`` lets every agent read everything, while writes stay team-scoped.
A refusal is ``Forbidden`` (403): agents are the business's own people, so telling them something
belongs to another team leaks nothing; customers never reach this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from helpdesk.domain.errors import Forbidden
from helpdesk.domain.models import Conversation, Ticket, TicketCategory
from helpdesk.domain.principals import AgentPrincipal as Actor
from helpdesk.domain.roles import Role, Visibility

__all__ = [
    "Action",
    "Actor",
    "Decision",
    "Resource",
    "ResourceKind",
    "Role",
    "Scope",
    "Visibility",
    "authorize",
    "decide",
    "scope",
]


class Action(StrEnum):
    READ = "read"
    """See it: the conversation or ticket with its timeline, internal notes and files."""
    SUBSCRIBE = "subscribe"
    """Receive its changes live (the live channel): a team's views, or one conversation or ticket.
    The same rule as ``READ``: what is pushed is what could be read."""
    WORK = "work"
    """Reply, write a note, attach a file, close/snooze/reopen, ask for verification, change fields."""
    CONVERT = "convert"
    """Open a ticket from a conversation (for any team: that is a hand-off)."""
    HAND_OFF = "hand_off"
    """Move it to another team (unassigned, or to whoever that team's routing picks)."""
    ASSIGN = "assign"
    """Give it to one agent (see ``assignee_teams``)."""
    LINK = "link"
    """Link a customer ticket to a tracker: needed on the tracker and on every ticket linked."""
    DECIDE = "decide"
    """Approve or reject what a ticket's workflow waits for."""
    CREATE = "create"
    """Open a ticket in a team."""
    VIEW_REPORTS = "view_reports"
    """Read the reports: figures, charts, the conversations and tickets behind a chart, CSV exports."""
    EXPORT = "export"
    """Download everything the system holds about one customer (the data-protection export)."""
    ERASE = "erase"
    """Erase one customer everywhere their data lives (the data-protection erasure)."""


class ResourceKind(StrEnum):
    CONVERSATION = "conversation"
    TICKET = "ticket"
    TRACKER = "tracker"
    BACK_OFFICE_TICKET = "back_office_ticket"
    ATTACHMENT = "attachment"
    TEAM = "team"
    """A team's views and queues (lists of its conversations and tickets)."""
    REPORTS = "reports"
    """The workspace's reports, for every team or filtered to one (``team_id``; empty: every team)."""
    CUSTOMER = "customer"
    """A customer's profile (found by search, shown beside a conversation): ``teams`` are the teams
    their conversations and tickets belong to. Their conversations and tickets listed with it are
    each decided on their own."""
    MACRO = "macro"
    """A saved reply: the workspace's (no ``assignee_id``; configuration changes it) or one agent's own
    (``assignee_id`` is its owner)."""


@dataclass(frozen=True)
class Resource:
    """What is acted on: its kind, the team it belongs to, and who it is assigned to (if anyone)."""

    kind: ResourceKind
    team_id: str
    assignee_id: str | None = None
    id: str | None = None
    teams: frozenset[str] = frozenset()
    """For a customer: the teams their conversations and tickets belong to."""

    @classmethod
    def conversation(cls, conversation: Conversation) -> Resource:
        return cls(ResourceKind.CONVERSATION, conversation.team_id, conversation.assignee_id, conversation.id)

    @classmethod
    def ticket(cls, ticket: Ticket) -> Resource:
        kind = {
            TicketCategory.TRACKER: ResourceKind.TRACKER,
            TicketCategory.BACK_OFFICE: ResourceKind.BACK_OFFICE_TICKET,
        }.get(ticket.category, ResourceKind.TICKET)
        return cls(kind, ticket.team_id, ticket.assignee_id, ticket.id)

    @classmethod
    def team(cls, team_id: str) -> Resource:
        return cls(ResourceKind.TEAM, team_id)

    @classmethod
    def reports(cls, team_id: str | None = None) -> Resource:
        return cls(ResourceKind.REPORTS, team_id or "")

    @classmethod
    def customer(cls, customer_id: str, teams: frozenset[str] | set[str]) -> Resource:
        return cls(ResourceKind.CUSTOMER, "", id=customer_id, teams=frozenset(teams))

    @classmethod
    def macro(cls, macro_id: str, owner_id: str | None) -> Resource:
        return cls(ResourceKind.MACRO, "", owner_id, macro_id)

    def describe(self) -> str:
        if self.kind is ResourceKind.REPORTS:
            return "the reports"
        if self.kind in (ResourceKind.CUSTOMER, ResourceKind.MACRO):
            return f"{self.kind.value} {self.id}"
        name = self.kind.value.replace("_", " ")
        return f"{name} {self.id}" if self.id else f"team {self.team_id}'s {name}s"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def _member(actor: Actor, resource: Resource) -> bool:
    return resource.team_id in actor.teams


def _assigned(actor: Actor, resource: Resource) -> bool:
    return resource.assignee_id is not None and resource.assignee_id == actor.id


def decide(
    actor: Actor,
    action: Action,
    resource: Resource,
    visibility: Visibility = Visibility.TEAM,
    *,
    assignee_teams: frozenset[str] | None = None,
) -> Decision:
    """Whether ``actor`` may do ``action`` to ``resource``, and why (the reason is shown on refusal).

    ``assignee_teams`` (with ``ASSIGN``): the teams of the agent it is given to. An agent may assign
    their team's work to themselves or to someone of one of their teams; a lead to anyone.
    """
    if actor.role is Role.ADMIN:
        return Decision(True, "admins may do everything")
    if action is Action.VIEW_REPORTS or resource.kind is ResourceKind.REPORTS:
        return _reports(actor, action)
    if action in (Action.EXPORT, Action.ERASE):
        return Decision(False, "only admins export or erase a customer's data")
    if resource.kind is ResourceKind.CUSTOMER:
        return _customer(actor, action, resource, visibility)
    if resource.kind is ResourceKind.MACRO:
        return _macro(actor, action, resource)
    member, assigned = _member(actor, resource), _assigned(actor, resource)
    where = resource.describe()
    match action:
        case Action.READ | Action.SUBSCRIBE:
            if member or assigned:
                return Decision(True, "their team's, or assigned to them")
            if visibility is Visibility.ALL:
                return Decision(True, "this workspace lets every agent read everything")
            return Decision(False, f"{where} belongs to team '{resource.team_id}', which isn't one of your teams")
        case Action.WORK | Action.CONVERT | Action.LINK:
            if member or assigned:
                return Decision(True, "their team's, or assigned to them")
            return Decision(False, f"only agents of team '{resource.team_id}' (or admins) can do this to {where}")
        case Action.CREATE:
            # Opening a ticket for another team hands work to it, which every agent may do; what the
            # ticket is linked to (a conversation, a ticket) is checked with WORK by the caller.
            return Decision(True, "any agent may open a ticket for a team")
        case Action.HAND_OFF:
            if member or assigned:
                return Decision(True, "an agent hands their team's work to another team")
            return Decision(False, f"only agents of team '{resource.team_id}' (or admins) can hand off {where}")
        case Action.ASSIGN:
            if actor.role is Role.LEAD and member:
                return Decision(True, "leads assign their teams' work to anyone")
            if not (member or assigned):
                return Decision(False, f"only agents of team '{resource.team_id}' (or admins) can assign {where}")
            if assignee_teams is None or actor.teams & assignee_teams:
                return Decision(True, "assigned within the agent's own teams")
            return Decision(False, "only a lead or an admin assigns work to an agent of another team")
        case Action.DECIDE:
            if actor.role is Role.LEAD and member:
                return Decision(True, "leads decide their teams' approvals")
            return Decision(False, f"only a lead of team '{resource.team_id}' (or an admin) can decide on {where}")
        case Action.VIEW_REPORTS | Action.EXPORT | Action.ERASE:  # pragma: no cover - decided above
            pass
    raise AssertionError(f"no rule for {action}")  # pragma: no cover - every Action has a case


def _reports(actor: Actor, action: Action) -> Decision:
    """The reports are read by leads (every team's figures) and admins; nothing else is done to them."""
    if action is not Action.VIEW_REPORTS:
        return Decision(False, "the reports can only be read")
    if actor.role is Role.LEAD:
        return Decision(True, "leads read the reports of every team")
    return Decision(False, "only leads and admins may see the reports")


def _customer(actor: Actor, action: Action, resource: Resource, visibility: Visibility) -> Decision:
    """A customer is read by the agents of a team they have work in (or by every agent under
    ``agent_visibility: all``); the same agents run the customer's profile actions (``WORK``)."""
    ours = bool(actor.teams & resource.teams)
    match action:
        case Action.READ | Action.SUBSCRIBE:
            if ours:
                return Decision(True, "the customer has a conversation or ticket in one of their teams")
            if visibility is Visibility.ALL:
                return Decision(True, "this workspace lets every agent read everything")
        case Action.WORK:
            if ours:
                return Decision(True, "the customer has a conversation or ticket in one of their teams")
        case _:
            return Decision(False, f"{action.value} isn't done to a customer")
    return Decision(False, f"customer {resource.id} has no conversation or ticket in your teams")


def _macro(actor: Actor, action: Action, resource: Resource) -> Decision:
    """Workspace macros are read and applied by every agent; a personal macro only by its owner, who
    alone creates, changes and deletes it (``CREATE``, ``WORK``)."""
    workspace_macro = resource.assignee_id is None
    match action:
        case Action.READ:
            if workspace_macro or _assigned(actor, resource):
                return Decision(True, "the workspace's macros, and one's own")
        case Action.CREATE:
            if _assigned(actor, resource):
                return Decision(True, "an agent keeps their own macros")
        case Action.WORK:
            if workspace_macro:
                return Decision(False, "the workspace's macros are changed in its configuration (macros/*.yaml)")
            if _assigned(actor, resource):
                return Decision(True, "an agent keeps their own macros")
        case _:
            return Decision(False, f"{action.value} isn't done to a macro")
    return Decision(False, f"macro {resource.id} is another agent's")


@dataclass(frozen=True)
class Scope:
    """Where an action is allowed, for checks a store makes inside its write: items of ``teams``, or
    assigned to ``assignee_id``. ``None`` from ``scope`` means everywhere."""

    teams: frozenset[str]
    assignee_id: str


def scope(actor: Actor, action: Action) -> Scope | None:
    """The items ``actor`` may ``action`` (``WORK``, ``LINK``), as a condition a store can put on a write."""
    if action not in (Action.WORK, Action.LINK, Action.CONVERT):
        raise ValueError(f"{action} isn't decided by team alone")
    if actor.role is Role.ADMIN:
        return None
    return Scope(teams=frozenset(actor.teams), assignee_id=actor.id)


def allowed(actor: Actor, action: Action, resource: Resource, visibility: Visibility = Visibility.TEAM) -> bool:
    return decide(actor, action, resource, visibility).allowed


def authorize(
    actor: Actor,
    action: Action,
    resource: Resource,
    visibility: Visibility = Visibility.TEAM,
    *,
    assignee_teams: frozenset[str] | None = None,
) -> None:
    """Raise ``Forbidden`` (with the reason) unless ``actor`` may do ``action`` to ``resource``."""
    decision = decide(actor, action, resource, visibility, assignee_teams=assignee_teams)
    if not decision.allowed:
        raise Forbidden(decision.reason)
