"""The views of tickets for each audience: the customer's (customer-facing state labels, attributes
visible to customers, timeline parts meant for them, never internal notes) and the agents' (all)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from helpdesk.api.views import AgentAttachmentView, Links, agent_attachment_views
from helpdesk.domain.models import (
    ApprovalStatus,
    AttachmentRef,
    Author,
    Capsule,
    ContextPackage,
    PartType,
    Priority,
    Rating,
    Ticket,
    TicketCategory,
    TicketPage,
    TicketPart,
)
from helpdesk.domain.workspace import AttributeDefinition, StateCategory, Workspace


class StateView(BaseModel):
    id: str
    category: StateCategory
    label: str


class TicketView(BaseModel):
    id: str
    number: int
    ticket_type_id: str
    title: str
    state: StateView
    attributes: dict[str, Any]
    team_id: str
    assignee_id: str | None
    priority: Priority
    conversation_id: str | None
    rating: Rating | None
    created_at: datetime
    updated_at: datetime
    version: int


class AgentTicketView(TicketView):
    sla_due_at: datetime | None = Field(description="When the SLA says it must be resolved.")
    category: TicketCategory
    linked_ticket_id: str | None
    tracker_id: str | None
    customer_id: str | None
    context: ContextPackage | None
    verified_attributes: dict[str, str]
    capsule: Capsule | None = Field(description="The latest hand-off summary, for whoever received it.")
    created_by: Author
    sla: dict[str, Any] | None = Field(
        default=None, description="The SLA clocks: per clock its target, due time, and when met, warned or breached."
    )
    waiting_since: datetime | None = None
    approval: ApprovalView | None = Field(default=None, description="A decision the ticket's workflow waits for.")
    tags: list[str] = Field(default=[], description="Agents' tags (internal).")
    customer_name: str | None = Field(default=None, description="The customer's name, from their conversation.")


class ApprovalView(BaseModel):
    status: ApprovalStatus
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None


class PartView(BaseModel):
    id: str
    type: PartType
    author: Author
    body: str | None
    changes: dict[str, Any] | None
    attachments: list[AttachmentRef]
    created_at: datetime


class AgentPartView(PartView):
    attachments: list[AgentAttachmentView]  # type: ignore[assignment]
    visible_to_customer: bool


class TicketDetail(TicketView):
    timeline: list[PartView]
    next_cursor: str | None = Field(description="Pass as ?before= to fetch older timeline entries.")


class AgentTicketDetail(AgentTicketView):
    timeline: list[AgentPartView]
    next_cursor: str | None


class TicketList(BaseModel):
    items: list[TicketView]
    next_cursor: str | None


class AgentTicketList(BaseModel):
    items: list[AgentTicketView]
    next_cursor: str | None


class StateDefinitionView(BaseModel):
    id: str
    category: StateCategory
    label: str
    customer_label: str


class TicketTypeView(BaseModel):
    id: str
    name: str
    description: str
    default_team: str
    attributes: list[AttributeDefinition]
    states: list[StateDefinitionView]


class TicketTypeList(BaseModel):
    items: list[TicketTypeView]
    next_cursor: str | None = None


class ReplyView(BaseModel):
    id: str
    type: PartType
    author: Author
    body: str | None
    attachments: list[AttachmentRef]
    visible_to_customer: bool
    created_at: datetime


def _state(ticket: Ticket, workspace: Workspace, *, for_customer: bool) -> StateView:
    ticket_type = workspace.ticket_type(ticket.ticket_type_id)
    state = ticket_type.state(ticket.state_id) if ticket_type else None
    if state is None:  # the configuration dropped the state: show the category, never crash
        return StateView(id=ticket.state_id, category=ticket.state_category, label=ticket.state_category.value)
    return StateView(id=state.id, category=state.category, label=state.customer_label if for_customer else state.label)


def _copy_fields[V: BaseModel](source: BaseModel, view: type[V], **overrides: Any) -> V:
    """Build ``view`` from the same-named fields of ``source``, with ``overrides`` for the rest."""
    shared = {name: getattr(source, name) for name in view.model_fields if name not in overrides}
    return view(**shared, **overrides)


def customer_ticket_view(ticket: Ticket, workspace: Workspace) -> TicketView:
    ticket_type = workspace.ticket_type(ticket.ticket_type_id)
    return _copy_fields(
        ticket,
        TicketView,
        state=_state(ticket, workspace, for_customer=True),
        attributes=ticket_type.customer_visible(ticket.attributes) if ticket_type else {},
    )


def agent_ticket_view(ticket: Ticket, workspace: Workspace) -> AgentTicketView:
    approval = ticket.approval
    return _copy_fields(
        ticket,
        AgentTicketView,
        state=_state(ticket, workspace, for_customer=False),
        approval=_copy_fields(approval, ApprovalView) if approval else None,
    )


def _part_view(part: TicketPart) -> PartView:
    return _copy_fields(part, PartView)


def customer_ticket_detail(page: TicketPage, workspace: Workspace) -> TicketDetail:
    return TicketDetail(
        **customer_ticket_view(page.ticket, workspace).model_dump(),
        timeline=[_part_view(p) for p in page.timeline if p.visible_to_customer],
        next_cursor=page.next_cursor,
    )


def agent_ticket_detail(page: TicketPage, workspace: Workspace, links: Links | None = None) -> AgentTicketDetail:
    return AgentTicketDetail(
        **agent_ticket_view(page.ticket, workspace).model_dump(),
        timeline=[
            AgentPartView(
                **_part_view(p).model_dump(exclude={"attachments"}),
                attachments=agent_attachment_views(p.attachments, links),
                visible_to_customer=p.visible_to_customer,
            )
            for p in page.timeline
        ],
        next_cursor=page.next_cursor,
    )


def reply_view(part: TicketPart) -> ReplyView:
    return _copy_fields(part, ReplyView)


def ticket_type_list(workspace: Workspace) -> TicketTypeList:
    return TicketTypeList(
        items=[
            TicketTypeView(
                id=t.id,
                name=t.name,
                description=t.description,
                default_team=t.default_team,
                attributes=list(t.attributes),
                states=[
                    StateDefinitionView(id=s.id, category=s.category, label=s.label, customer_label=s.customer_label)
                    for s in t.states
                ],
            )
            for t in workspace.ticket_types
        ]
    )
