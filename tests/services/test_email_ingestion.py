"""Email in, on moto: a customer's email becomes a conversation of the email team, their replies find
their thread (and only theirs), and machines create nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from helpdesk.auth.reply_addresses import Thread, ThreadKind, reply_address
from helpdesk.domain.models import Channel, ConversationStatus, Customer, PartType
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.services.email_ingestion import Outcome
from helpdesk.services.tickets import NewTicket, TicketChanges

from tests.support.mail import EMAIL_AGENT, EMAIL_KEYS, SUPPORT, EmailWorld, customer_email, email_world, reply_to
from tests.support.principals import FRONTLINE_AGENT, RETURNS_AGENT

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(table: str, attachments_bucket: str, workspace: Any) -> EmailWorld:
    return email_world(workspace, attachments_bucket)


def email_team(world: EmailWorld) -> list[Any]:
    return world.repository.list_team_conversations("email", ConversationStatus.OPEN, cursor=None, limit=50).items


def messages(world: EmailWorld, conversation_id: str) -> list[Any]:
    return world.repository.conversation_page(conversation_id, after=None, limit=50)[1]


def test_an_email_from_a_new_address_is_a_conversation_of_the_email_team_with_its_photo(world: EmailWorld) -> None:
    # Given Frank, who has never been in touch, emails support with a photo and a Word file
    raw = customer_email(
        attachments=[("dent.png", "image/png", PHOTO), ("notes.docx", "application/msword", b"PK not a doc")]
    )

    # When SES receives it
    outcome = world.receive(raw)

    # Then the email team has a conversation from him, by email, with the photo attached
    assert outcome.outcome is Outcome.CONVERSATION_STARTED
    [conversation] = email_team(world)
    assert conversation.channel is Channel.EMAIL
    assert conversation.email_subject == "My lamp arrived dented"
    assert conversation.customer_email == "frank@example.net"
    assert conversation.customer_id.startswith("email:")
    assert conversation.verified_attributes == {}
    first, note = messages(world, conversation.id)
    assert first.body == "Hello,\n\nthe lamp shade of order ORD-1001 is dented.\n\nFrank"
    assert first.channel is Channel.EMAIL
    assert [a.filename for a in first.attachments] == ["dent.png"]
    stored = world.repository.get_attachment(first.attachments[0].id)
    assert stored is not None
    assert stored.conversation_id == conversation.id
    # And agents are told, privately, which file wasn't kept
    assert note.internal
    assert "notes.docx" in note.body


def test_a_file_whose_content_isn_t_its_type_is_not_attached_and_agents_are_told(world: EmailWorld) -> None:
    # Given an email whose "photo" is a web page labelled image/png
    raw = customer_email(attachments=[("invoice.png", "image/png", b"<html><script>alert(1)</script></html>")])

    # When SES receives it
    world.receive(raw)

    # Then the conversation has no file, and agents are told why
    [conversation] = email_team(world)
    first, note = messages(world, conversation.id)
    assert first.attachments == []
    assert note.internal
    assert "invoice.png (its content is not the image/png it says it is)" in note.body


def test_the_customer_s_answer_to_an_agent_s_email_lands_on_the_same_conversation_without_the_quote(
    world: EmailWorld,
) -> None:
    # Given Frank's email conversation, and an agent's answer emailed to him
    world.receive(customer_email())
    [conversation] = email_team(world)
    reply = world.conversations().reply_as_agent(
        EMAIL_AGENT, conversation.id, "Sorry about that! Which colour was it?", internal=False
    )
    world.delivery.send_conversation_reply(world.repository.get_conversation(conversation.id), reply)

    # When he answers it from his mail client, quoting our email
    outcome = world.receive(
        reply_to(world.sender.last_as_delivered(), sender="frank@example.net", body="It was the green one.")
    )

    # Then his answer is on the same conversation, without the quoted history
    assert outcome.outcome is Outcome.CONVERSATION_REPLY
    assert outcome.reason == "reply address"
    assert [c.id for c in email_team(world)] == [conversation.id]
    assert messages(world, conversation.id)[-1].body == "It was the green one."


def test_an_answer_that_dropped_the_reply_address_is_matched_by_its_headers(world: EmailWorld) -> None:
    world.receive(customer_email())
    [conversation] = email_team(world)
    reply = world.conversations().reply_as_agent(EMAIL_AGENT, conversation.id, "Which colour?", internal=False)
    world.delivery.send_conversation_reply(world.repository.get_conversation(conversation.id), reply)

    outcome = world.receive(
        reply_to(world.sender.last_as_delivered(), sender="frank@example.net", body="Green.", via_reply_address=False)
    )

    assert (outcome.outcome, outcome.reason) == (Outcome.CONVERSATION_REPLY, "headers")
    assert messages(world, conversation.id)[-1].body == "Green."


def _ticket_for(world: EmailWorld, email: str = "alice@example.com") -> Any:
    world.repository.save_preferences(Customer(user_id="alice", email=email, name="Alice"))
    ticket = world.tickets.create(
        FRONTLINE_AGENT,
        NewTicket(
            ticket_type_id="damaged-item",
            customer_id="alice",
            attributes={"order_id": "ORD-1001", "description": "Cracked mug"},
            title="Cracked mug",
        ),
    )
    return world.tickets.update(
        RETURNS_AGENT, ticket.id, TicketChanges(state_id="awaiting-photos"), version=ticket.version
    )


def _status_email(world: EmailWorld, ticket: Any) -> bytes:
    from helpdesk.domain.notifications import StatusUpdate, StatusUpdateKind

    update = StatusUpdate(
        id="u1",
        kind=StatusUpdateKind.STATE_CHANGED,
        customer_id="alice",
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        title=ticket.title,
        state_id=ticket.state_id,
        state_label="Waiting for your photos",
        state_category="waiting_on_customer",
        occurred_at=datetime.now(UTC),
    )
    world.delivery.send_status_update(update, Customer(user_id="alice", email="alice@example.com", name="Alice"))
    return world.sender.last_as_delivered()


def test_a_reply_to_a_ticket_status_email_lands_on_the_ticket_and_resumes_it(world: EmailWorld) -> None:
    # Given Alice's ticket waits for her photos, and she was emailed so
    ticket = _ticket_for(world)
    status_email = _status_email(world, ticket)

    # When she answers the email, with the photo
    raw = reply_to(status_email, sender="Alice <alice@example.com>", body="Here is the photo.")
    outcome = world.receive(raw)

    # Then her words are on the ticket's timeline, and work resumes
    assert outcome.outcome is Outcome.TICKET_REPLY
    after, parts, _ = world.repository.ticket_page(ticket.id, before=None, limit=50)
    assert after is not None
    replies = [p for p in parts if p.type is PartType.REPLY]
    assert replies[-1].body == "Here is the photo."
    assert replies[-1].author.id == "alice"
    assert after.state_category.value == "in_progress"
    assert email_team(world) == []


def test_a_valid_reply_address_used_from_another_address_doesn_t_touch_the_ticket(world: EmailWorld) -> None:
    # Given Alice's status email, forwarded to someone else who answers it
    ticket = _ticket_for(world)
    status_email = _status_email(world, ticket)

    outcome = world.receive(reply_to(status_email, sender="mallory@evil.example", body="Cancel the order."))

    # Then the ticket has no reply from them, and the email team sees a new conversation with a note
    assert outcome.outcome is Outcome.CONVERSATION_STARTED
    _, parts, _ = world.repository.ticket_page(ticket.id, before=None, limit=50)
    assert not [p for p in parts if p.type is PartType.REPLY]
    [conversation] = email_team(world)
    assert conversation.customer_email == "mallory@evil.example"
    notes = [m.body for m in messages(world, conversation.id) if m.internal]
    assert any(f"ticket #{ticket.number}" in n and "not from its customer's address" in n for n in notes)


@pytest.mark.parametrize("problem", ["forged", "expired"])
def test_a_forged_or_expired_reply_address_from_another_address_starts_a_new_conversation(
    world: EmailWorld, problem: str
) -> None:
    ticket = _ticket_for(world)
    thread = Thread(ThreadKind.TICKET, ticket.id)
    expires = datetime.now(UTC) + timedelta(days=30) if problem == "forged" else datetime.now(UTC) - timedelta(days=2)
    address = reply_address(EMAIL_KEYS, SUPPORT, thread, expires=expires)
    if problem == "forged":
        local, _, domain = address.partition("@")
        address = f"{local[:-3]}{'aaa' if not local.endswith('aaa') else 'bbb'}@{domain}"

    outcome = world.receive(customer_email(sender="mallory@evil.example", to=address, body="Refund me to this card."))

    assert outcome.outcome is Outcome.CONVERSATION_STARTED
    _, parts, _ = world.repository.ticket_page(ticket.id, before=None, limit=50)
    assert not [p for p in parts if p.type is PartType.REPLY]
    [conversation] = email_team(world)
    notes = " ".join(m.body for m in messages(world, conversation.id) if m.internal)
    assert ("expired" in notes) if problem == "expired" else ("isn't one of ours" in notes)


def test_a_dmarc_failure_never_joins_a_thread_even_from_the_customer_s_address(world: EmailWorld) -> None:
    ticket = _ticket_for(world)
    status_email = _status_email(world, ticket)

    outcome = world.receive(
        reply_to(status_email, sender="alice@example.com", body="Refund to IBAN X"), verdicts={"dmarc": "FAIL"}
    )

    assert outcome.outcome is Outcome.CONVERSATION_STARTED
    [conversation] = email_team(world)
    assert any("DMARC failed" in m.body for m in messages(world, conversation.id) if m.internal)


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X-Autoreply": "yes"},
    ],
)
def test_auto_replies_and_bulk_mail_create_nothing(world: EmailWorld, headers: dict[str, str]) -> None:
    outcome = world.receive(customer_email(headers=headers, body="I'm away until Monday."))

    assert outcome.outcome is Outcome.AUTOMATED
    assert email_team(world) == []


def test_a_bounce_from_a_mailer_daemon_creates_nothing(world: EmailWorld) -> None:
    outcome = world.receive(customer_email(sender="Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>"))

    assert outcome.outcome is Outcome.AUTOMATED
    assert email_team(world) == []


def test_the_same_notification_delivered_twice_creates_one_conversation(world: EmailWorld) -> None:
    world.receive(customer_email(attachments=[("dent.png", "image/png", PHOTO)]))
    first = email_team(world)
    filed = boto3.client("s3").list_objects_v2(Bucket="helpdesk-test-inbound-email")["Contents"][0]["Key"]
    receipt_id = filed.rpartition("/")[2]  # filed under its customer; SES stored it as inbound/<id>
    from localrt.ses_receiving import receipt_notification

    again = world.redeliver(
        receipt_notification(
            message_id=receipt_id,
            bucket="helpdesk-test-inbound-email",
            key=f"inbound/{receipt_id}",
            recipients=[SUPPORT],
            source="frank@example.net",
        )
    )

    assert again.outcome is Outcome.DUPLICATE
    assert [c.id for c in email_team(world)] == [c.id for c in first]


def test_a_known_customer_s_verified_address_joins_their_history_without_verifying_them(world: EmailWorld) -> None:
    # Given Alice's address was vouched for by the business (her messenger token carried it)
    world.records.claim_address("alice@example.com", "alice", verified=True, at=datetime.now(UTC))
    world.repository.save_preferences(Customer(user_id="alice", email="alice@example.com", name="Alice"))

    world.receive(customer_email(sender="Someone <ALICE@example.com>", body="Where is my order?"))

    [conversation] = email_team(world)
    assert conversation.customer_id == "alice"
    assert conversation.verified_attributes == {}
    assert conversation.identity_verified_at is None
    # and the email didn't change what the business told us about her
    customer = world.repository.get_customer("alice")
    assert customer is not None
    assert customer.name == "Alice"


def test_a_virus_is_dropped_and_spam_is_flagged_for_agents(world: EmailWorld) -> None:
    dropped = world.receive(customer_email(body="invoice attached"), verdicts={"virus": "FAIL"})
    flagged = world.receive(customer_email(body="cheap watches"), verdicts={"spam": "FAIL"})

    assert dropped.outcome is Outcome.DROPPED
    assert flagged.outcome is Outcome.CONVERSATION_STARTED
    [conversation] = email_team(world)
    assert any("spam" in m.body for m in messages(world, conversation.id) if m.internal)


def test_an_answer_by_email_reopens_a_closed_conversation(world: EmailWorld) -> None:
    world.receive(customer_email())
    [conversation] = email_team(world)
    service = world.conversations()
    reply = service.reply_as_agent(EMAIL_AGENT, conversation.id, "Done, anything else?", internal=False)
    world.delivery.send_conversation_reply(world.repository.get_conversation(conversation.id), reply)
    service.set_status(EMAIL_AGENT, conversation.id, ConversationStatus.CLOSED)

    world.receive(reply_to(world.sender.last_as_delivered(), sender="frank@example.net", body="Yes, one more thing."))

    reopened = world.repository.get_conversation(conversation.id)
    assert reopened is not None
    assert reopened.status is ConversationStatus.OPEN
    assert messages(world, conversation.id)[-1].body == "Yes, one more thing."


def test_an_email_customer_is_unverified_and_the_same_address_is_the_same_customer(world: EmailWorld) -> None:
    world.receive(customer_email(subject="First"))
    world.receive(customer_email(subject="Second"))

    conversations = email_team(world)
    assert len(conversations) == 2
    assert len({c.customer_id for c in conversations}) == 1
    principal = CustomerPrincipal(user_id=conversations[0].customer_id)
    assert not principal.email_session
