"""The customer profile as the inbox API answers it, the body of a profile action's run, and a ticket draft."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from helpdesk.domain.actions import ActionOutcome, ActionResult
from helpdesk.domain.customer_profiles import CustomerProfile, IdentityStatus
from helpdesk.domain.models import Channel, ConversationStatus, Priority, TicketCategory
from helpdesk.domain.ticket_drafts import Source, TicketDraft
from helpdesk.domain.workspace import StateCategory

InputName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]


class IdentityView(BaseModel):
    status: IdentityStatus = Field(
        description="visitor (anonymous), email_only (known by the address they wrote from), signed_in (by the "
        "business's app), verified (signed in and confirmed again on an agent's request)."
    )
    verified_at: datetime | None
    verified_attributes: dict[str, str] = Field(description="Facts the business signed into the customer's token.")


class ProfileConversationView(BaseModel):
    id: str
    status: ConversationStatus
    team_id: str
    channel: Channel
    preview: str | None
    ticket_id: str | None
    created_at: datetime
    updated_at: datetime


class ProfileTicketView(BaseModel):
    id: str
    number: int
    title: str
    category: TicketCategory
    ticket_type_id: str
    state_id: str
    state_category: StateCategory
    priority: Priority
    team_id: str
    created_at: datetime
    updated_at: datetime


class RatingView(BaseModel):
    ticket_id: str
    ticket_number: int
    score: int = Field(ge=1, le=5)
    comment: str | None
    rated_at: datetime


class ProfileActionView(BaseModel):
    id: str
    description: str
    inputs: list[str] = Field(description="What the agent gives (e.g. an order id); never who the customer is.")


class CustomerProfileView(BaseModel):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    identity: IdentityView
    conversations: list[ProfileConversationView] = Field(description="Newest first; only those you may read.")
    tickets: list[ProfileTicketView] = Field(description="Newest first; only those you may read.")
    ratings: list[RatingView] = Field(description="The satisfaction ratings (CSAT) given on those tickets.")
    average_rating: float | None
    actions: list[ProfileActionView] = Field(description="Profile actions you may run (agents of their teams).")


class ProfileActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[InputName, Any] = Field(default_factory=dict, max_length=20)


class ProfileActionResultView(BaseModel):
    action_id: str
    outcome: ActionOutcome = Field(
        description="success; not_on_account (the record isn't this customer's: nothing of it is kept); failed, "
        "timeout, unreachable or invalid_response (the business's system)."
    )
    ok: bool
    http_status: int | None
    outputs: dict[str, Any] = Field(description="The action's mapped answer, on success only.")
    error: str | None


def customer_profile_view(profile: CustomerProfile) -> CustomerProfileView:
    """The conversations, tickets and identity are read by field name from the profile's own objects."""
    return CustomerProfileView(
        id=profile.customer_id,
        name=profile.name,
        email=profile.email,
        phone=profile.phone,
        identity=IdentityView.model_validate(profile.identity, from_attributes=True),
        conversations=[ProfileConversationView.model_validate(c, from_attributes=True) for c in profile.conversations],
        tickets=[ProfileTicketView.model_validate(t, from_attributes=True) for t in profile.tickets],
        ratings=[
            RatingView(
                ticket_id=r.ticket_id,
                ticket_number=r.ticket_number,
                score=r.rating.score,
                comment=r.rating.comment,
                rated_at=r.rating.rated_at,
            )
            for r in profile.ratings
        ],
        average_rating=profile.average_rating,
        actions=[ProfileActionView(id=a.id, description=a.description, inputs=list(a.inputs)) for a in profile.actions],
    )


def profile_action_result_view(result: ActionResult) -> ProfileActionResultView:
    ok = result.outcome is ActionOutcome.SUCCESS
    return ProfileActionResultView(
        action_id=result.action_id,
        outcome=result.outcome,
        ok=ok,
        http_status=result.status,
        outputs=dict(result.outputs) if ok else {},
        error=None if ok else result.error,
    )


class PrefilledView(BaseModel):
    value: Any
    source: Source = Field(description="bot (collected by the bot), context (what they were looking at), conversation.")
    quote: str | None = Field(description="The customer's words it was found in (source conversation).")


class TicketDraftView(BaseModel):
    ticket_type_id: str
    title: str
    title_source: Source = Field(
        description="email_subject, bot (the bot path's ticket title), conversation (the first message), ticket_type."
    )
    attributes: dict[str, PrefilledView] = Field(description="Suggested values, for the agent to confirm.")


def ticket_draft_view(draft: TicketDraft) -> TicketDraftView:
    return TicketDraftView(
        ticket_type_id=draft.ticket_type_id,
        title=draft.title,
        title_source=draft.title_source,
        attributes={
            name: PrefilledView(value=p.value, source=p.source, quote=p.quote) for name, p in draft.attributes.items()
        },
    )
