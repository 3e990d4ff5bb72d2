"""The conversation transcript on a ticket, in headless Chromium on the local runtime.

The front line talks with Alice (a reply and an internal note), converts the conversation into a ticket
for the returns team, and the returns team opens a back-office ticket serving it. Rita (returns) opens
the back-office ticket, follows its link to the ticket it serves, and reads the front line's conversation
in its "Conversation transcript" section, though the conversation itself is not her team's. What people
wrote is shown as text, never as markup. Screenshot in test-artifacts/; axe-core finds no serious problem.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.test_inbox_actions_page import browser, serious_accessibility_problems
from tests.e2e.test_messenger_page import ARTIFACTS, csp_violations

__all__ = ["browser"]
pytestmark = pytest.mark.e2e
MARKUP = "<b>not bold</b> and <img src=x onerror=alert(1)>"


def seed(base: str, local_runtime: Any) -> dict[str, Any]:
    frank = {"Authorization": f"Bearer {local_runtime.agent_token('agent-frontline', ['frontline'], name='Frank')}"}
    rita = {"Authorization": f"Bearer {local_runtime.agent_token('agent-returns', ['returns'], name='Rita')}"}
    alice = {"Authorization": f"Bearer {local_runtime.customer_token('alice', name='Alice Demo')}"}
    conversation = requests.post(
        f"{base}/messenger/conversations", headers=alice, json={"body": "The lamp shade is torn " + MARKUP}, timeout=10
    ).json()
    replies = f"{base}/inbox/conversations/{conversation['id']}/replies"
    for body in ({"body": "Sorry! I'm passing this to returns."}, {"body": "Charged twice", "internal": True}):
        assert requests.post(replies, headers=frank, json=body, timeout=10).status_code == 201
    ticket = requests.post(
        f"{base}/inbox/conversations/{conversation['id']}/ticket",
        headers=frank,
        json={
            "ticket_type_id": "damaged-item",
            "team_id": "returns",
            "attributes": {"order_id": "ORD-1002", "description": "Torn shade"},
        },
        timeout=10,
    ).json()
    back_office = requests.post(
        f"{base}/inbox/tickets",
        headers=rita,
        json={
            "ticket_type_id": "delivery-problem",
            "category": "back_office",
            "team_id": "returns",
            "linked_ticket_id": ticket["id"],
            "attributes": {"order_id": "ORD-1002", "problem": "lost"},
        },
        timeout=10,
    )
    assert back_office.status_code == 201, back_office.text
    return {"ticket": ticket, "back_office": back_office.json()}


def test_the_returns_team_reads_the_front_line_conversation_on_its_ticket(local_runtime: Any, browser: Any) -> None:
    base = local_runtime.base_url
    seeded = seed(base, local_runtime)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    blocked = csp_violations(page)

    # Given Rita of the returns team on the back-office ticket
    page.goto(f"{base}/inbox/#ticket={seeded['back_office']['id']}")
    page.get_by_role("button", name="Sign in as Rita Returns (returns)").click()
    page.wait_for_selector("body[data-ready=true]")
    page.locator("#detail-title").filter(has_text=f"#{seeded['back_office']['number']}").wait_for()

    # When she follows its link to the ticket it serves and opens the transcript there
    served = page.get_by_role("button", name="Open the ticket this one serves")
    served.wait_for()
    page.screenshot(path=str(ARTIFACTS / "inbox-back-office-serves.png"))
    problems = serious_accessibility_problems(page)
    served.click()
    page.locator("#detail-title").filter(has_text=f"#{seeded['ticket']['number']}").wait_for()
    page.locator("#transcript summary").click()

    # Then she reads what Alice and the front line wrote, the internal note marked, oldest first
    transcript = page.get_by_role("list", name="Conversation transcript")
    transcript.locator("li").filter(has_text="Charged twice").wait_for()
    texts = transcript.locator("li .body").all_inner_texts()
    assert texts[0] == "The lamp shade is torn " + MARKUP
    assert texts.index("Sorry! I'm passing this to returns.") < texts.index("Charged twice")
    assert "internal" in transcript.locator("li").filter(has_text="Charged twice").get_attribute("class")
    # And what Alice wrote stayed text: no markup of hers became an element
    assert transcript.locator("b, img").count() == 0
    page.screenshot(path=str(ARTIFACTS / "inbox-ticket-transcript.png"))
    problems += serious_accessibility_problems(page)
    context.close()

    assert problems == []
    assert blocked == [], "the inbox did something its Content-Security-Policy forbids"
