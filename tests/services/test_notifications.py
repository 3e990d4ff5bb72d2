"""Status updates reach the customer once per channel: messenger, email (SES) and SMS (SNS), on moto."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_string
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from helpdesk.adapters.channels import STATUS_UPDATE_TEMPLATE, DynamoDeliveryLedger, SesSnsChannels
from helpdesk.adapters.store import ConversationTable, CustomerTable, TableStores
from helpdesk.domain.models import Customer, Message, NotificationPreferences
from helpdesk.domain.notifications import StatusUpdate, StatusUpdateKind
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.domain.workspace import Workspace
from helpdesk.services.conversations import ConversationService
from helpdesk.services.customers import CustomerService
from helpdesk.services.notifications import (
    Channel,
    DeliveryInProgress,
    NotificationService,
    Outcome,
)
from helpdesk.services.tickets import NewTicket, TicketService
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from tests.support.principals import FRONTLINE_AGENT, ORDER_CONTEXT

REGION = "us-east-1"
SENDER = "support@demo-shop.example"
MESSENGER_URL = "https://help.demo-shop.example/messenger"
CAROL = CustomerPrincipal(user_id="carol", email="carol@example.com", name="Carol", phone="+447700900123")
VISITOR = CustomerPrincipal(user_id="visitor:01JZVISITOR", is_visitor=True)
DAMAGED = NewTicket(
    ticket_type_id="damaged-item",
    team_id="returns",
    attributes={"description": "The lid is cracked", "carrier_ref": "CLM-9"},
)


# --- what the customer received ------------------------------------------------------------------


def sent_emails() -> list[Any]:
    return list(get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def sent_sms() -> list[tuple[str, str]]:
    return list(get_backend("sns")[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def rendered(email: Any) -> RenderedEmail:
    """The email as SES renders it from the template and the data we sent."""
    ses = boto3.client("ses", region_name=REGION)
    mime = ses.test_render_template(TemplateName=email.template, TemplateData=email.template_data)["RenderedTemplate"]
    parsed = message_from_string(mime)
    parts = {part.get_content_type(): part.get_payload(decode=True) for part in parsed.walk()}
    text, html = parts["text/plain"], parts["text/html"]
    assert isinstance(text, bytes)
    assert isinstance(html, bytes)
    return RenderedEmail(subject=str(parsed["Subject"]), text=text.decode(), html=html.decode())


def messenger_updates(
    conversations: ConversationService, customer: CustomerPrincipal, conversation_id: str
) -> list[Message]:
    page = conversations.page_for_customer(customer, conversation_id, after=None, limit=100)
    return [m for m in page.messages if m.author.id == "status-updates"]


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def mail(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """SES with a verified sender and the status-update template, as infra creates them."""
    ses = boto3.client("ses", region_name=REGION)
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.create_template(Template=STATUS_UPDATE_TEMPLATE)


@dataclass
class Clock:
    """The real time, moved ahead by ``ahead``: lets a test wait out a lease."""

    ahead: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def customers(stores: TableStores) -> CustomerService:
    return CustomerService(stores.customers)


@pytest.fixture
def notifier(mail: None, stores: TableStores, workspace: Workspace, clock: Clock) -> NotificationService:
    return NotificationService(
        stores.customers,
        stores.conversations,
        SesSnsChannels(from_email=SENDER),
        workspace,
        messenger_url=MESSENGER_URL,
        ledger=DynamoDeliveryLedger(),
        clock=clock,
    )


@dataclass(frozen=True)
class Case:
    """A customer's conversation turned into a ticket: what status updates are about."""

    customer: CustomerPrincipal
    conversation_id: str
    ticket_id: str
    ticket_number: int

    def update(self, kind: StatusUpdateKind = StatusUpdateKind.STATE_CHANGED, **fields: Any) -> StatusUpdate:
        values: dict[str, Any] = {
            "id": f"upd-{kind.value}-{self.ticket_id}",
            "kind": kind,
            "customer_id": self.customer.user_id,
            "ticket_id": self.ticket_id,
            "ticket_number": self.ticket_number,
            "conversation_id": self.conversation_id,
            "title": "Damaged item",
            "state_label": "In progress",
            "body": "Your replacement ships tomorrow.",
            "occurred_at": datetime.now(UTC),
        }
        return StatusUpdate.model_validate(values | fields)


