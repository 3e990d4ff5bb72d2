"""The email channel on the local runtime, as people use it: customers write with Python's smtplib to
the SMTP server that plays SES receiving, agents answer from the inbox, the answers leave through the
embedded SES (read back from the outbox), links in emails open the messenger in a fresh browser, and
machines' mail creates nothing. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
import smtplib
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from helpdesk.auth.email_keys import EmailKeys
from helpdesk.auth.link_tokens import LinkPurpose, issue_link
from localrt.settings import DEFAULT_EMAIL_SECRET

from tests.e2e.conftest import LocalRuntime
from tests.e2e.test_messenger_page import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, tiny_png

pytestmark = pytest.mark.e2e

SUPPORT = "support@demo-shop.example"


def eventually[T](probe: Callable[[], T | None], what: str, timeout: float = 45) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


def send(runtime: LocalRuntime, message: EmailMessage, to: list[str] | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", runtime.smtp_port, timeout=10) as smtp:
        smtp.send_message(message, to_addrs=to)


def new_email(sender: str, subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.net")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def answer(sent: dict[str, Any], sender: str, words: str) -> EmailMessage:
    """The customer's client answering an email we sent: To its Reply-To, quoting it, threaded."""
    quoted = "\n".join(f"> {line}" for line in sent["text"].splitlines())
    message = new_email(
        sender, f"Re: {sent['subject']}", f"{words}\n\nOn Mon, 9 Mar 2026, Demo Shop wrote:\n{quoted}\n"
    )
    message.replace_header("To", sent["reply_to"])
    message["In-Reply-To"] = sent["message_id"]
    message["References"] = " ".join([*sent["references"], sent["message_id"]])
    return message


def agent(runtime: LocalRuntime, team: str = "email") -> dict[str, str]:
    return {"Authorization": f"Bearer {runtime.agent_token(f'agent-{team}', [team, 'returns'], name='Sam')}"}


def outbox(runtime: LocalRuntime) -> dict[str, Any]:
    return dict(requests.get(f"{runtime.base_url}/_local/outbox", timeout=10).json())


def sent_to(runtime: LocalRuntime, address: str) -> list[dict[str, Any]]:
    return [
        mail
        for thread in outbox(runtime)["mail_threads"]
        for mail in thread["messages"]
        if mail["direction"] == "out" and address in mail["to"]
    ]


def email_conversation(runtime: LocalRuntime, address: str) -> dict[str, Any] | None:
    listed = requests.get(
        f"{runtime.base_url}/inbox/conversations?team_id=email&limit=100", headers=agent(runtime), timeout=10
    ).json()
    return next((c for c in listed["items"] if (c["customer"].get("email") or "") == address), None)


def messages(runtime: LocalRuntime, conversation_id: str) -> list[dict[str, Any]]:
    page = requests.get(f"{runtime.base_url}/inbox/conversations/{conversation_id}", headers=agent(runtime), timeout=10)
    return list(page.json()["messages"])


