"""Status updates with the email channel on: words from the templates on every channel, the rating asked
in the resolution's own email, agents' replies in email conversations emailed (or, when they can't be,
a note for agents), all from the real stream of moto's table."""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpdesk.adapters.channels import DynamoDeliveryLedger, SesSnsChannels
from helpdesk.adapters.email_link_uses import DynamoLinkUses
from helpdesk.adapters.stream_changes import read_change
from helpdesk.auth.link_tokens import LinkPurpose, issue_link, read_link
from helpdesk.domain.email_threads import Suppression
from helpdesk.domain.models import ConversationStatus, Customer, NotificationPreferences
from helpdesk.domain.notifications import StatusUpdate, StatusUpdateKind
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.services.domain_events import map_change
from helpdesk.services.email_directory import EmailDirectory
from helpdesk.services.email_links import EmailLinks
from helpdesk.services.notifications import Channel, NotificationService, Outcome
from helpdesk.services.tickets import NewTicket, TicketChanges
from moto.backends import get_backend

from tests.services.test_domain_events import TableStream, as_lambda_record
from tests.support.mail import EMAIL_AGENT, EMAIL_KEYS, MESSENGER_URL, EmailWorld, customer_email, email_world
from tests.support.principals import FRONTLINE_AGENT, ORDER_CONTEXT, RETURNS_AGENT

DANA = CustomerPrincipal(user_id="dana", email="dana@example.com", name="Dana Scott", phone="+447700900456")


@pytest.fixture
def world(table: str, attachments_bucket: str, workspace: Any) -> EmailWorld:
    return email_world(workspace, attachments_bucket)


@pytest.fixture
def stream(world: EmailWorld) -> TableStream:
    return TableStream()


def notifier(world: EmailWorld) -> NotificationService:
    return NotificationService(
        world.stores.customers,
        world.stores.conversations,
        SesSnsChannels(from_email="updates@demo-shop.example"),
        world.workspace,
        messenger_url=MESSENGER_URL,
        ledger=DynamoDeliveryLedger(),
        emails=world.delivery,
    )


def updates(stream: TableStream, world: EmailWorld) -> list[StatusUpdate]:
    found: list[StatusUpdate] = []
    for record in stream.new_records():
        change = read_change(as_lambda_record(record))
        found += map_change(change, world.workspace, world.repository.get_ticket).status_updates
    return found


def dana_ticket(world: EmailWorld) -> tuple[str, Any]:
    conversations = world.conversations()
    started = conversations.start(DANA, "My mug arrived cracked", ORDER_CONTEXT)
    world.repository.save_preferences(
        Customer(
            user_id="dana",
            email="dana@example.com",
            name="Dana Scott",
            phone="+447700900456",
            preferences=NotificationPreferences(messenger=True, email=True, sms=True),
        )
    )
    ticket = world.tickets.convert_conversation(
        FRONTLINE_AGENT,
        started.conversation.id,
        NewTicket(ticket_type_id="damaged-item", attributes={"order_id": "ORD-1", "description": "Cracked mug"}),
    )
    return started.conversation.id, ticket


def test_a_state_change_reads_as_a_sentence_in_the_messenger_the_sms_and_the_email(
    world: EmailWorld, stream: TableStream
) -> None:
    conversation_id, ticket = dana_ticket(world)
    updates(stream, world)
    world.tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(state_id="assessing"), version=ticket.version)
    [update] = updates(stream, world)

    report = notifier(world).deliver(update)

    assert set(report.outcomes.values()) == {Outcome.SENT}
    sentence = f"We're looking into ticket #{ticket.number}"
    assert world.sender.last()["Subject"] == f"[#{ticket.number}] {sentence}"
    page = world.repository.conversation_page(conversation_id, after=None, limit=50)[1]
    assert page[-1].body == f"{sentence}."
    [(_, sms)] = list(get_backend("sns")["123456789012"]["us-east-1"].sms_messages.values())
    assert sms.startswith(f"Demo Shop: {sentence}. ")
    assert " is now " not in sms


def test_resolution_and_rating_arrive_as_one_email_with_score_links(world: EmailWorld, stream: TableStream) -> None:
    _, ticket = dana_ticket(world)
    updates(stream, world)
    world.tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(state_id="replaced"), version=ticket.version)
    resolved, rating = updates(stream, world)
    assert (resolved.kind, rating.kind) == (StatusUpdateKind.RESOLVED, StatusUpdateKind.CSAT_REQUEST)
    assert resolved.asks_for_rating

    first = notifier(world).deliver(resolved)
    second = notifier(world).deliver(rating)

    assert Channel.EMAIL in first.outcomes
    assert second.outcomes == {Channel.MESSENGER: Outcome.SENT}, "no second email or SMS"
    assert len(world.sender.sent) == 1
    text = world.sender.last().get_body(("plain",)).get_content()  # type: ignore[union-attr]
    scores = [read_link(EMAIL_KEYS, token).score for token in re.findall(r"link=([\w.-]+)", text)]
    assert [s for s in scores if s is not None] == [1, 2, 3, 4, 5]