def open_case(
    conversations: ConversationService,
    tickets: TicketService,
    customers: CustomerService,
    customer: CustomerPrincipal = CAROL,
    preferences: NotificationPreferences | None = None,
) -> Case:
    started = conversations.start(customer, "The lid of my blender is cracked", ORDER_CONTEXT)
    if preferences is not None:
        customers.set_preferences(customer, preferences)
    ticket = tickets.convert_conversation(FRONTLINE_AGENT, started.conversation.id, DAMAGED)
    return Case(customer, started.conversation.id, ticket.id, ticket.number)


@pytest.fixture
def case(conversations: ConversationService, tickets: TicketService, customers: CustomerService) -> Case:
    """Carol, who wants updates everywhere: messenger, email and SMS."""
    return open_case(
        conversations, tickets, customers, preferences=NotificationPreferences(messenger=True, email=True, sms=True)
    )


# --- what each update says -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(StatusUpdateKind))
def test_every_kind_of_update_names_the_ticket_and_links_to_it_on_every_channel(
    kind: StatusUpdateKind, notifier: NotificationService, case: Case, conversations: ConversationService
) -> None:
    # When any kind of status update is delivered to Carol
    report = notifier.deliver(case.update(kind))

    # Then she gets it in the messenger, by email and by SMS
    assert report.outcomes == {Channel.MESSENGER: Outcome.SENT, Channel.EMAIL: Outcome.SENT, Channel.SMS: Outcome.SENT}
    link = f"{MESSENGER_URL}?ticket={case.ticket_id}"
    ticket = f"Ticket #{case.ticket_number}"

    # the email, as SES renders it, names the ticket in its subject and body and links to it
    [email] = sent_emails()
    assert email.destinations == {"ToAddresses": ["carol@example.com"]}
    assert email.source == SENDER
    shown = rendered(email)
    assert f"#{case.ticket_number}" in shown.subject
    assert ticket in shown.text
    assert link in shown.text
    assert ticket in shown.html
    assert f'href="{link}"' in shown.html

    # the SMS fits in one message and carries the number and the link
    [(phone, sms)] = sent_sms()
    assert phone == "+447700900123"
    assert ticket in sms
    assert sms.endswith(link)
    assert len(sms) <= 160

    # and the messenger shows it in her conversation
    [message] = messenger_updates(conversations, CAROL, case.conversation_id)
    assert ticket in message.body


def test_the_words_fit_what_happened(
    notifier: NotificationService, case: Case, conversations: ConversationService
) -> None:
    notifier.deliver(case.update(StatusUpdateKind.STATE_CHANGED, id="u1", state_label="Waiting for the carrier"))
    notifier.deliver(case.update(StatusUpdateKind.AGENT_REPLY, id="u2", body="We've sent a replacement lid."))

    state_email, reply_email = (rendered(e) for e in sent_emails())
    assert state_email.subject == f"Ticket #{case.ticket_number} is now Waiting for the carrier"
    assert "We've sent a replacement lid." in reply_email.text
    assert "We've sent a replacement lid." in reply_email.html
    state_sms, reply_sms = (text for _, text in sent_sms())
    assert f"Demo Shop: Ticket #{case.ticket_number} is now Waiting for the carrier." in state_sms
    assert "has a new reply" in reply_sms
    bodies = [m.body for m in messenger_updates(conversations, CAROL, case.conversation_id)]
    assert "Waiting for the carrier" in bodies[0]
    assert "We've sent a replacement lid." in bodies[1]


def test_customer_words_cannot_inject_markup_into_the_email(notifier: NotificationService, case: Case) -> None:
    notifier.deliver(case.update(StatusUpdateKind.AGENT_REPLY, body='<a href="https://evil.example">click</a>'))

    [email] = sent_emails()
    # SES renders the HTML part with Handlebars, which escapes {{body}}; the data carries the words as they are.
    assert "{{body}}" in STATUS_UPDATE_TEMPLATE["HtmlPart"]
    assert "{{{" not in STATUS_UPDATE_TEMPLATE["HtmlPart"]
    assert json.loads(email.template_data)["body"] == '<a href="https://evil.example">click</a>'


# --- whom it reaches, and how ------------------------------------------------------------------------


