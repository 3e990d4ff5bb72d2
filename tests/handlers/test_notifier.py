"""The notifier Lambda fed by its SQS queue: partial batch failures, once per channel, no PII in logs."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from helpdesk.adapters.channels import STATUS_UPDATE_TEMPLATE
from helpdesk.adapters.store import TableStores
from helpdesk.domain.models import NotificationPreferences
from helpdesk.domain.principals import CustomerPrincipal
from helpdesk.domain.workspace import Workspace
from helpdesk.services.conversations import ConversationService
from helpdesk.services.customers import CustomerService
from helpdesk.services.tickets import NewTicket, TicketService
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from tests.support.events import FakeLambdaContext, sample_event
from tests.support.principals import FRONTLINE_AGENT, ORDER_CONTEXT

REGION = "us-east-1"
SENDER = "support@demo-shop.example"
MESSENGER_URL = "https://help.demo-shop.example/messenger"
CAROL = CustomerPrincipal(user_id="carol", email="carol@example.com", name="Carol", phone="+447700900123")
SECRET_WORDS = "Your replacement ships tomorrow from the Leeds warehouse."


def sent_emails() -> list[Any]:
    return list(get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def sent_sms() -> list[tuple[str, str]]:
    return list(get_backend("sns")[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def sqs_event(*bodies: str) -> dict[str, Any]:
    """The sample event with one record per body, each with its own message id."""
    template = sample_event("notifier/status_update")["Records"][0]
    records = []
    for n, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record["messageId"] = f"message-{n}"
        record["body"] = body
        records.append(record)
    return {"Records": records}


Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def notifier(table: str, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """The handler over moto: SES with a verified sender and the template, the messenger URL set."""
    ses = boto3.client("ses", region_name=REGION)
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.create_template(Template=STATUS_UPDATE_TEMPLATE)
    monkeypatch.setenv("NOTIFY_FROM_EMAIL", SENDER)
    monkeypatch.setenv("MESSENGER_URL", MESSENGER_URL)
    from helpdesk import wiring
    from helpdesk.handlers import notifier as handler

    wiring.reset()
    return lambda event: dict(handler.lambda_handler(event, FakeLambdaContext()))


@pytest.fixture
def update_body(table: str, workspace: Workspace) -> str:
    """Carol's ticket changed state; she wants to hear everywhere."""
    stores = TableStores()
    conversations = ConversationService(stores.conversations, workspace)
    started = conversations.start(CAROL, "The lid of my blender is cracked", ORDER_CONTEXT)
    CustomerService(stores.customers).set_preferences(
        CAROL, NotificationPreferences(messenger=True, email=True, sms=True)
    )
    ticket = TicketService(stores.tickets, stores.conversations, stores.attachments, workspace).convert_conversation(
        FRONTLINE_AGENT,
        started.conversation.id,
        NewTicket(ticket_type_id="damaged-item", team_id="returns", attributes={"description": "Cracked lid"}),
    )
    return json.dumps(
        {
            "id": f"{ticket.id}-reply-1",
            "kind": "agent_reply",
            "customer_id": CAROL.user_id,
            "ticket_id": ticket.id,
            "ticket_number": ticket.number,
            "conversation_id": started.conversation.id,
            "title": "Damaged item",
            "body": SECRET_WORDS,
            "occurred_at": datetime.now(UTC).isoformat(),
        }
    )


def messenger_updates(workspace: Workspace, body: str) -> list[str]:
    conversation_id = json.loads(body)["conversation_id"]
    page = ConversationService(TableStores().conversations, workspace).page_for_customer(
        CAROL, conversation_id, after=None, limit=100
    )
    return [m.body for m in page.messages if m.author.id == "status-updates"]


def test_the_sample_event_is_processed(notifier: Invoke) -> None:
    # The sample's customer and conversation don't exist here: nothing to post, and nothing to retry
    response = notifier(sample_event("notifier/status_update"))

    assert response == {"batchItemFailures": []}
    assert sent_emails() == []


