"""The customer profile, the keyboard shortcuts and the phone layout of the inbox, in headless Chromium.

On the local runtime (with its demo order system): a front-line agent opens Alice's conversation,
opens her profile beside it (her rated ticket, her conversations, her CSAT) and runs her recent
orders from it; the shortcuts' help opens with ``?`` and ``j`` opens the next item. Then, at 390x844,
the list and the conversation are separate screens, neither scrolls sideways, the composer is in
view, and the profile opens over the conversation. Screenshots go to test-artifacts/; each state is
scanned with axe-core (no serious or critical violation).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.test_inbox_actions_page import browser, eventually, serious_accessibility_problems
from tests.e2e.test_messenger_page import ARTIFACTS, csp_violations

__all__ = ["browser"]
pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def seed_alice(base: str, local_runtime: Any) -> dict[str, Any]:
    """Alice (demo-customer-1 in the order system): a cracked-teapot ticket she rated, and a newer question."""
    frank = {"Authorization": f"Bearer {local_runtime.agent_token('agent-frontline', ['frontline'], name='Frank')}"}
    token = local_runtime.customer_token("demo-customer-1", name="Alice Demo", email="alice@example.com")
    alice = {"Authorization": f"Bearer {token}"}
    cracked = requests.post(
        f"{base}/messenger/conversations", headers=alice, json={"body": "My teapot arrived cracked"}, timeout=10
    ).json()
    ticket = requests.post(
        f"{base}/inbox/conversations/{cracked['id']}/ticket",
        headers=frank,
        json={
            "ticket_type_id": "damaged-item",
            "team_id": "frontline",
            "attributes": {"order_id": "ORD-1001", "description": "Crack along the spout"},
        },
        timeout=10,
    ).json()
    resolved = requests.patch(
        f"{base}/inbox/tickets/{ticket['id']}",
        headers=frank,
        json={"version": ticket["version"], "state_id": "replaced"},
        timeout=10,
    )
    assert resolved.status_code == 200, resolved.text
    rated = requests.post(
        f"{base}/messenger/tickets/{ticket['id']}/rating",
        headers=alice,
        json={"score": 5, "comment": "Replaced in two days"},
        timeout=10,
    )
    assert rated.status_code == 201, rated.text
    question = requests.post(
        f"{base}/messenger/conversations",
        headers=alice,
        json={"body": "When does my desk lamp (order ORD-1002) arrive? " + "I really need it for work. " * 6},
        timeout=10,
    ).json()
    return {"ticket": ticket, "question": question}


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def composer_in_view(page: Any) -> bool:
    return bool(
        page.evaluate(
            """() => { const r = document.getElementById('composer').getBoundingClientRect();
                      return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight
                        && r.right <= window.innerWidth; }"""
        )
    )


def sign_in_as_frank(page: Any, base: str) -> None:
    page.goto(f"{base}/inbox/")
    page.get_by_role("button", name="Sign in as Frank Frontline (frontline)").click()
    page.wait_for_selector("body[data-ready=true]")


def test_the_profile_shortcuts_and_phone_layout_of_the_inbox(local_runtime: Any, browser: Any) -> None:
    base = local_runtime.base_url
    seeded = seed_alice(base, local_runtime)
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, list[str]] = {}

    # Given a front-line agent at a desk, on Alice's newest conversation
    desk = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = desk.new_page()
    blocked = csp_violations(page)
    sign_in_as_frank(page, base)
    page.locator("#items button").filter(has_text="desk lamp").first.click()
    page.locator("#timeline li").filter(has_text="desk lamp").wait_for()

    # When they open her profile beside it
    page.get_by_role("button", name="Customer profile").click()
    profile = page.get_by_role("complementary", name="Alice Demo")
    profile.wait_for()

    # Then it shows who she is, her rated ticket, her conversations and the CSAT she gave
    profile.get_by_text("Signed in by our app").wait_for()
    assert "alice@example.com" in profile.inner_text()
    profile.get_by_role("button", name=f"#{seeded['ticket']['number']} {seeded['ticket']['title']}").wait_for()
    assert "5/5 on #" in profile.inner_text()
    assert "Replaced in two days" in profile.inner_text()
    assert profile.locator("button.profile-link").filter(has_text="desk lamp").count() == 1

    # And her recent orders come from the order system, as her: her three orders, nobody else's
    profile.get_by_role("button", name="Run recent orders").click()
    orders = profile.locator(".profile-records")
    orders.wait_for(timeout=15_000)
    numbers = orders.locator("li strong").all_inner_texts()
    assert sorted(numbers) == ["ORD-1001", "ORD-1002", "ORD-1003"]
    assert "ORD-1004" not in orders.inner_text()
    page.screenshot(path=str(ARTIFACTS / "inbox-profile.png"))
    problems["desk: profile with recent orders"] = serious_accessibility_problems(page)

    # Converting starts from a draft: her first message as the title, the order she mentioned, marked to check
    page.locator("#convert summary").click()
    page.get_by_label("Type").select_option("damaged-item")
    page.wait_for_function("() => document.getElementById('convert-title').value.startsWith('When does my desk lamp')")
    order_field = page.locator("#convert-attributes [name='order_id']")
    eventually(lambda: order_field.input_value() == "ORD-1002", "the order Alice mentioned to be suggested")
    assert "the customer's words" in page.locator("#convert-attributes .draft-hint").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "inbox-convert-draft.png"))
    problems["desk: convert draft"] = serious_accessibility_problems(page)
    page.locator("#convert summary").click()

    # The shortcuts: ? shows the help, Escape closes it, j opens the next item of the list
    page.locator("#timeline").click()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_dialog.wait_for()
    page.screenshot(path=str(ARTIFACTS / "inbox-shortcuts.png"))
    problems["desk: shortcuts help"] = serious_accessibility_problems(page)
    page.keyboard.press("Escape")
    help_dialog.wait_for(state="hidden")
    opened = "document.querySelector('#items button[aria-current=true]').dataset.id"
    before = page.evaluate(opened)
    page.keyboard.press("j")
    eventually(lambda: page.evaluate(opened) != before, "j to open the next item")
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "reply-input"
    assert page.locator("#internal").is_checked()
    desk.close()

    # At 390x844, the list is one screen
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = phone.new_page()
    blocked += csp_violations(page)
    sign_in_as_frank(page, base)
    page.locator("#items button").filter(has_text="desk lamp").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "inbox-phone-list.png"))
    assert no_sideways_scroll(page), "the list scrolls sideways at 390 px"
    assert not page.locator("#detail").is_visible()
    problems["phone: list"] = serious_accessibility_problems(page)

    # and the conversation another, with the composer in view and nothing wider than the screen
    page.locator("#items button").filter(has_text="desk lamp").first.click()
    page.locator("#timeline li").filter(has_text="desk lamp").wait_for()
    assert not page.locator("#items").is_visible()
    page.screenshot(path=str(ARTIFACTS / "inbox-phone-detail.png"))
    assert no_sideways_scroll(page), "the conversation scrolls sideways at 390 px"
    assert composer_in_view(page), "the composer is not in view at 390x844"
    page.mouse.wheel(0, 600)
    assert composer_in_view(page), "the composer leaves the screen when the conversation scrolls"
    problems["phone: conversation"] = serious_accessibility_problems(page)

    # The profile opens over the conversation, and closes back to it
    page.get_by_role("button", name="Customer profile").click()
    phone_profile = page.get_by_role("complementary", name="Alice Demo")
    phone_profile.get_by_text("Satisfaction (CSAT)").wait_for()
    page.screenshot(path=str(ARTIFACTS / "inbox-phone-profile.png"))
    assert no_sideways_scroll(page), "the profile scrolls sideways at 390 px"
    problems["phone: profile"] = serious_accessibility_problems(page)
    page.get_by_role("button", name="Close profile").click()
    phone_profile.wait_for(state="hidden")

    # and Back returns to the list
    page.get_by_role("button", name="Back to the list").click()
    page.locator("#items").wait_for()
    assert page.locator("#items").is_visible()
    phone.close()

    assert blocked == [], "the inbox did something its Content-Security-Policy forbids"
    assert {state: found for state, found in problems.items() if found} == {}
