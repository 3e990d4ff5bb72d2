"""The messenger API: what a customer's messenger calls, behind the messenger token authorizer."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from helpdesk import wiring
from helpdesk.api import bodies, email_schemas, home_views, ticket_views, views
from helpdesk.api.app import build_resolver, resolve
from helpdesk.api.identity import customer_from_event
from helpdesk.api.params import Cursor, Id, Limit, created
from helpdesk.auth.customer_tokens import (
    MAX_TOKEN_LIFETIME_SECONDS,
    VISITOR_PREFIX,
    TokenRejected,
    issue_visitor_token,
    verify_customer_token,
)
from helpdesk.domain.errors import Forbidden, InvalidInput, NotFound
from helpdesk.domain.models import NotificationPreferences, Rating, new_id
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.services.home import Home
from helpdesk.surfaces import MESSENGER
from helpdesk.wiring import email as email_wiring

app = build_resolver(
    MESSENGER,
    title="Messenger API",
    description="What the customer's messenger calls. Authenticate with the customer JWT your backend signs.",
)


def _customer() -> CustomerPrincipal:
    return customer_from_event(app.current_event.raw_event)


@app.post("/messenger/visitors", summary="Get a token for an anonymous visitor", security=[])
def create_visitor() -> Response[views.VisitorView]:
    """Anonymous visitors may chat (if the workspace allows them) but never see anyone else's data. The token
    lasts 24 hours; merge it into a customer later with `POST /messenger/identify`."""
    if not wiring.workspace().messenger.anonymous_visitors:
        raise Forbidden("this workspace only talks to signed-in customers: sign the customer's token in your app")
    visitor_id = new_id()
    token = issue_visitor_token(wiring.messenger_secret(), visitor_id)
    return created(
        views.VisitorView(
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
    """The messenger page calls this with a link's `ticket` (or `conversation`) and `link` parameters. The link
    opens once: the session it returns is that customer's for 12 hours, email-verified (never app-verified). A
    rating link records its score (once per ticket); an unsubscribe link's session lets the page turn status emails
    off. A used or expired
    link answers 410 with `renewable`; a link for another ticket or customer opens nothing (404)."""
    session = email_wiring.email_links().exchange(
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
    """The link must be one of ours (its signature holds; it may be expired or used). The fresh link goes to the
    customer's own address on file, never to one the caller names, at most once per 10 minutes, and only for
    their own ticket or conversation; the answer is the same whether or not anything will be sent."""
    email_wiring.email_links().renew(
        ticket_id=request.ticket_id, conversation_id=request.conversation_id, token=request.link, locale=request.locale
    )
    message = "If that link was ours, a new one is on its way to the address it was sent to."
    return Response(
        status_code=HTTPStatus.ACCEPTED.value,
        content_type="application/json",
        body=email_schemas.LinkRenewalView(message=message),
    )


@app.post("/messenger/identify", summary="Merge an anonymous visitor's history into the signed-in customer")
def identify(request: bodies.IdentifyRequest) -> views.MergeView:
    """The visitor signed in: their conversations and tickets become the signed-in customer's. Send the
    customer's token as `Authorization` and the visitor's in the body."""
    try:
        visitor = verify_customer_token(request.visitor_token, wiring.messenger_secret())
    except TokenRejected as rejected:
        raise InvalidInput("visitor token refused", [("visitor_token", rejected.reason)]) from rejected
    principal = CustomerPrincipal(user_id=visitor.user_id, is_visitor=visitor.is_visitor)
    return views.MergeView(merged=wiring.conversations().merge_visitor(_customer(), principal))


@app.post("/messenger/conversations", summary="Start a conversation")
def start_conversation(request: bodies.StartConversationRequest) -> Response[views.ConversationView]:
    """The first message, with the context package (page, device, the object the customer is looking at). The bot
    answers first if the workspace has one; its replies are in the response."""
    customer = _customer()
    refs = wiring.attachments().refs_for_message(customer.user_id, request.attachment_ids)
    page = wiring.conversations().start(customer, request.body, request.context, refs, option_id=request.option_id)
    return created(views.customer_conversation_page(page))


@app.get("/messenger/conversations", summary="My conversations, newest first")
def list_conversations(cursor: Cursor = None, limit: Limit = bodies.DEFAULT_PAGE_SIZE) -> views.ConversationList:
    """Every conversation of the caller, open or closed, newest first; `next_cursor` pages on."""
    page = wiring.conversations().list_for_customer(_customer(), cursor=cursor, limit=limit)
    return views.ConversationList(
        items=[views.conversation_view(c, [], None) for c in page.items], next_cursor=page.next_cursor
    )


@app.get("/messenger/conversations/<conversation_id>", summary="A conversation with its latest or newer messages")
def get_conversation(
    conversation_id: Id,
    after: Annotated[str | None, Query(max_length=64, description="Only messages after this message id.")] = None,
    limit: Limit = 50,
) -> views.ConversationView:
    """The conversation with its latest messages, or with `after=<message id>` only the newer ones (what polling
    needs). Internal notes are never included."""
    page = wiring.conversations().page_for_customer(_customer(), conversation_id, after=after, limit=limit)
    return views.customer_conversation_page(page)


@app.post("/messenger/conversations/<conversation_id>/messages", summary="Send a message")
def send_message(conversation_id: Id, request: bodies.SendMessageRequest) -> Response[views.MessageView]:
    """Text and/or attachments (uploaded first with `POST /messenger/attachments`), or `option_id` to pick one of
    the bot's quick replies. A snoozed conversation wakes up."""
    message = wiring.conversations().send_as_customer(
        _customer(),
        conversation_id,
        request.body,
        option_id=request.option_id,
        attachment_ids=request.attachment_ids,
    )
    return created(views.message_view(message))


