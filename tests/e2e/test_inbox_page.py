"""The inbox page in headless Chromium, on the local runtime.

A frontline agent signs in, sees a customer's new conversation with its context, replies, adds an
internal note, watches the customer's next message appear without reloading, converts the
conversation into a ticket and then works it as the returns agent. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.test_messenger_page import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, csp_violations

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make setup` (or apt-get install chromium) installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def test_an_agent_works_a_conversation_into_a_ticket_from_the_inbox_page(local_runtime: Any, browser: Any) -> None:
    base = local_runtime.base_url
    customer = {"Authorization": f"Bearer {local_runtime.customer_token('inbox-page-customer', name='Iris Page')}"}
    started = requests.post(
        f"{base}/messenger/conversations",
        headers=customer,
        json={
            "body": "My teapot arrived in pieces",
            "context": {"page_url": "https://shop.example.com/o/9", "object": {"type": "order", "id": "ORD-9"}},
        },
        timeout=10,
    ).json()

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    blocked = csp_violations(page)
    page.goto(f"{base}/inbox/")
    page.get_by_role("button", name="Sign in as Frank Frontline (frontline)").click()
    page.wait_for_selector("body[data-ready=true]")

    # The conversation is in the frontline view, with who and where
    page.locator("#items button").filter(has_text="Iris Page").click()
    page.locator("#timeline li").filter(has_text="My teapot arrived in pieces").wait_for()
    assert "order ORD-9" in page.locator("#context-fields").inner_text()

    # Reply, and a note the customer never sees
    page.get_by_label("Reply", exact=True).fill("So sorry! Let me sort this out.")
    page.get_by_role("button", name="Send").click()
    page.locator("#timeline li").filter(has_text="So sorry! Let me sort this out.").wait_for()
    page.get_by_label("Reply", exact=True).fill("NOTE-FROM-PAGE check stock")
    page.get_by_label("Internal note").check()
    page.get_by_role("button", name="Send").click()
    page.locator("#timeline li.internal").filter(has_text="NOTE-FROM-PAGE").wait_for()

    # The customer's next message shows up without a reload
    requests.post(
        f"{base}/messenger/conversations/{started['id']}/messages",
        headers=customer,
        json={"body": "It was a gift :("},
        timeout=10,
    )
    page.locator("#timeline li").filter(has_text="It was a gift :(").wait_for(timeout=10_000)

    # Convert into a damaged-item ticket for returns
    page.locator("#convert summary").click()
    page.locator("#convert-type").select_option("damaged-item")
    page.locator("#convert-attributes [name=description]").fill("Teapot in pieces")
    page.get_by_role("button", name="Create ticket").click()
    page.locator("#timeline li").filter(has_text="opened ticket #").wait_for(timeout=10_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox-conversation.png"))

    seen = requests.get(f"{base}/messenger/conversations/{started['id']}", headers=customer, timeout=10).json()
    assert "NOTE-FROM-PAGE" not in str(seen)
    assert seen["ticket_id"]

    # The returns agent finds it in New tickets and moves it on
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in as Rita Returns (returns)").click()
    page.get_by_role("button", name="New", exact=True).click()
    # (by its number: other tickets may be in the view, and arrive in it live while the agent looks)
    number = requests.get(f"{base}/messenger/tickets/{seen['ticket_id']}", headers=customer, timeout=10).json()[
        "number"
    ]
    ours = page.locator("#items button").filter(has_text=f"#{number} ")
    ours.click()
    page.locator("#ticket-state").wait_for(state="visible", timeout=15_000)
    page.locator("#ticket-state").select_option("assessing")
    page.get_by_role("button", name="Save changes").click()
    ours.wait_for(state="detached", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "inbox-ticket.png"))
    mine = requests.get(f"{base}/messenger/tickets/{seen['ticket_id']}", headers=customer, timeout=10).json()
    assert mine["state"]["label"] == "We're looking into it"
    context.close()
    assert blocked == [], "the inbox did something its Content-Security-Policy forbids"
