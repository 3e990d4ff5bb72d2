"""The hosted messenger page in headless Chromium, on the local runtime.

A demo customer opens the messenger, sends a message (one carrying markup, which must show as
text), uploads a photo, sees an agent's reply appear without reloading, and follows the ticket the
agent opened in the tickets space. Screenshots are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def tiny_png() -> bytes:
    """A valid 2x2 PNG, made here so the test needs no fixture file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make setup` (or apt-get install chromium) installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def csp_violations(page: Any) -> list[str]:
    """What the page's Content-Security-Policy blocked (Chromium reports each in the console), as it happens."""
    blocked: list[str] = []

    def reported(message: Any) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    page.on("console", reported)
    return blocked


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    blocked = csp_violations(page)
    yield page
    context.close()
    assert blocked == [], "the page did something its Content-Security-Policy forbids"


def agent(local_runtime: Any, groups: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {local_runtime.agent_token(f'agent-{groups[0]}', groups)}"}


def test_a_customer_chats_uploads_a_photo_sees_the_reply_and_follows_the_ticket(
    local_runtime: Any, phone_page: Any, tmp_path: Path
) -> None:
    base = local_runtime.base_url
    user_id = "page-customer-1"
    token = local_runtime.customer_token(user_id, name="Paige Customer")
    page = phone_page

    # Given the customer opens the messenger with their app's token
    page.goto(f"{base}/messenger/#token={token}")
    page.wait_for_selector("body[data-ready=true]")

    # When they send a message that contains markup
    hostile = "<script>window.__pwned = 1</script><b>My parcel arrived damaged</b>"
    page.get_by_label("Message", exact=True).fill(hostile)
    page.get_by_role("button", name="Send").click()

    # Then it shows literally, as text, and nothing ran
    bubble = page.locator("#messages li.customer .body").first
    bubble.wait_for()
    assert bubble.inner_text() == hostile
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#messages b").count() == 0

    # When they upload a photo
    photo = tmp_path / "broken-lid.png"
    photo.write_bytes(tiny_png())
    page.set_input_files("#attach", str(photo))

    # Then it appears in the conversation as an attachment
    page.get_by_role("button", name="Download broken-lid.png").wait_for()

    # When an agent replies from the inbox, the reply appears without a reload
    frontline = agent(local_runtime, ["frontline"])
    inbox = requests.get(f"{base}/inbox/conversations", headers=frontline, timeout=10).json()
    conversation = next(c for c in inbox["items"] if c["customer"]["id"] == user_id)
    reply = requests.post(
        f"{base}/inbox/conversations/{conversation['id']}/replies",
        headers=frontline,
        json={"body": "So sorry about that! Let me open a ticket."},
        timeout=10,
    )
    assert reply.status_code == 201
    # (in the conversation itself: the home's list of recent conversations previews it too)
    thread = page.get_by_role("list", name="Conversation")
    thread.get_by_text("So sorry about that! Let me open a ticket.").wait_for(timeout=10_000)

    # And when the agent opens a ticket for them, the customer follows it in the tickets space
    converted = requests.post(
        f"{base}/inbox/conversations/{conversation['id']}/ticket",
        headers=frontline,
        json={
            "ticket_type_id": "damaged-item",
            "team_id": "returns",
            "attributes": {"order_id": "ORD-1001", "description": "Lid cracked", "carrier_ref": "SECRET-REF"},
        },
        timeout=10,
    )
    assert converted.status_code == 201, converted.text
    number = converted.json()["number"]
    thread.get_by_text(f"ticket #{number}").wait_for(timeout=10_000)
    page.get_by_role("tab", name="My tickets").click()
    ticket_button = page.locator("#ticket-list button").filter(has_text=f"#{number}")
    ticket_button.wait_for()
    assert "Received" in ticket_button.inner_text()
    ticket_button.click()
    page.locator("#ticket-detail").wait_for()
    assert page.locator("#ticket-state").inner_text() == "Received"
    detail_text = page.locator("#ticket-detail").inner_text()
    assert "ORD-1001" in detail_text
    assert "SECRET-REF" not in detail_text
    assert "New damage report" not in detail_text  # the internal state label

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "messenger-ticket.png"), full_page=True)
    page.get_by_role("tab", name="Chat").click()
    page.screenshot(path=str(ARTIFACTS / "messenger-chat.png"), full_page=True)
    assert (ARTIFACTS / "messenger-chat.png").stat().st_size > 0


def test_the_customer_rates_a_resolved_ticket_from_the_page(local_runtime: Any, phone_page: Any) -> None:
    base = local_runtime.base_url
    user_id = "page-customer-2"
    token = local_runtime.customer_token(user_id)
    customer = {"Authorization": f"Bearer {token}"}
    started = requests.post(
        f"{base}/messenger/conversations", headers=customer, json={"body": "Refund please"}, timeout=10
    )
    frontline = agent(local_runtime, ["frontline"])
    ticket = requests.post(
        f"{base}/inbox/conversations/{started.json()['id']}/ticket",
        headers=frontline,
        json={
            "ticket_type_id": "refund-request",
            "attributes": {"order_id": "O-9", "amount": "12.50", "reason": "charged-twice"},
        },
        timeout=10,
    ).json()
    billing = agent(local_runtime, ["billing"])
    resolved = requests.patch(
        f"{base}/inbox/tickets/{ticket['id']}",
        headers=billing,
        json={"version": ticket["version"], "state_id": "refunded"},
        timeout=10,
    )
    assert resolved.status_code == 200, resolved.text

    page = phone_page
    page.goto(f"{base}/messenger/#token={token}")
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_role("tab", name="My tickets").click()
    page.locator("#ticket-list button").filter(has_text=f"#{ticket['number']}").click()
    page.get_by_role("radio", name="5").check()
    page.get_by_label("Anything to add? (optional)").fill("Fast refund, thanks")
    page.get_by_role("button", name="Send rating").click()

    page.get_by_text("Thanks! You rated this 5/5.").wait_for()
    stored = requests.get(f"{base}/messenger/tickets/{ticket['id']}", headers=customer, timeout=10).json()
    assert stored["rating"]["score"] == 5


def test_the_link_in_a_status_update_opens_that_ticket(local_runtime: Any, phone_page: Any) -> None:
    base = local_runtime.base_url
    token = local_runtime.customer_token("page-customer-3")
    started = requests.post(
        f"{base}/messenger/conversations",
        headers={"Authorization": f"Bearer {token}"},
        json={"body": "Where is my parcel?"},
        timeout=10,
    )
    ticket = requests.post(
        f"{base}/inbox/conversations/{started.json()['id']}/ticket",
        headers=agent(local_runtime, ["frontline"]),
        json={"ticket_type_id": "damaged-item", "attributes": {"order_id": "ORD-1003", "description": "Dented box"}},
        timeout=10,
    ).json()

    # The email's link: the messenger page with ?ticket=<id>
    phone_page.goto(f"{base}/messenger/?ticket={ticket['id']}#token={token}")
    phone_page.wait_for_selector("body[data-ready=true]")
    phone_page.locator("#ticket-detail").wait_for()
    assert f"#{ticket['number']}" in phone_page.locator("#ticket-heading").inner_text()
    assert phone_page.locator("#ticket-list").is_hidden()


def test_an_anonymous_visitor_can_chat_from_the_embedded_launcher(local_runtime: Any, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    blocked = csp_violations(page)
    page.goto(f"{local_runtime.base_url}/messenger/demo.html")

    page.get_by_role("button", name="Open support messenger").click()
    frame = page.frame_locator("iframe[title='Support messenger']")
    frame.locator("body[data-ready=true]").wait_for()
    frame.get_by_label("Message", exact=True).fill("Do you ship to Norway?")
    frame.get_by_role("button", name="Send").click()

    frame.locator("#messages li.customer").filter(has_text="Do you ship to Norway?").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "messenger-embedded.png"))
    context.close()
    assert blocked == []


UNLABELLED_CONTROLS = """
() => Array.from(document.querySelectorAll('button, input, textarea, select, [role=tab]'))
  .filter(el => {
    const style = getComputedStyle(el);
    if (el.type === 'hidden') return false;
    const named = (el.getAttribute('aria-label') || '').trim()
      || (el.labels && Array.from(el.labels).some(l => l.textContent.trim()))
      || (el.textContent || '').trim()
      || el.getAttribute('title');
    return !named;
  })
  .map(el => el.outerHTML.slice(0, 80))
"""


def test_the_messenger_is_usable_with_a_keyboard_and_every_control_is_named(
    local_runtime: Any, phone_page: Any
) -> None:
    page = phone_page
    page.goto(f"{local_runtime.base_url}/messenger/#token={local_runtime.customer_token('keyboard-user')}")
    page.wait_for_selector("body[data-ready=true]")

    assert page.evaluate(UNLABELLED_CONTROLS) == []

    # Type and send with the keyboard only
    page.get_by_label("Message", exact=True).focus()
    page.keyboard.type("Typed with the keyboard")
    page.keyboard.press("Enter")
    page.locator("#messages li.customer").filter(has_text="Typed with the keyboard").wait_for()

    # Move between the tabs with the arrow keys
    page.get_by_role("tab", name="Chat").focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="My tickets").get_attribute("aria-selected") == "true"
    assert page.locator("#panel-tickets").is_visible()
    assert not page.locator("#panel-chat").is_visible()


def test_the_api_documentation_renders_under_its_content_security_policy(local_runtime: Any, phone_page: Any) -> None:
    # Swagger UI is served inline by the API function; its answer allows exactly those blocks by hash
    phone_page.goto(f"{local_runtime.base_url}/messenger/docs")

    phone_page.get_by_text("/messenger/conversations/{conversation_id}/messages").first.wait_for()
    # (the fixture fails the test if the policy blocked anything)
