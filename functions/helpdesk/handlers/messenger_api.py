"""The messenger API: what a customer's messenger calls, behind the messenger token authorizer."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.adapters.secrets import messenger_secret
from helpdesk.api import email_schemas, schemas
from helpdesk.api.app import attachments, build_resolver, conversations, customers, resolve, tickets, workspace
from helpdesk.api.identity import customer_from_event
from helpdesk.api.params import Cursor, Id, Limit, created
from helpdesk.auth.customer_tokens import (
    MAX_TOKEN_LIFETIME_SECONDS,
    VISITOR_PREFIX,
    TokenRejected,
    issue_visitor_token,
    verify_customer_token,
)
from helpdesk.domain.errors import Forbidden, InvalidInput
from helpdesk.domain.models import NotificationPreferences, Rating, new_id
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.email_wiring import email_links
from helpdesk.surfaces import MESSENGER

logger = Logger()
tracer = Tracer()
metrics = Metrics()

app = build_resolver(
    MESSENGER,
    title="Messenger API",
    description="What the customer's messenger calls. Authenticate with the customer JWT your backend signs.",
)


def _customer() -> CustomerPrincipal:
    return customer_from_event(app.current_event.raw_event)


@app.post("/messenger/visitors", summary="Get a token for an anonymous visitor", security=[])
def create_visitor() -> Response[schemas.VisitorView]:
    if not workspace().messenger.anonymous_visitors:
        raise Forbidden("this workspace only talks to signed-in customers: sign the customer's token in your app")
    visitor_id = new_id()
    token = issue_visitor_token(messenger_secret(), visitor_id)
    return created(
        schemas.VisitorView(
            visitor_id=f"{VISITOR_PREFIX}{visitor_id}", visitor_token=token, expires_in=MAX_TOKEN_LIFETIME_SECONDS
        )
    )


@app.post(
    "/messenger/links",
    summary="Exchange a link from an email for a session of its customer (once; email-verified only)",
    security=[],
    responses=email_schemas.link_responses(HTTPStatus.CREATED, email_schemas.LinkSessionView),
)
def exchange_link(request: email_schemas.LinkExchangeRequest) -> Response[email_schemas.LinkSessionView]:
    session = email_links().exchange(
        ticket_id=request.ticket_id, conversation_id=request.conversation_id, token=request.link
    )
    return created(email_schemas.LinkSessionView.of(session))


@app.post(
    "/messenger/links/renewals",
    summary="Email a fresh link, for an expired or used one, to the address it was sent to",
    security=[],
    responses=email_schemas.link_responses(HTTPStatus.ACCEPTED, email_schemas.LinkRenewalView),
)
def renew_link(request: email_schemas.LinkRenewalRequest) -> Response[email_schemas.LinkRenewalView]:
    email_links().renew(
        ticket_id=request.ticket_id, conversation_id=request.conversation_id, token=request.link, locale=request.locale
    )
    message = "If that link was ours, a new one is on its way to the address it was sent to."
    return Response(
        status_code=202, content_type="application/json", body=email_schemas.LinkRenewalView(message=message)
    )


@app.post("/messenger/identify", summary="Merge an anonymous visitor's history into the signed-in customer")
def identify(request: schemas.IdentifyRequest) -> schemas.MergeView:
    try:
        visitor = verify_customer_token(request.visitor_token, messenger_secret())
    except TokenRejected as rejected:
        raise InvalidInput("visitor token refused", [("visitor_token", rejected.reason)]) from rejected
    principal = CustomerPrincipal(user_id=visitor.user_id, is_visitor=visitor.is_visitor)
    return schemas.MergeView(merged=conversations().merge_visitor(_customer(), principal))


@app.post("/messenger/conversations", summary="Start a conversation")
def start_conversation(request: schemas.StartConversationRequest) -> Response[schemas.ConversationView]:
    customer = _customer()
    refs = attachments().refs_for_message(customer.user_id, request.attachment_ids)
    page = conversations().start(customer, request.body, request.context, refs)
    return created(schemas.customer_conversation_page(page))


@app.get("/messenger/conversations", summary="My conversations, newest first")
def list_conversations(cursor: Cursor = None, limit: Limit = schemas.DEFAULT_PAGE_SIZE) -> schemas.ConversationList:
    page = conversations().list_for_customer(_customer(), cursor=cursor, limit=limit)
    return schemas.ConversationList(
        items=[schemas.conversation_view(c, [], None) for c in page.items], next_cursor=page.next_cursor
    )


@app.get("/messenger/conversations/<conversation_id>", summary="A conversation with its latest or newer messages")
def get_conversation(
    conversation_id: Id,
    after: Annotated[str | None, Query(max_length=64, description="Only messages after this message id.")] = None,
    limit: Limit = 50,
) -> schemas.ConversationView:
    page = conversations().page_for_customer(_customer(), conversation_id, after=after, limit=limit)
    return schemas.customer_conversation_page(page)


@app.post("/messenger/conversations/<conversation_id>/messages", summary="Send a message")
def send_message(conversation_id: Id, request: schemas.SendMessageRequest) -> Response[schemas.MessageView]:
    customer = _customer()
    refs = attachments().refs_for_message(customer.user_id, request.attachment_ids)
    message = conversations().send_as_customer(
        customer, conversation_id, request.body, refs, option_id=request.option_id
    )
    return created(schemas.message_view(message))


@app.post("/messenger/conversations/<conversation_id>/close", summary="Close the conversation")
def close_conversation(conversation_id: Id) -> schemas.ConversationView:
    conversation = conversations().close(_customer(), conversation_id)
    return schemas.conversation_view(conversation, [], None)


@app.post(
    "/messenger/conversations/<conversation_id>/verify",
    summary="Record that the customer's app vouched for them (send a freshly issued token)",
)
def verify_identity(conversation_id: Id) -> Response[schemas.MessageView]:
    return created(schemas.message_view(conversations().verify_identity(_customer(), conversation_id)))


@app.post("/messenger/attachments", summary="Start uploading a photo, video or PDF")
def create_attachment(request: schemas.CreateAttachmentRequest) -> Response[schemas.AttachmentUploadView]:
    attachment, upload = attachments().start_upload(_customer(), request.filename, request.content_type, request.size)
    return created(schemas.attachment_upload_view(attachment, upload))


@app.get("/messenger/attachments/<attachment_id>", summary="A short-lived link to download an attachment")
def download_attachment(attachment_id: Id) -> schemas.AttachmentDownloadView:
    attachment, url = attachments().download_for_customer(_customer(), attachment_id)
    return schemas.attachment_download_view(attachment, url)


@app.get("/messenger/tickets", summary="My tickets, newest first")
def list_tickets(cursor: Cursor = None, limit: Limit = schemas.DEFAULT_PAGE_SIZE) -> schemas.TicketList:
    page = tickets().list_for_customer(_customer(), cursor=cursor, limit=limit)
    return schemas.TicketList(
        items=[schemas.customer_ticket_view(t, workspace()) for t in page.items], next_cursor=page.next_cursor
    )


@app.get("/messenger/tickets/<ticket_id>", summary="A ticket with its timeline")
def get_ticket(
    ticket_id: Id,
    before: Annotated[str | None, Query(max_length=64, description="Timeline entries older than this id.")] = None,
    limit: Limit = 50,
) -> schemas.TicketDetail:
    page = tickets().page_for_customer(_customer(), ticket_id, before=before, limit=limit)
    return schemas.customer_ticket_detail(page, workspace())


@app.post("/messenger/tickets/<ticket_id>/replies", summary="Reply on my ticket")
def reply_to_ticket(ticket_id: Id, request: schemas.CustomerReplyRequest) -> Response[schemas.ReplyView]:
    customer = _customer()
    refs = attachments().refs_for_message(customer.user_id, request.attachment_ids)
    return created(schemas.reply_view(tickets().reply_as_customer(customer, ticket_id, request.body, refs)))


@app.post("/messenger/tickets/<ticket_id>/rating", summary="Rate the help (once the ticket is resolved)")
def rate_ticket(ticket_id: Id, request: schemas.RatingRequest) -> Response[Rating]:
    return created(tickets().rate(_customer(), ticket_id, request.score, request.comment))


@app.get("/messenger/preferences", summary="How I get status updates")
def get_preferences() -> NotificationPreferences:
    return customers().preferences(_customer())


@app.put("/messenger/preferences", summary="Choose how to get status updates")
def set_preferences(request: NotificationPreferences) -> NotificationPreferences:
    return customers().set_preferences(_customer(), request)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