def test_email_switched_off_means_no_email(
    notifier: NotificationService,
    conversations: ConversationService,
    tickets: TicketService,
    customers: CustomerService,
) -> None:
    case = open_case(
        conversations, tickets, customers, preferences=NotificationPreferences(messenger=True, email=False, sms=True)
    )

    report = notifier.deliver(case.update())

    assert report.outcomes == {Channel.MESSENGER: Outcome.SENT, Channel.SMS: Outcome.SENT}
    assert sent_emails() == []
    assert len(sent_sms()) == 1


def test_by_default_a_customer_hears_in_the_messenger_and_by_email_but_not_by_sms(
    notifier: NotificationService,
    conversations: ConversationService,
    tickets: TicketService,
    customers: CustomerService,
) -> None:
    case = open_case(conversations, tickets, customers)  # Carol never chose: the defaults apply

    report = notifier.deliver(case.update())

    assert report.outcomes == {Channel.MESSENGER: Outcome.SENT, Channel.EMAIL: Outcome.SENT}
    assert sent_sms() == []


def test_a_visitor_hears_only_in_the_messenger_whatever_their_profile_says(
    notifier: NotificationService,
    stores: TableStores,
    conversations: ConversationService,
    tickets: TicketService,
    customers: CustomerService,
) -> None:
    case = open_case(conversations, tickets, customers, customer=VISITOR)
    # even if a profile for the visitor somehow held an address and a number
    stores.customers.save_preferences(
        Customer(
            user_id=VISITOR.user_id,
            email="someone@example.com",
            phone="+447700900999",
            preferences=NotificationPreferences(messenger=True, email=True, sms=True),
        )
    )

    report = notifier.deliver(case.update())

    assert report.outcomes == {Channel.MESSENGER: Outcome.SENT}
    assert sent_emails() == []
    assert sent_sms() == []
    assert len(messenger_updates(conversations, VISITOR, case.conversation_id)) == 1


def test_an_update_never_lands_in_another_customers_conversation(
    notifier: NotificationService,
    case: Case,
    conversations: ConversationService,
    tickets: TicketService,
    customers: CustomerService,
) -> None:
    # Given Dan's conversation, and an update for Carol that wrongly names it
    dan = CustomerPrincipal(user_id="dan", email="dan@example.com")
    dans = conversations.start(dan, "Where is my order?", None).conversation.id

    report = notifier.deliver(case.update(conversation_id=dans))

    # Then nothing is posted in Dan's conversation, and it isn't retried; Carol still gets her email
    assert report.outcomes[Channel.MESSENGER] is Outcome.FAILED
    assert messenger_updates(conversations, dan, dans) == []
    assert report.outcomes[Channel.EMAIL] is Outcome.SENT


def test_an_address_ses_refuses_is_recorded_as_failed_and_not_retried(
    notifier: NotificationService,
    conversations: ConversationService,
    tickets: TicketService,
    customers: CustomerService,
) -> None:
    broken = CustomerPrincipal(user_id="erin", email="erin-at-example.com", name="Erin")
    case = open_case(conversations, tickets, customers, customer=broken)

    first = notifier.deliver(case.update())
    again = notifier.deliver(case.update())

    assert first.outcomes == {Channel.MESSENGER: Outcome.SENT, Channel.EMAIL: Outcome.FAILED}
    assert again.outcomes == {Channel.MESSENGER: Outcome.ALREADY_SENT, Channel.EMAIL: Outcome.ALREADY_FAILED}
    assert sent_emails() == []


# --- exactly once per channel --------------------------------------------------------------------


def test_the_same_update_delivered_twice_reaches_the_customer_once_per_channel(
    notifier: NotificationService, case: Case, conversations: ConversationService
) -> None:
    update = case.update()

    notifier.deliver(update)
    again = notifier.deliver(update)

    assert again.outcomes == {
        Channel.MESSENGER: Outcome.ALREADY_SENT,
        Channel.EMAIL: Outcome.ALREADY_SENT,
        Channel.SMS: Outcome.ALREADY_SENT,
    }
    assert len(sent_emails()) == 1
    assert len(sent_sms()) == 1
    assert len(messenger_updates(conversations, CAROL, case.conversation_id)) == 1


