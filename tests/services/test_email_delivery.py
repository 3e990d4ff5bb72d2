"""Email out: threaded in the customer's client, every link signed for one purpose, and nothing to an
address that bounced or complained. Links exchanged once, for that customer and that ticket only."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from helpdesk.adapters.email_link_uses import DynamoLinkUses
from helpdesk.auth.customer_tokens import verify_customer_token
from helpdesk.auth.link_tokens import LinkPurpose, issue_link, read_link
from helpdesk.auth.reply_addresses import Thread, ThreadKind, check_reply_token, token_of
from helpdesk.domain.email_threads import Suppression
from helpdesk.domain.errors import Gone, InvalidInput, NotFound
from helpdesk.domain.models import ConversationStatus, Customer
from helpdesk.domain.notifications import StatusUpdate, StatusUpdateKind, Undeliverable
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.services.email_feedback import EmailFeedback, parse_feedback
from helpdesk.services.email_links import EmailLinks
from helpdesk.services.tickets import NewTicket, TicketChanges

from tests.conftest import MESSENGER_SECRET
from tests.support.mail import EMAIL_AGENT, EMAIL_KEYS, SENDER, SUPPORT, EmailWorld, customer_email, email_world
from tests.support.principals import FRONTLINE_AGENT, RETURNS_AGENT

ALICE = Customer(user_id="alice", email="alice@example.com", name="Alice Jones")


@pytest.fixture
def world(table: str, attachments_bucket: str, workspace: Any) -> EmailWorld:
    world = email_world(workspace, attachments_bucket)
    world.repository.save_preferences(ALICE)
    return world


def links(world: EmailWorld) -> EmailLinks:
    return EmailLinks(
        uses=DynamoLinkUses(), tickets=world.stores.tickets, keys=EMAIL_KEYS, messenger_secret=lambda: MESSENGER_SECRET
    )


def alice_ticket(world: EmailWorld, *, resolved: bool = False) -> Any:
    ticket = world.tickets.create(
        FRONTLINE_AGENT,
        NewTicket(
            ticket_type_id="damaged-item",
            customer_id="alice",
            attributes={"order_id": "ORD-1001", "description": "Cracked mug"},
            title="Cracked mug",
        ),
    )
    if resolved:
        ticket = world.tickets.update(RETURNS_AGENT, ticket.id, TicketChanges(state_id="replaced"), version=1)
    return ticket


def update(ticket: Any, kind: StatusUpdateKind, **fields: Any) -> StatusUpdate:
    values: dict[str, Any] = {
        "id": f"u-{kind.value}",
        "kind": kind,
        "customer_id": "alice",
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "title": ticket.title,
        "state_id": ticket.state_id,
        "state_category": ticket.state_category.value,
        "occurred_at": datetime.now(UTC),
    }
    return StatusUpdate(**(values | fields))


def urls(message: EmailMessage) -> list[str]:
    text = message.get_body(("plain",))
    assert text is not None
    return re.findall(r"https://\S+", text.get_content())


def link_of(url: str) -> tuple[str | None, str]:
    query = parse_qs(urlsplit(url).query)
    return query.get("ticket", [None])[0], query["link"][0]


def test_a_status_email_threads_tells_machines_it_is_automatic_and_offers_a_way_out(world: EmailWorld) -> None:
    ticket = alice_ticket(world)

    world.delivery.send_status_update(update(ticket, StatusUpdateKind.TICKET_CREATED), ALICE)
    world.delivery.send_status_update(update(ticket, StatusUpdateKind.STATE_CHANGED, state_id="assessing"), ALICE)

    first_id = "<0100019000000001-test@email.amazonses.com>"
    second = world.sender.last()
    assert second["To"] == "alice@example.com"
    assert second["Subject"] == f"[#{ticket.number}] We're looking into ticket #{ticket.number}"
    assert second["In-Reply-To"] == first_id
    assert first_id in second["References"]
    assert second["Auto-Submitted"] == "auto-generated"
    assert second["List-Unsubscribe"].startswith("<https://shop.example/messenger/?ticket=")
    token = token_of(str(second["Reply-To"]), SUPPORT)
    assert token is not None
    assert check_reply_token(EMAIL_KEYS, token).thread == Thread(ThreadKind.TICKET, ticket.id)
    assert second.get_body(("html",)) is not None
    assert "Hi Alice," in second.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_the_resolution_email_carries_five_one_click_score_links(world: EmailWorld) -> None:
    ticket = alice_ticket(world, resolved=True)

    world.delivery.send_status_update(update(ticket, StatusUpdateKind.RESOLVED, asks_for_rating=True), ALICE)

    purposes = []
    for url in urls(world.sender.last()):
        _, token = link_of(url)
        claims = read_link(EMAIL_KEYS, token)
        purposes.append((claims.purpose.value, claims.score))
    assert [score for purpose, score in purposes if purpose == "csat"] == [1, 2, 3, 4, 5]
    assert ("ticket", None) in purposes


def test_an_agent_s_reply_in_an_email_conversation_answers_the_customer_s_email(world: EmailWorld) -> None:
    raw = customer_email(subject="Where is my parcel?")
    world.receive(raw)
    [conversation] = world.repository.list_team_conversations(
        "email", ConversationStatus.OPEN, cursor=None, limit=5
    ).items
    customer_message_id = re.search(rb"Message-ID: (<[^>]+>)", raw, re.IGNORECASE)
    assert customer_message_id is not None
    message = world.conversations().reply_as_agent(
        EMAIL_AGENT, conversation.id, "It's with the carrier, arriving tomorrow.", internal=False
    )

    world.delivery.send_conversation_reply(conversation, message)

    sent = world.sender.last()
    assert sent["In-Reply-To"] == customer_message_id.group(1).decode()
    assert sent["Subject"] == "Re: Where is my parcel?"
    assert sent["From"].addresses[0].addr_spec == SENDER
    assert "Eve" in str(sent["From"]), "the agent who answered"
    assert sent["Auto-Submitted"] is None
    assert sent["List-Unsubscribe"] is None
    assert "It's with the carrier" in sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_nothing_is_sent_to_a_suppressed_address(world: EmailWorld) -> None:
    ticket = alice_ticket(world)
    feedback = EmailFeedback(world.records)
    feedback.handle(
        parse_feedback(
            '{"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "Alice@Example.com"}],'
            ' "complaintFeedbackType": "abuse"}, "mail": {"messageId": "x"}}'
        )
    )

    with pytest.raises(Undeliverable) as refused:
        world.delivery.send_status_update(update(ticket, StatusUpdateKind.TICKET_CREATED), ALICE)

    assert refused.value.code == "suppressed"
    assert world.sender.sent == []
    suppression = feedback.suppression("alice@example.com")
    assert suppression is not None
    assert (suppression.reason, suppression.detail) == ("complaint", "abuse")


def test_a_transient_bounce_suppresses_nothing_and_a_permanent_one_does(world: EmailWorld) -> None:
    feedback = EmailFeedback(world.records)
    for kind in ("Transient", "Permanent"):
        feedback.handle(
            parse_feedback(
                {
                    "eventType": "Bounce",
                    "bounce": {
                        "bounceType": kind,
                        "bounceSubType": "General",
                        "bouncedRecipients": [{"emailAddress": f"{kind.lower()}@example.com"}],
                    },
                }
            )
        )

    assert feedback.suppression("transient@example.com") is None
    assert feedback.suppression("permanent@example.com") == Suppression(
        address="permanent@example.com",
        reason="bounce",
        detail="General",
        since=feedback.suppression("permanent@example.com").since,  # type: ignore[union-attr]
    )


def test_a_status_email_link_opens_an_email_session_for_that_customer_once(world: EmailWorld) -> None:
    ticket = alice_ticket(world)
    world.delivery.send_status_update(update(ticket, StatusUpdateKind.TICKET_CREATED), ALICE)
    ticket_id, token = link_of(urls(world.sender.last())[0])

    session = links(world).exchange(ticket_id=ticket_id, conversation_id=None, token=token)

    identity = verify_customer_token(session.session_token, MESSENGER_SECRET)
    assert (identity.user_id, identity.email_session) == ("alice", True)
    assert session.ticket_id == ticket.id
    with pytest.raises(Gone) as reused:
        links(world).exchange(ticket_id=ticket_id, conversation_id=None, token=token)
    assert (reused.value.code, reused.value.renewable) == ("link_used", True)


def test_a_link_for_one_ticket_opens_nothing_on_another(world: EmailWorld) -> None:
    mine, other = alice_ticket(world), alice_ticket(world)
    token = issue_link(EMAIL_KEYS, customer_id="alice", purpose=LinkPurpose.TICKET, subject_id=mine.id, ttl_seconds=60)

    with pytest.raises(NotFound):
        links(world).exchange(ticket_id=other.id, conversation_id=None, token=token)
    with pytest.raises(NotFound):
        links(world).exchange(ticket_id=None, conversation_id=mine.id, token=token)


def test_a_link_whose_ticket_is_someone_else_s_opens_nothing(world: EmailWorld) -> None:
    ticket = alice_ticket(world)
    token = issue_link(EMAIL_KEYS, customer_id="bob", purpose=LinkPurpose.TICKET, subject_id=ticket.id, ttl_seconds=60)

    with pytest.raises(NotFound):
        links(world).exchange(ticket_id=ticket.id, conversation_id=None, token=token)


def test_an_expired_link_is_gone_and_says_a_fresh_one_can_be_asked_for(world: EmailWorld) -> None:
    ticket = alice_ticket(world)
    old = issue_link(
        EMAIL_KEYS,
        customer_id="alice",
        purpose=LinkPurpose.TICKET,
        subject_id=ticket.id,
        ttl_seconds=60,
        now=time.time() - 3600,
    )

    with pytest.raises(Gone) as expired:
        links(world).exchange(ticket_id=ticket.id, conversation_id=None, token=old)

    assert (expired.value.code, expired.value.renewable) == ("link_expired", True)


def test_a_forged_link_can_t_ask_for_a_fresh_one(world: EmailWorld) -> None:
    ticket = alice_ticket(world)
    forged = issue_link(
        type(EMAIL_KEYS)(current="someone-else-s-key-long-enough-to-be-accepted-x"),
        customer_id="alice",
        purpose=LinkPurpose.TICKET,
        subject_id=ticket.id,
        ttl_seconds=60,
    )

    with pytest.raises(NotFound):
        links(world).renew(ticket_id=ticket.id, conversation_id=None, token=forged, locale=None)
    # nothing was asked for: a genuine request now is the first one
    assert DynamoLinkUses().request_renewal(
        Thread(ThreadKind.TICKET, ticket.id),
        "alice",
        locale=None,
        at=datetime.now(UTC),
        quiet_for=timedelta(minutes=10),
    )


def test_a_score_link_records_the_rating_once(world: EmailWorld) -> None:
    ticket = alice_ticket(world, resolved=True)

    def score_link(score: int) -> str:
        return issue_link(
            EMAIL_KEYS,
            customer_id="alice",
            purpose=LinkPurpose.CSAT,
            subject_id=ticket.id,
            ttl_seconds=600,
            score=score,
        )

    first = links(world).exchange(ticket_id=ticket.id, conversation_id=None, token=score_link(4))
    second = links(world).exchange(ticket_id=ticket.id, conversation_id=None, token=score_link(1))

    assert first.rated_now
    assert first.rating is not None
    assert first.rating.score == 4
    assert not second.rated_now
    assert second.rating is not None
    assert second.rating.score == 4
    stored = world.repository.get_ticket(ticket.id)
    assert stored is not None
    assert stored.rating is not None
    assert stored.rating.score == 4


def test_an_unsubscribe_link_opens_a_session_that_says_what_it_is_for(world: EmailWorld) -> None:
    ticket = alice_ticket(world)
    token = issue_link(
        EMAIL_KEYS, customer_id="alice", purpose=LinkPurpose.UNSUBSCRIBE, subject_id=ticket.id, ttl_seconds=600
    )

    session = links(world).exchange(ticket_id=ticket.id, conversation_id=None, token=token)

    assert session.purpose is LinkPurpose.UNSUBSCRIBE  # the messenger then turns status emails off
    assert verify_customer_token(session.session_token, MESSENGER_SECRET).user_id == "alice"


def test_an_email_session_can_t_claim_the_app_s_verification(world: EmailWorld) -> None:
    started = world.conversations().start(CustomerPrincipal(user_id="alice", email="alice@example.com"), "hi", None)
    session = CustomerPrincipal(user_id="alice", email_session=True, token_issued_at=int(time.time()))

    with pytest.raises(InvalidInput, match="email link"):
        world.conversations().verify_identity(session, started.conversation.id)