def test_a_status_update_reaches_the_customer_on_each_channel(
    notifier: Invoke, update_body: str, workspace: Workspace
) -> None:
    response = notifier(sqs_event(update_body))

    assert response == {"batchItemFailures": []}
    assert [e.destinations["ToAddresses"] for e in sent_emails()] == [["carol@example.com"]]
    assert [phone for phone, _ in sent_sms()] == ["+447700900123"]
    [posted] = messenger_updates(workspace, update_body)
    assert SECRET_WORDS in posted


def test_the_same_update_twice_in_one_batch_and_again_later_is_sent_once(
    notifier: Invoke, update_body: str, workspace: Workspace
) -> None:
    first = notifier(sqs_event(update_body, update_body))
    later = notifier(sqs_event(update_body))

    assert first == later == {"batchItemFailures": []}
    assert len(sent_emails()) == 1
    assert len(sent_sms()) == 1
    assert len(messenger_updates(workspace, update_body)) == 1


@pytest.mark.parametrize(
    "bad_body",
    [
        "not json",
        json.dumps({"id": "u1", "kind": "pigeon", "customer_id": "carol", "occurred_at": "2025-07-01T09:30:00Z"}),
        json.dumps({"kind": "state_changed"}),
    ],
    ids=["not-json", "unknown-kind", "missing-fields"],
)
def test_a_malformed_record_fails_alone(
    notifier: Invoke, update_body: str, bad_body: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = notifier(sqs_event(update_body, bad_body))

    # Then only the bad record comes back (and ends in the DLQ); the good one was delivered
    assert response == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}
    assert len(sent_emails()) == 1
    # and the log says what is wrong with it
    [warning] = [r for r in caplog.records if r.getMessage() == "malformed status update"]
    assert "message-1 is not a status update" in warning.__dict__["reason"]


def test_an_aws_error_fails_the_record_so_the_queue_retries_it(
    notifier: Invoke, update_body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given SES has no status-update template (a deployment mistake an operator can fix)
    boto3.client("ses", region_name=REGION).delete_template(TemplateName=STATUS_UPDATE_TEMPLATE["TemplateName"])

    # When the update comes, its record fails (the whole batch, as it is the only record)
    with pytest.raises(BatchProcessingError):
        notifier(sqs_event(update_body))
    assert sent_emails() == []
    # Once it is fixed, the retry sends the email
    boto3.client("ses", region_name=REGION).create_template(Template=STATUS_UPDATE_TEMPLATE)
    assert notifier(sqs_event(update_body)) == {"batchItemFailures": []}
    assert len(sent_emails()) == 1
    assert len(sent_sms()) == 1


def test_metrics_count_each_channels_outcome(
    notifier: Invoke, update_body: str, capsys: pytest.CaptureFixture[str]
) -> None:
    notifier(sqs_event(update_body, update_body))

    [blob] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counted = {name: blob[name] for name in blob if name.startswith(("messenger_", "email_", "sms_"))}
    assert counted == {
        "messenger_sent": [1.0],
        "email_sent": [1.0],
        "sms_sent": [1.0],
        "messenger_already_sent": [1.0],
        "email_already_sent": [1.0],
        "sms_already_sent": [1.0],
    }


def test_logs_say_what_happened_to_which_update_but_never_to_whom_or_what_was_said(
    notifier: Invoke, update_body: str, caplog: pytest.LogCaptureFixture
) -> None:
    notifier(sqs_event(update_body, "{broken"))

    [delivered] = [r for r in caplog.records if r.getMessage() == "status update delivered"]
    assert delivered.__dict__["update_id"] == json.loads(update_body)["id"]
    assert delivered.__dict__["outcomes"] == {"messenger": "sent", "email": "sent", "sms": "sent"}
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in ("carol@example.com", "+447700900123", SECRET_WORDS):
        assert secret not in logged


def test_a_missing_messenger_url_is_named(notifier: Invoke, update_body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpdesk import wiring
    from helpdesk.handlers import notifier as handler
    from helpdesk.settings import SettingMissing

    monkeypatch.delenv("MESSENGER_URL")
    wiring.reset()

    with pytest.raises(SettingMissing, match="MESSENGER_URL is not set"):
        handler.notifications()