def test_an_agent_s_reply_in_an_email_conversation_is_emailed_once(world: EmailWorld, stream: TableStream) -> None:
    world.receive(customer_email(subject="Lamp dented"))
    [conversation] = world.repository.list_team_conversations(
        "email", ConversationStatus.OPEN, cursor=None, limit=5
    ).items
    updates(stream, world)
    world.conversations().reply_as_agent(EMAIL_AGENT, conversation.id, "We'll send a new shade.", internal=False)
    world.conversations().reply_as_agent(EMAIL_AGENT, conversation.id, "Internal: check stock", internal=True)
    [reply] = updates(stream, world)

    report = notifier(world).deliver(reply)
    again = notifier(world).deliver(reply)

    assert reply.kind is StatusUpdateKind.CONVERSATION_REPLY
    assert report.outcomes == {Channel.EMAIL: Outcome.SENT}
    assert again.outcomes == {Channel.EMAIL: Outcome.ALREADY_SENT}
    assert len(world.sender.sent) == 1
    assert world.sender.last()["Subject"] == "Re: Lamp dented"


def test_a_reply_to_a_suppressed_address_is_not_emailed_and_agents_are_told(
    world: EmailWorld, stream: TableStream
) -> None:
    world.receive(customer_email(subject="Lamp dented"))
    [conversation] = world.repository.list_team_conversations(
        "email", ConversationStatus.OPEN, cursor=None, limit=5
    ).items
    world.records.suppress(
        Suppression(address="frank@example.net", reason="complaint", detail="abuse", since=conversation.created_at)
    )
    updates(stream, world)
    world.conversations().reply_as_agent(EMAIL_AGENT, conversation.id, "We'll send a new shade.", internal=False)
    [reply] = updates(stream, world)

    report = notifier(world).deliver(reply)

    assert report.outcomes == {Channel.EMAIL: Outcome.FAILED}
    assert world.sender.sent == []
    notes = [m.body for m in world.repository.conversation_page(conversation.id, after=None, limit=50)[1] if m.internal]
    assert any("not emailed" in n and "suppressed" in n for n in notes)


def test_every_status_email_says_how_to_stop_them_with_a_signed_unsubscribe_link(
    world: EmailWorld, stream: TableStream
) -> None:
    dana_ticket(world)
    [created] = [u for u in updates(stream, world) if u.kind is StatusUpdateKind.TICKET_CREATED]
    notifier(world).deliver(created)
    header = str(world.sender.last()["List-Unsubscribe"])
    token = re.search(r"link=([\w.-]+)", header)
    assert token is not None
    assert read_link(EMAIL_KEYS, token.group(1)).purpose is LinkPurpose.UNSUBSCRIBE


def test_an_email_from_the_address_the_business_signed_joins_that_customer_s_history(
    world: EmailWorld, stream: TableStream
) -> None:
    # Given Dana's app signed her email address into her messenger token, and she chatted once
    world.conversations().start(DANA, "Hello from the app", None)
    directory = EmailDirectory(world.records)
    for record in stream.new_records():
        directory.record(read_change(as_lambda_record(record)))

    # When an email arrives from that address
    world.receive(customer_email(sender="Dana <DANA@example.com>", subject="Order question"))

    # Then it is Dana's conversation (her history), by email, and not verified by it
    [conversation] = world.repository.list_team_conversations(
        "email", ConversationStatus.OPEN, cursor=None, limit=5
    ).items
    assert conversation.customer_id == "dana"
    assert conversation.identity_verified_at is None
    assert conversation.verified_attributes == {}


def test_a_fresh_link_asked_for_goes_to_the_customer_s_own_address_once(world: EmailWorld, stream: TableStream) -> None:
    _, ticket = dana_ticket(world)
    updates(stream, world)
    links = EmailLinks(
        uses=DynamoLinkUses(), tickets=world.stores.tickets, keys=EMAIL_KEYS, messenger_secret=lambda: "x" * 40
    )
    old = issue_link(
        EMAIL_KEYS, customer_id="dana", purpose=LinkPurpose.TICKET, subject_id=ticket.id, ttl_seconds=60, now=1
    )

    links.renew(ticket_id=ticket.id, conversation_id=None, token=old, locale="de-DE")
    links.renew(ticket_id=ticket.id, conversation_id=None, token=old, locale="de-DE")  # within 10 minutes: nothing
    [asked] = [u for u in updates(stream, world) if u.kind is StatusUpdateKind.LINK_RENEWAL]
    report = notifier(world).deliver(asked)

    assert report.outcomes == {Channel.EMAIL: Outcome.SENT}
    fresh = world.sender.last()
    assert fresh["To"] == "dana@example.com"
    assert fresh["Subject"] == f"[#{ticket.number}] Ihr neuer Link"
    token = re.search(r"link=([\w.-]+)", fresh.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert token is not None
    assert read_link(EMAIL_KEYS, token.group(1)).subject_id == ticket.id


def test_a_fresh_link_for_someone_else_s_ticket_is_never_sent(world: EmailWorld, stream: TableStream) -> None:
    _, ticket = dana_ticket(world)
    updates(stream, world)
    links = EmailLinks(
        uses=DynamoLinkUses(), tickets=world.stores.tickets, keys=EMAIL_KEYS, messenger_secret=lambda: "x" * 40
    )
    world.repository.save_preferences(Customer(user_id="mallory", email="mallory@example.org"))
    theirs = issue_link(
        EMAIL_KEYS, customer_id="mallory", purpose=LinkPurpose.TICKET, subject_id=ticket.id, ttl_seconds=60
    )

    links.renew(ticket_id=ticket.id, conversation_id=None, token=theirs, locale=None)
    [asked] = [u for u in updates(stream, world) if u.kind is StatusUpdateKind.LINK_RENEWAL]
    report = notifier(world).deliver(asked)

    assert report.outcomes == {Channel.EMAIL: Outcome.FAILED}
    assert world.sender.sent == []