def test_different_updates_are_each_delivered(
    notifier: NotificationService, case: Case, conversations: ConversationService
) -> None:
    notifier.deliver(case.update(id="first"))
    notifier.deliver(case.update(id="second"))

    assert len(sent_emails()) == 2
    assert len(sent_sms()) == 2
    assert len(messenger_updates(conversations, CAROL, case.conversation_id)) == 2


@pytest.mark.usefixtures("serializable_moto")
def test_two_workers_delivering_the_same_update_at_once_send_it_once(
    mail: None,
    stores: TableStores,
    workspace: Workspace,
    case: Case,
    conversations: ConversationService,
) -> None:
    updates = [case.update(id=f"concurrent-{n}") for n in range(5)]
    start = threading.Barrier(2)
    busy: list[DeliveryInProgress] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(update: StatusUpdate) -> None:
        service = NotificationService(
            stores.customers,
            stores.conversations,
            SesSnsChannels(from_email=SENDER),
            workspace,
            messenger_url=MESSENGER_URL,
            ledger=DynamoDeliveryLedger(),
        )
        start.wait()
        try:
            service.deliver(update)
        except DeliveryInProgress as in_progress:  # the queue brings it back later
            with lock:
                busy.append(in_progress)
        except BaseException as error:
            with lock:
                errors.append(error)

    for update in updates:
        threads = [threading.Thread(target=worker, args=(update,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # the messages that found a delivery in progress come back once it is over
    retry = NotificationService(
        stores.customers,
        stores.conversations,
        SesSnsChannels(from_email=SENDER),
        workspace,
        messenger_url=MESSENGER_URL,
        ledger=DynamoDeliveryLedger(),
    )
    for in_progress in busy:
        retry.deliver(next(u for u in updates if u.id == in_progress.update_id))

    assert errors == []
    assert len(sent_emails()) == 5
    assert len(sent_sms()) == 5
    assert len(messenger_updates(conversations, CAROL, case.conversation_id)) == 5


class FlakySms(SesSnsChannels):
    """SNS is throttling for the first ``failures`` SMS."""

    def __init__(self, failures: int) -> None:
        super().__init__(from_email=SENDER)
        self.failures = failures

    def send_sms(self, phone: str, text: str) -> str:
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish")
        return super().send_sms(phone, text)


def test_when_the_sms_fails_after_the_email_went_the_retry_sends_only_the_sms(
    mail: None, stores: TableStores, workspace: Workspace, case: Case, conversations: ConversationService
) -> None:
    notifier = NotificationService(
        stores.customers,
        stores.conversations,
        FlakySms(failures=1),
        workspace,
        messenger_url=MESSENGER_URL,
        ledger=DynamoDeliveryLedger(),
    )
    update = case.update()

    # When SNS fails: the error propagates, so the queue will bring the update back
    with pytest.raises(ClientError):
        notifier.deliver(update)
    assert (len(sent_emails()), len(sent_sms())) == (1, 0)

    # Then the retry sends the SMS, and only the SMS
    retried = notifier.deliver(update)
    assert retried.outcomes == {
        Channel.MESSENGER: Outcome.ALREADY_SENT,
        Channel.EMAIL: Outcome.ALREADY_SENT,
        Channel.SMS: Outcome.SENT,
    }
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)
    assert len(messenger_updates(conversations, CAROL, case.conversation_id)) == 1


def test_a_worker_that_died_mid_send_blocks_others_until_its_lease_expires(
    notifier: NotificationService, case: Case, clock: Clock
) -> None:
    # Given a worker claimed the email and died before recording it as sent
    update = case.update()
    DynamoDeliveryLedger().claim(update.id, Channel.EMAIL.value, now=clock(), lease=timedelta(seconds=90))

    # When the update comes back while the lease still holds, it is left to that worker
    with pytest.raises(DeliveryInProgress):
        notifier.deliver(update)
    assert sent_emails() == []

    # and once the lease has expired, the email goes out (once)
    clock.ahead += timedelta(seconds=91)
    report = notifier.deliver(update)
    notifier.deliver(update)
    assert report.outcomes[Channel.EMAIL] is Outcome.SENT
    assert len(sent_emails()) == 1


class DiesAfterPosting(ConversationTable):
    """Writes the in-messenger message, then the worker dies before it can record the delivery."""

    def __init__(self) -> None:
        super().__init__()
        self.died = False

    def add_message(self, customer_id: str, message: Message, **kwargs: Any) -> None:
        super().add_message(customer_id, message, **kwargs)
        if not self.died:
            self.died = True
            raise TimeoutError("the function timed out")


def test_a_messenger_update_written_just_before_a_crash_is_not_written_again(
    mail: None, workspace: Workspace, case: Case, conversations: ConversationService, clock: Clock
) -> None:
    notifier = NotificationService(
        CustomerTable(),
        DiesAfterPosting(),
        SesSnsChannels(from_email=SENDER),
        workspace,
        messenger_url=MESSENGER_URL,
        ledger=DynamoDeliveryLedger(),
        clock=clock,
    )
    update = case.update()
    with pytest.raises(TimeoutError):
        notifier.deliver(update)

    clock.ahead += timedelta(minutes=5)
    report = notifier.deliver(update)

    assert report.outcomes[Channel.MESSENGER] is Outcome.SENT
    assert len(messenger_updates(conversations, CAROL, case.conversation_id)) == 1
    assert len(sent_emails()) == 1


def test_the_messenger_update_shows_up_for_a_messenger_polling_with_its_cursor(
    notifier: NotificationService, case: Case, conversations: ConversationService
) -> None:
    # Given the messenger has read the conversation so far
    cursor = conversations.page_for_customer(CAROL, case.conversation_id, after=None, limit=100).next_cursor

    # When an update is delivered, its message sorts after what was read
    notifier.deliver(case.update())
    fresh = conversations.page_for_customer(CAROL, case.conversation_id, after=cursor, limit=100)

    assert [m.author.id for m in fresh.messages] == ["status-updates"]


def test_a_messenger_url_that_is_not_a_url_is_refused(stores: TableStores, workspace: Workspace) -> None:
    with pytest.raises(ValueError, match="messenger_url must be an http"):
        NotificationService(
            stores.customers,
            stores.conversations,
            SesSnsChannels(from_email=SENDER),
            workspace,
            messenger_url="help.example.com",
            ledger=DynamoDeliveryLedger(),
        )


class ForgetsSentEmails(DynamoDeliveryLedger):
    """The table refuses the first ``refusals`` writes that record an email as sent (after the SDK's retries)."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    def mark_sent(self, update_id: str, channel: str, *, now: datetime) -> None:
        if channel == Channel.EMAIL.value and self.refusals:
            self.refusals -= 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")
        super().mark_sent(update_id, channel, now=now)


def test_an_email_sent_while_the_table_throttles_is_recorded_and_never_sent_again(
    mail: None, stores: TableStores, workspace: Workspace, case: Case, clock: Clock
) -> None:
    pauses: list[float] = []
    ledger = ForgetsSentEmails(refusals=3)
    notifier = NotificationService(
        stores.customers,
        stores.conversations,
        SesSnsChannels(from_email=SENDER),
        workspace,
        messenger_url=MESSENGER_URL,
        ledger=ledger,
        clock=clock,
        sleep=pauses.append,
    )
    update = case.update()
    assert notifier.deliver(update).outcomes[Channel.EMAIL] is Outcome.SENT
    assert len(pauses) == 3

    clock.ahead += timedelta(minutes=5)
    assert notifier.deliver(update).outcomes[Channel.EMAIL] is Outcome.ALREADY_SENT
    assert len(sent_emails()) == 1


def test_an_email_sent_but_never_recorded_is_not_sent_again_by_the_immediate_retry(
    mail: None, stores: TableStores, workspace: Workspace, case: Case, clock: Clock
) -> None:
    notifier = NotificationService(
        stores.customers,
        stores.conversations,
        SesSnsChannels(from_email=SENDER),
        workspace,
        messenger_url=MESSENGER_URL,
        ledger=ForgetsSentEmails(refusals=100),
        clock=clock,
        sleep=lambda _: None,
    )
    update = case.update()
    with pytest.raises(ClientError):
        notifier.deliver(update)
    assert len(sent_emails()) == 1

    # The queue brings the update back at once: the claim still holds, so the email isn't sent twice
    with pytest.raises(DeliveryInProgress):
        notifier.deliver(update)
    assert len(sent_emails()) == 1
