"""The inbox page's search box on the local runtime: an agent finds a ticket by its order id, a customer by
the start of her email, and a conversation by a word from its messages, and opens what they found.

The full-text part runs for real: the search indexer reads moto's table stream through the local
runtime's poller and keeps the SQLite full-text index in moto's S3, as in AWS.
"""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.test_inbox_actions_page import browser, eventually, serious_accessibility_problems  # noqa: F401
from tests.e2e.test_messenger_page import ARTIFACTS, csp_violations


def test_an_agent_finds_a_ticket_by_order_id_a_customer_by_email_and_a_conversation_by_a_word(
    local_runtime: Any,
    browser: Any,  # noqa: F811 - the fixture, imported
) -> None:
    base = local_runtime.base_url
    frank = {"Authorization": f"Bearer {local_runtime.agent_token('agent-frontline', ['frontline'], name='Frank')}"}
    customer = {
        "Authorization": "Bearer "
        + local_runtime.customer_token("search-customer", name="Greta Gardner", email="greta.gardner@example.com")
    }

    # Given Greta's conversation about her order, turned into a ticket, and a second one about a kettle
    started = requests.post(
        f"{base}/messenger/conversations", headers=customer, json={"body": "My parcel never came"}, timeout=10
    ).json()
    ticket = requests.post(
        f"{base}/inbox/conversations/{started['id']}/ticket",
        headers=frank,
        json={
            "ticket_type_id": "damaged-item",
            "team_id": "frontline",
            "attributes": {"order_id": "ORD-SEARCH-77", "description": "Box was empty"},
        },
        timeout=10,
    ).json()
    kettle = requests.post(
        f"{base}/messenger/conversations",
        headers=customer,
        json={"body": "The kettle whistles like a steam locomotive"},
        timeout=10,
    ).json()

    def found_by_words() -> bool:
        answer = requests.get(f"{base}/inbox/search", params={"q": "locomotive"}, headers=frank, timeout=10).json()
        return any(c["conversation"]["id"] == kettle["id"] for c in answer["conversations"])

    eventually(found_by_words, "the search indexer to index the kettle message", timeout=60)

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    blocked = csp_violations(page)
    page.goto(f"{base}/inbox/")
    page.get_by_role("button", name="Sign in as Frank Frontline (frontline)").click()
    page.wait_for_selector("body[data-ready=true]")
    ARTIFACTS.mkdir(exist_ok=True)
    search = page.get_by_role("searchbox", name="Search")
    results = page.get_by_role("region", name="Search results")

    # When Frank types the order id's start, the ticket is listed, and opens
    search.fill("ord-search")
    hit = results.get_by_role("button").filter(has_text=f"#{ticket['number']}")
    hit.wait_for(timeout=10_000)
    problems = {"ticket results": serious_accessibility_problems(page)}
    page.screenshot(path=str(ARTIFACTS / "inbox-search-ticket.png"))
    hit.click()
    page.locator("#detail-title").filter(has_text=f"#{ticket['number']}").wait_for(timeout=10_000)

    # When he types the start of her email, Greta is listed
    search.fill("greta.gar")
    results.get_by_role("button").filter(has_text="Greta Gardner").first.wait_for(timeout=10_000)
    assert "greta.gardner@example.com" in results.inner_text()

    # When he types a word from her message, the kettle conversation is listed as found by its words
    search.fill("locomotive")
    by_words = results.get_by_role("button").filter(has_text="found by words in messages")
    by_words.wait_for(timeout=10_000)
    assert "kettle" in by_words.inner_text()
    page.screenshot(path=str(ARTIFACTS / "inbox-search-words.png"))
    problems["conversation results"] = serious_accessibility_problems(page)
    by_words.click()
    page.locator("#timeline, .timeline").filter(has_text="steam locomotive").first.wait_for(timeout=10_000)

    # Then the page stayed accessible and within its content policy
    assert problems == {"ticket results": [], "conversation results": []}
    assert blocked == []
    context.close()
