"""Request and response models of the email channel's routes: links from emails (messenger) and an
email conversation's address and suppression (inbox)."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk.domain.email_threads import Suppression
from helpdesk.domain.errors import InvalidInput
from helpdesk.domain.models import Conversation, Rating
from helpdesk.services.email_links import LinkSession

ID_PATTERN = r"^[A-Za-z0-9_.-]+$"


class _LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID_PATTERN)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID_PATTERN)
    link: str = Field(min_length=10, max_length=2048, description="The `link` parameter of the email's URL.")

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        if (self.ticket_id is None) == (self.conversation_id is None):
            raise InvalidInput(
                "say what the link is for",
                [("ticket_id", "give the link's ticket_id or its conversation_id, not both and not neither")],
            )
        return self


class LinkExchangeRequest(_LinkRequest):
    """The ``ticket`` (or ``conversation``) and ``link`` parameters of a link from an email."""


class LinkRenewalRequest(_LinkRequest):
    locale: str | None = Field(default=None, max_length=35, description="The language to write the email in.")


class RatingView(BaseModel):
    score: int
    comment: str | None = None
    rated_at: datetime

    @classmethod
    def of(cls, rating: Rating) -> RatingView:
        return cls(score=rating.score, comment=rating.comment, rated_at=rating.rated_at)


class LinkSessionView(BaseModel):
    session_token: str = Field(description="Send as 'Authorization: Bearer': this customer, email-verified only.")
    expires_in: int
    customer_id: str
    purpose: str = Field(
        description="ticket, conversation, csat, or unsubscribe (the messenger then turns status emails off)"
    )
    ticket_id: str | None = None
    conversation_id: str | None = None
    rating: RatingView | None = Field(default=None, description="A rating link: the ticket's rating.")
    rated_now: bool = Field(default=False, description="This link recorded the rating (else it was rated before).")

    @classmethod
    def of(cls, session: LinkSession) -> LinkSessionView:
        return cls(
            session_token=session.session_token,
            expires_in=session.expires_in,
            customer_id=session.customer_id,
            purpose=session.purpose.value,
            ticket_id=session.ticket_id,
            conversation_id=session.conversation_id,
            rating=RatingView.of(session.rating) if session.rating else None,
            rated_now=session.rated_now,
        )


class LinkRenewalView(BaseModel):
    message: str


class SuppressionView(BaseModel):
    reason: str = Field(description="bounce (the mailbox doesn't exist) or complaint (marked as spam)")
    detail: str | None = None
    since: datetime


class ConversationEmailView(BaseModel):
    """How a conversation reaches its customer by email, and whether it can."""

    conversation_id: str
    channel: str
    address: str | None = Field(default=None, description="Where replies are emailed.")
    subject: str | None = None
    suppressed: SuppressionView | None = Field(default=None, description="Set: nothing is emailed to the address.")

    @classmethod
    def of(
        cls, conversation: Conversation, address: str | None, suppression: Suppression | None
    ) -> ConversationEmailView:
        return cls(
            conversation_id=conversation.id,
            channel=conversation.channel.value,
            address=address,
            subject=conversation.email_subject,
            suppressed=SuppressionView(reason=suppression.reason, detail=suppression.detail, since=suppression.since)
            if suppression
            else None,
        )


LINK_ERRORS = {
    HTTPStatus.BAD_REQUEST: "The body is not JSON (malformed_json)",
    HTTPStatus.NOT_FOUND: "The link doesn't open anything here (not_found)",
    HTTPStatus.GONE: "The link expired or was used; renewable says a fresh one can be sent (link_expired, link_used)",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "The body is over 64 KB (payload_too_large)",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body is not application/json (unsupported_media_type)",
    HTTPStatus.UNPROCESSABLE_ENTITY: "The request is invalid; details name each field (validation_error)",
    HTTPStatus.TOO_MANY_REQUESTS: "Too many requests: the API's throttling. Wait the Retry-After seconds",
}


def link_responses(success: HTTPStatus, model: type[BaseModel]) -> dict[int, Any]:
    """The OpenAPI answers of a link route: its success and the errors a link can meet."""
    from helpdesk.api.app import ERROR_BODY_SCHEMA, RETRY_AFTER_HEADER

    responses: dict[int, Any] = {
        success.value: {
            "description": success.phrase,
            "content": {"application/json": {"model": model}},
        }
    }
    for status, description in LINK_ERRORS.items():
        schema = ERROR_BODY_SCHEMA
        if status is HTTPStatus.GONE:
            schema = {**schema, "properties": {**schema["properties"], "renewable": {"type": "boolean"}}}
        responses[status.value] = {"description": description, "content": {"application/json": {"schema": schema}}}
    responses[HTTPStatus.TOO_MANY_REQUESTS.value]["headers"] = RETRY_AFTER_HEADER
    return responses