def test_an_email_from_a_new_address_becomes_a_conversation_and_the_thread_goes_both_ways(
    local_runtime: LocalRuntime,
) -> None:
    base, sender = local_runtime.base_url, f"frank-{uuid.uuid4().hex[:8]}@example.net"
    # Given a new customer emails support, with a photo of the damage
    first = new_email(sender, "Dented lamp", "Hello,\n\nmy lamp arrived dented.\n\nFrank")
    first.add_attachment(tiny_png(), maintype="image", subtype="png", filename="dent.png")
    send(local_runtime, first)

    # Then the email team sees a conversation from them, with the photo
    conversation = eventually(lambda: email_conversation(local_runtime, sender), "the email conversation")
    [opening] = messages(local_runtime, conversation["id"])
    assert opening["body"] == "Hello,\n\nmy lamp arrived dented.\n\nFrank"
    assert [a["filename"] for a in opening["attachments"]] == ["dent.png"]

    # When an agent answers from the inbox
    reply = requests.post(
        f"{base}/inbox/conversations/{conversation['id']}/replies",
        headers=agent(local_runtime),
        json={"body": "So sorry! We'll send a new one today."},
        timeout=10,
    )
    assert reply.status_code == 201

    # Then the answer leaves as an email answering theirs
    [sent] = eventually(lambda: sent_to(local_runtime, sender), "the agent's email")
    assert sent["in_reply_to"] == first["Message-ID"]
    assert sent["subject"] == "Re: Dented lamp"
    assert "So sorry! We'll send a new one today." in sent["text"]
    assert sent["reply_to"].startswith("support+")

    # And their answer to it, quoted history and all, lands on the same conversation without the quote
    send(local_runtime, answer(sent, sender, "Thank you, green please."))
    last = eventually(
        lambda: [m for m in messages(local_runtime, conversation["id"]) if m["body"] == "Thank you, green please."],
        "the customer's answer",
    )
    assert last
    assert all("> " not in m["body"] for m in messages(local_runtime, conversation["id"]))


@pytest.fixture(scope="module")
def alice(local_runtime: LocalRuntime) -> dict[str, Any]:
    """A messenger customer (her app signed her email) whose conversation became a ticket: its status email."""
    user = f"alice-{uuid.uuid4().hex[:8]}"
    address = f"{user}@example.com"
    token = local_runtime.customer_token(user, email=address, name="Alice Jones")
    headers = {"Authorization": f"Bearer {token}"}
    base = local_runtime.base_url
    conversation = requests.post(
        f"{base}/messenger/conversations", headers=headers, json={"body": "My mug arrived cracked"}, timeout=10
    ).json()
    ticket = requests.post(
        f"{base}/inbox/conversations/{conversation['id']}/ticket",
        headers=agent(local_runtime, "frontline"),
        json={"ticket_type_id": "damaged-item", "attributes": {"order_id": "ORD-1001", "description": "cracked"}},
        timeout=10,
    ).json()
    [status_email] = eventually(lambda: sent_to(local_runtime, address), "the ticket's status email")
    return {"user": user, "address": address, "ticket": ticket, "email": status_email, "token": token}


def ticket_replies(runtime: LocalRuntime, ticket_id: str) -> list[str]:
    detail = requests.get(f"{runtime.base_url}/inbox/tickets/{ticket_id}", headers=agent(runtime), timeout=10).json()
    return [p["body"] for p in detail["timeline"] if p["type"] == "reply"]