@app.post("/messenger/conversations/<conversation_id>/close", summary="Close the conversation")
def close_conversation(conversation_id: Id) -> views.ConversationView:
    """The customer is done: the conversation leaves the team's open view. Closing twice is harmless."""
    conversation = wiring.conversations().close(_customer(), conversation_id)
    return views.conversation_view(conversation, [], None)


@app.post(
    "/messenger/conversations/<conversation_id>/verify",
    summary="Record that the customer's app vouched for them (send a freshly issued token)",
)
def verify_identity(conversation_id: Id) -> Response[views.MessageView]:
    """Called with a token the customer's app issued within the last 10 minutes, after an agent asked for
    verification: the agent sees that the app vouched for the customer."""
    return created(views.message_view(wiring.conversations().verify_identity(_customer(), conversation_id)))


@app.post("/messenger/attachments", summary="Start uploading a photo, video or PDF")
def create_attachment(request: bodies.CreateAttachmentRequest) -> Response[views.AttachmentUploadView]:
    """Returns a presigned S3 form that accepts exactly this type and at most this size for 5 minutes; send the
    returned `attachment_id` with a message or reply."""
    attachment, upload = wiring.attachments().start_upload(
        _customer(), request.filename, request.content_type, request.size
    )
    return created(views.attachment_upload_view(attachment, upload))


@app.get("/messenger/attachments/<attachment_id>", summary="A short-lived link to download an attachment")
def download_attachment(attachment_id: Id) -> views.AttachmentDownloadView:
    """A link valid for 5 minutes to a file the caller uploaded or that was shared with them; it downloads, never
    renders inline."""
    attachment, links = wiring.attachments().download_for_customer(_customer(), attachment_id)
    return views.attachment_download_view(attachment, links)


@app.get("/messenger/tickets", summary="My tickets, newest first")
def list_tickets(cursor: Cursor = None, limit: Limit = bodies.DEFAULT_PAGE_SIZE) -> ticket_views.TicketList:
    """The caller's tickets, newest first, with customer-facing state labels."""
    page = wiring.tickets().list_for_customer(_customer(), cursor=cursor, limit=limit)
    return ticket_views.TicketList(
        items=[ticket_views.customer_ticket_view(t, wiring.workspace()) for t in page.items],
        next_cursor=page.next_cursor,
    )


