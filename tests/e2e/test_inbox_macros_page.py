"""The composer's macros, in headless Chromium on the local runtime.

An agent of returns opens a customer's damaged-item ticket, types "/" in the reply box, picks the
workspace's "Replacement sent - resolve" macro, sees its reply rendered with the customer's first
name and what it will change, and applies it: the customer gets the reply and the ticket is
resolved, in one step; the ticket then shows its new tag and is listed under it. Screenshots go to
test-artifacts/; each state is scanned with axe-core.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.test_inbox_actions_page import browser, eventually, serious_accessibility_problems
from tests.e2e.test_messenger_page import ARTIFACTS, csp_violations

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the module's Chromium, shared with the actions page's test


def test_an_agent_applies_a_macro_that_replies_with_the_first_name_and_resolves_the_ticket(
    local_runtime: Any, browser: Any
) -> None:
    base = local_runtime.base_url
    frank = {"Authorization": f"Bearer {local_runtime.agent_token('agent-frontline', ['frontline'], name='Frank')}"}
    rita = {"Authorization": f"Bearer {local_runtime.agent_token('agent-returns', ['returns'], name='Rita')}"}
    customer = {"Authorization": f"Bearer {local_runtime.customer_token('macro-customer', name='Maya Okafor')}"}

    # Given Maya's damaged-item ticket with the returns team
    started = requests.post(
        f"{base}/messenger/conversations", headers=customer, json={"body": "My vase came in pieces"}, timeout=10
    ).json()
    ticket = requests.post(
        f"{base}/inbox/conversations/{started['id']}/ticket",
        headers=frank,
        json={
            "ticket_type_id": "damaged-item",
            "team_id": "returns",
            "title": "Broken vase ORD-MACRO",
            "attributes": {"order_id": "ORD-MACRO", "description": "Vase shattered"},
        },
        timeout=10,
    ).json()
    assert ticket["state"]["category"] == "submitted", ticket

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    blocked = csp_violations(page)
    page.goto(f"{base}/inbox/")
    page.get_by_role("button", name="Sign in as Rita Returns (returns)").click()
    page.wait_for_selector("body[data-ready=true]")
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, list[str]] = {}
    page.get_by_role("button", name="New", exact=True).click()
    page.locator("#items button").filter(has_text="Broken vase ORD-MACRO").click()
    page.locator("#timeline li").first.wait_for()

    # When she types "/" and a few letters of the macro's name, and picks it from the list
    reply_box = page.get_by_label("Reply", exact=True)
    reply_box.fill("/repl")
    option = page.locator("#macro-options button").filter(has_text="Replacement sent - resolve")
    option.wait_for()
    page.screenshot(path=str(ARTIFACTS / "inbox-macro-picker.png"))
    problems["macro picker"] = serious_accessibility_problems(page)
    reply_box.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.macroId") == "replacement-sent-resolve"
    page.keyboard.press("Enter")

    # Then the preview shows the reply with Maya's first name and what the macro will change
    preview = page.get_by_role("region", name="Macro: Replacement sent - resolve")
    preview.wait_for()
    rendered = page.locator("#macro-preview-body").inner_text()
    assert rendered.startswith("Hi Maya, your replacement is on its way")
    assert f"ticket #{ticket['number']}" in rendered
    assert "State: Replaced" in preview.inner_text()
    assert "Tags: resolved-by-macro" in preview.inner_text()
    page.screenshot(path=str(ARTIFACTS / "inbox-macro-preview.png"))
    problems["macro preview"] = serious_accessibility_problems(page)
    unchanged = requests.get(f"{base}/inbox/tickets/{ticket['id']}", headers=rita, timeout=10).json()
    assert unchanged["version"] == ticket["version"], "a preview stores nothing"

    # When she applies it, the reply and the resolution happen in one step
    page.get_by_role("button", name="Apply macro").click()

    def resolved_ticket() -> dict[str, Any] | None:
        found = dict(requests.get(f"{base}/inbox/tickets/{ticket['id']}", headers=rita, timeout=10).json())
        return found if found["state"]["category"] == "resolved" else None

    resolved = eventually(resolved_ticket, "the ticket to be resolved")
    assert resolved["version"] == ticket["version"] + 1
    assert resolved["tags"] == ["resolved-by-macro"]
    page.locator("#timeline li").filter(has_text="Hi Maya, your replacement").wait_for()
    assert preview.is_hidden()
    assert reply_box.input_value() == ""
    page.get_by_role("group", name="Tags").get_by_role("button", name="Remove tag resolved-by-macro").wait_for()

    # And the ticket is listed under its new tag (the "Tagged" view), with the tag shown
    page.get_by_label("Tagged").select_option("tickets:resolved-by-macro")
    listed = page.locator("#items button").filter(has_text="Broken vase ORD-MACRO")
    listed.filter(has_text="#resolved-by-macro").wait_for()
    assert page.locator("#list-title").inner_text() == "Tickets: #resolved-by-macro"
    page.screenshot(path=str(ARTIFACTS / "inbox-macro-applied.png"))
    problems["macro applied"] = serious_accessibility_problems(page)

    # And Maya sees the reply on her ticket
    mine = requests.get(f"{base}/messenger/tickets/{ticket['id']}", headers=customer, timeout=10).json()
    assert any((p["body"] or "").startswith("Hi Maya, your replacement") for p in mine["timeline"])

    context.close()
    assert blocked == [], "the inbox did something its Content-Security-Policy forbids"
    assert {state: found for state, found in problems.items() if found} == {}