def test_a_reply_to_a_ticket_status_email_lands_on_the_ticket_and_a_forged_one_does_not(
    local_runtime: LocalRuntime, alice: dict[str, Any]
) -> None:
    ticket, status_email = alice["ticket"], alice["email"]
    assert status_email["subject"] == f"[#{ticket['number']}] {ticket['title']}"
    assert "Hi Alice," in status_email["text"]

    # A stranger answers with a forged reply address: it must not touch the ticket
    forged_address = re.sub(r"\+(\w{44})\w{4}@", r"+\1aaaa@", status_email["reply_to"])
    forged = answer(status_email, "mallory@example.org", "Refund me to this other card.")
    forged.replace_header("To", forged_address)
    send(local_runtime, forged)
    # Alice answers it from her mail client
    send(local_runtime, answer(status_email, alice["address"], "The handle broke off too."))

    eventually(lambda: "The handle broke off too." in ticket_replies(local_runtime, ticket["id"]), "Alice's reply")
    assert "Refund me to this other card." not in " ".join(ticket_replies(local_runtime, ticket["id"]))
    stranger = eventually(lambda: email_conversation(local_runtime, "mallory@example.org"), "the stranger's email")
    notes = [m["body"] for m in messages(local_runtime, stranger["id"]) if m["internal"]]
    assert any("reply address that isn't one of ours" in n for n in notes)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def open_link(browser: Any, url: str, shot: str) -> Any:
    """A fresh browser (no session, nothing stored) opening the link, as from a mail client."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    return page


def test_the_status_email_link_opens_the_ticket_in_a_fresh_browser_once_then_offers_a_new_link(
    local_runtime: LocalRuntime, alice: dict[str, Any], browser: Any
) -> None:
    ticket, status_email = alice["ticket"], alice["email"]
    link = next(u for u in re.findall(r"https?://\S+", status_email["text"]) if "link=" in u and "ticket=" in u)

    # Opened in a fresh browser, the link shows that ticket, with no other sign-in
    page = open_link(browser, link, "email-link-opens-ticket.png")
    page.locator("#ticket-detail").wait_for()
    assert page.locator("#ticket-heading").inner_text().startswith(f"#{ticket['number']}")
    assert "link=" not in page.url, "the used token doesn't stay in the address bar"
    page.context.close()

    # The same link again (another browser): it explains, and offers a new link, which goes out by email
    before = len(sent_to(local_runtime, alice["address"]))
    again = open_link(browser, link, "email-link-used.png")
    notice = again.locator("#link-notice")
    notice.wait_for()
    assert "already used" in notice.inner_text()
    again.get_by_role("button", name="Email me a new link").click()
    again.get_by_text("on its way").wait_for()
    again.screenshot(path=str(ARTIFACTS / "email-link-renewed.png"), full_page=True)
    again.context.close()
    fresh = eventually(lambda: sent_to(local_runtime, alice["address"])[before:], "the fresh link's email")
    assert "Your new link" in fresh[0]["subject"]


def test_an_expired_link_explains_itself_and_offers_a_new_one(
    local_runtime: LocalRuntime, alice: dict[str, Any], browser: Any
) -> None:
    ticket = alice["ticket"]
    expired = issue_link(
        EmailKeys.from_secret(DEFAULT_EMAIL_SECRET),
        customer_id=alice["user"],
        purpose=LinkPurpose.TICKET,
        subject_id=ticket["id"],
        ttl_seconds=60,
        now=time.time() - 7200,
    )

    page = open_link(
        browser, f"{local_runtime.base_url}/messenger/?ticket={ticket['id']}&link={expired}", "email-link-expired.png"
    )

    notice = page.locator("#link-notice")
    notice.wait_for()
    assert "expired" in notice.inner_text()
    assert page.get_by_role("button", name="Email me a new link").is_visible()
    page.context.close()


def test_a_score_link_in_the_resolution_email_records_the_rating_once(
    local_runtime: LocalRuntime, alice: dict[str, Any]
) -> None:
    base, ticket = local_runtime.base_url, alice["ticket"]
    returns = agent(local_runtime, "returns")
    current = requests.get(f"{base}/inbox/tickets/{ticket['id']}", headers=returns, timeout=10).json()
    resolved = requests.patch(
        f"{base}/inbox/tickets/{ticket['id']}",
        headers=returns,
        json={"version": current["version"], "state_id": "replaced"},
        timeout=10,
    )
    assert resolved.status_code == 200, resolved.text

    resolution = eventually(
        lambda: [m for m in sent_to(local_runtime, alice["address"]) if "is resolved" in m["subject"]],
        "the resolution email",
    )[0]
    # "  4: https://...", one line per score (the labels of 1 and 5 say what they mean)
    score_links = {
        int(score): url
        for score, url in re.findall(r"^\s*([1-5])(?: - [^:]+)?: (https?://\S+)$", resolution["text"], re.M)
    }
    assert sorted(score_links) == [1, 2, 3, 4, 5]

    def exchange(url: str) -> dict[str, Any]:
        query = parse_qs(urlsplit(url).query)
        answer = requests.post(
            f"{base}/messenger/links", json={"ticket_id": query["ticket"][0], "link": query["link"][0]}, timeout=10
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    four = exchange(score_links[4])
    two = exchange(score_links[2])

    assert (four["rating"]["score"], four["rated_now"]) == (4, True)
    assert (two["rating"]["score"], two["rated_now"]) == (4, False)
    assert len([m for m in sent_to(local_runtime, alice["address"]) if "is resolved" in m["subject"]]) == 1
    assert not [m for m in sent_to(local_runtime, alice["address"]) if "How did we do" in m["subject"]]


def test_auto_replies_and_bounces_create_nothing(local_runtime: LocalRuntime) -> None:
    away = new_email(
        "bob-away@example.org", "Automatic reply: your ticket", "Out until Monday", Auto_Submitted="auto-replied"
    )
    bounce = new_email("MAILER-DAEMON@mx.example.org", "Undelivered Mail Returned to Sender", "550 no such user")
    bounce["Return-Path"] = "<>"
    send(local_runtime, away)
    send(local_runtime, bounce)

    def outcomes() -> list[str]:
        received = [
            m
            for t in outbox(local_runtime)["mail_threads"]
            for m in t["messages"]
            if m["direction"] == "in" and m["message_id"] in (away["Message-ID"], bounce["Message-ID"])
        ]
        return [str(m["outcome"]) for m in received if m["outcome"] not in (None, "not handled yet", "receiving")]

    assert sorted(eventually(lambda: outcomes() if len(outcomes()) == 2 else None, "both handled")) == [
        "automated",
        "automated",
    ]
    assert email_conversation(local_runtime, "bob-away@example.org") is None
    assert email_conversation(local_runtime, "mailer-daemon@mx.example.org") is None


def test_a_complaint_suppresses_further_email_and_agents_see_why(local_runtime: LocalRuntime) -> None:
    base = local_runtime.base_url
    # SES's mailbox simulator: mail to this address comes back as a complaint
    sender = f"complaint+{uuid.uuid4().hex[:6]}@simulator.amazonses.com"
    send(local_runtime, new_email(sender, "Where is my order?", "Order ORD-1002 hasn't arrived."))
    conversation = eventually(lambda: email_conversation(local_runtime, sender), "the conversation")

    def reply(words: str) -> None:
        answered = requests.post(
            f"{base}/inbox/conversations/{conversation['id']}/replies",
            headers=agent(local_runtime),
            json={"body": words},
            timeout=10,
        )
        assert answered.status_code == 201

    reply("It left our warehouse today.")
    eventually(lambda: sent_to(local_runtime, sender), "the first reply's email")
    view = eventually(
        lambda: (
            v
            if (
                v := requests.get(
                    f"{base}/inbox/conversations/{conversation['id']}/email", headers=agent(local_runtime), timeout=10
                ).json()
            )["suppressed"]
            else None
        ),
        "the complaint's suppression",
    )
    assert view["suppressed"]["reason"] == "complaint"

    reply("Tracking: 3SDEMO1.")
    eventually(
        lambda: [
            m for m in messages(local_runtime, conversation["id"]) if m["internal"] and "not emailed" in m["body"]
        ],
        "the note that the reply wasn't emailed",
    )
    assert len(sent_to(local_runtime, sender)) == 1


def test_the_outbox_page_shows_mail_as_threads_and_previews_every_template(
    local_runtime: LocalRuntime, browser: Any
) -> None:
    # (its own email, so it shows a thread whichever tests ran before it on this runtime)
    send(local_runtime, new_email("olive@example.net", "Outbox page", "Is my order on its way?"))
    eventually(lambda: outbox(local_runtime)["mail_threads"], "the email in the outbox")
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{local_runtime.base_url}/_local/outbox.html")
    page.get_by_role("heading", name="Email templates (previews with sample values)").wait_for()
    page.screenshot(path=str(Path(ARTIFACTS) / "outbox-email-threads.png"), full_page=False)

    assert page.locator("section.thread").count() >= 1
    assert page.locator("details").count() >= 16, "8 events in 2 locales"
    context.close()