@app.get("/messenger/tickets/<ticket_id>", summary="A ticket with its timeline")
def get_ticket(
    ticket_id: Id,
    before: Annotated[str | None, Query(max_length=64, description="Timeline entries older than this id.")] = None,
    limit: Limit = 50,
) -> ticket_views.TicketDetail:
    """The ticket and the parts of its timeline meant for the customer (replies, state changes, shared files);
    `before` pages back."""
    page = wiring.tickets().page_for_customer(_customer(), ticket_id, before=before, limit=limit)
    return ticket_views.customer_ticket_detail(page, wiring.workspace())


@app.post("/messenger/tickets/<ticket_id>/replies", summary="Reply on my ticket")
def reply_to_ticket(ticket_id: Id, request: bodies.CustomerReplyRequest) -> Response[ticket_views.ReplyView]:
    """A reply on one of the caller's tickets; if it was waiting on them, work resumes."""
    reply = wiring.tickets().reply_as_customer(
        _customer(), ticket_id, request.body, attachment_ids=request.attachment_ids
    )
    return created(ticket_views.reply_view(reply))


@app.post("/messenger/tickets/<ticket_id>/rating", summary="Rate the help (once the ticket is resolved)")
def rate_ticket(ticket_id: Id, request: bodies.RatingRequest) -> Response[Rating]:
    """CSAT: a score from 1 to 5 and an optional comment, once per ticket, after it is resolved."""
    return created(wiring.tickets().rate(_customer(), ticket_id, request.score, request.comment))


@app.get("/messenger/home", summary="The messenger's home: greeting, menu and when to expect a reply")
def get_home() -> Home:
    """What the messenger shows before the customer types: the greeting, the bot's menu (start a conversation
    with `option_id`), and whether the team is there now and how fast it usually replies, or when it is back."""
    return wiring.home().home(_customer())


@app.get("/messenger/unread", summary="What I haven't read: unread messages and ticket updates")
def list_unread() -> home_views.UnreadList:
    """Each conversation and ticket with messages or updates the customer hasn't seen, and how many."""
    counts = wiring.home().unread(_customer())
    return home_views.UnreadList(items=[home_views.unread_view(c) for c in counts], total=len(counts))


@app.post("/messenger/conversations/<conversation_id>/read", summary="I've read this conversation")
def read_conversation(conversation_id: Id) -> home_views.UnreadView:
    """Its unread count goes back to 0 (on every device: an `unread` frame tells the others)."""
    return home_views.unread_view(wiring.home().mark_read(_customer(), "conversation", conversation_id))


@app.post("/messenger/tickets/<ticket_id>/read", summary="I've read this ticket's updates")
def read_ticket(ticket_id: Id) -> home_views.UnreadView:
    """Its unread count goes back to 0."""
    return home_views.unread_view(wiring.home().mark_read(_customer(), "ticket", ticket_id))


@app.get("/messenger/articles/<article_id>", summary="A knowledge-base article")
def get_article(article_id: Id) -> home_views.ArticleView:
    """The whole article a knowledge-base answer links to (`article:<id>`), its body in Markdown."""
    _customer()
    article = wiring.knowledge_base().article(article_id)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    return home_views.ArticleView(id=article.id, title=article.title, body=article.body, url=article.url)


@app.get("/messenger/preferences", summary="How I get status updates")
def get_preferences() -> NotificationPreferences:
    """Which channels status updates use: the messenger, email and SMS."""
    return wiring.customers().preferences(_customer())


@app.put("/messenger/preferences", summary="Choose how to get status updates")
def set_preferences(request: NotificationPreferences) -> NotificationPreferences:
    """Email and SMS need an address or number the business signed into the customer's token; visitors hear only
    in the messenger."""
    return wiring.customers().set_preferences(_customer(), request)


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The function's handler: ``helpdesk.handlers.messenger_api`` loads this module on the first request."""
    return resolve(app, event, context)
