"""The messenger and the inbox, live, in two browser contexts on the local runtime.

A customer (one context) and agents (others) have the same conversation, then the same ticket, open.
Each page has its polling fallback switched off (``helpdesk.liveOnly``), and the test watches that no
page reads the conversation or ticket again while it waits: whatever appears came over the live
channel. Each change must show promptly after being committed (the API's answer): within 5 s here, where
other tests share the machine; the 1 s promise is held by ``LIVE_SHOWN_WITHIN_MS=1000``, which
``make bench`` (``python -m bench live_pages``) runs this test with. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.test_messenger_page import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, csp_violations

pytestmark = pytest.mark.e2e

LIVE_WITHIN_MS = 1000
"""The promise: a committed change is on the other person's screen within a second. ``make bench``
measures it (the live channel's p50/p95 from commit to frame) and runs this test held to it."""
SHOWN_WITHIN_MS = int(os.environ.get("LIVE_SHOWN_WITHIN_MS", "5000"))
"""What this test allows, on a machine running other tests beside it: what it proves is that the change
arrives by the live channel (polling is switched off and the pages read nothing meanwhile), promptly;
``LIVE_SHOWN_WITHIN_MS=1000`` holds it to the promise."""
LIVE_ONLY = "localStorage.setItem('helpdesk.liveOnly', '1')"
"""The pages' diagnostic switch: never fall back to polling."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make setup` (or apt-get install chromium) installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


class Reads:
    """The GET requests a page makes to the APIs, to prove nothing polled while a change arrived."""

    def __init__(self, page: Any) -> None:
        self.seen: list[str] = []
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        api = "/messenger/" in request.url or "/inbox/" in request.url
        asset = request.url.endswith((".js", ".css", ".html", "/", ".json", ".svg"))
        if request.method == "GET" and api and not asset:
            self.seen.append(request.url)

    def mark(self) -> int:
        return len(self.seen)

    def since(self, mark: int) -> list[str]:
        return self.seen[mark:]


def live_page(browser: Any, viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=viewport)
    context.add_init_script(LIVE_ONLY)
    page = context.new_page()
    return context, page, csp_violations(page)


def shows_within(locator: Any, committed_at: float, what: str) -> float:
    """Wait for ``locator``; the milliseconds from the commit to it showing, failing beyond the allowance."""
    locator.wait_for(timeout=SHOWN_WITHIN_MS + 4000)  # a clear failure message below rather than a timeout
    elapsed = (time.monotonic() - committed_at) * 1000
    assert elapsed <= SHOWN_WITHIN_MS, f"{what} took {elapsed:.0f} ms to show (allowed: {SHOWN_WITHIN_MS} ms)"
    return elapsed


def test_agents_and_customers_see_each_other_live_without_polling(local_runtime: Any, browser: Any) -> None:
    base = local_runtime.base_url
    timings: dict[str, float] = {}
    customer_id = "live-page-customer"
    customer_token = local_runtime.customer_token(customer_id, name="Lena Live")

    # Given a customer with the messenger open, chatting
    customer_context, customer, customer_blocked = live_page(browser, {"width": 420, "height": 860})
    customer_reads = Reads(customer)
    customer.goto(f"{base}/messenger/#token={customer_token}")
    customer.wait_for_selector("body[data-ready=true]")
    customer.get_by_label("Message", exact=True).fill("Hello, my kettle won't switch on")
    customer.get_by_role("button", name="Send").click()
    customer.locator("#messages li.customer").filter(has_text="my kettle").wait_for()
    customer.wait_for_selector("body[data-live=live]")

    # And a frontline agent with that conversation open in the inbox
    agent_context, agent, agent_blocked = live_page(browser, {"width": 1400, "height": 900})
    agent_reads = Reads(agent)
    agent.goto(f"{base}/inbox/")
    agent.get_by_role("button", name="Sign in as Frank Frontline (frontline)").click()
    agent.wait_for_selector("body[data-ready=true]")
    agent.wait_for_selector("body[data-live=live]")
    agent.locator("#items button").filter(has_text="Lena Live").click()
    agent.locator("#timeline li").filter(has_text="my kettle").wait_for()
    agent.wait_for_timeout(300)  # the watch message reaches the channel

    # When the agent types, the customer sees it; and the other way round
    agent.get_by_label("Reply", exact=True).press_sequentially("We", delay=20)
    customer.locator("#typing").filter(has_text="is typing").wait_for(timeout=3000)
    customer.get_by_label("Message", exact=True).press_sequentially("Also", delay=20)
    agent.locator("#typing").filter(has_text="Lena Live is typing").wait_for(timeout=3000)
    customer.get_by_label("Message", exact=True).fill("")
    customer.screenshot(path=str(_artifact("live-customer-sees-agent-typing.png")))
    agent.screenshot(path=str(_artifact("live-agent-sees-customer-typing.png")))

    # When the agent replies, the reply is in the customer's open conversation within a second, unpolled
    agent.get_by_label("Reply", exact=True).fill("We're on it: have you tried another socket?")
    mark = customer_reads.mark()
    with agent.expect_response(lambda r: r.url.endswith("/replies") and r.request.method == "POST") as answer:
        agent.get_by_role("button", name="Send").click()
    assert answer.value.status == 201
    committed = time.monotonic()
    timings["agent reply -> customer"] = shows_within(
        customer.locator("#messages li").filter(has_text="another socket"), committed, "the agent's reply"
    )
    assert customer_reads.since(mark) == [], "the customer's page read the API: that's polling, not live"

    # When the customer answers, it is in the agent's open conversation within a second
    mark = agent_reads.mark()
    customer.get_by_label("Message", exact=True).fill("Tried it, still dead")
    with customer.expect_response(lambda r: r.url.endswith("/messages") and r.request.method == "POST") as answer:
        customer.get_by_role("button", name="Send").click()
    assert answer.value.status == 201
    committed = time.monotonic()
    timings["customer message -> agent"] = shows_within(
        agent.locator("#timeline li").filter(has_text="still dead"), committed, "the customer's message"
    )
    assert agent_reads.since(mark) == [], "the inbox read the API: that's polling, not live"

    # And a new conversation from another customer counts on the agent's view within a second
    other = {"Authorization": f"Bearer {local_runtime.customer_token('live-page-other', name='Otto Other')}"}
    open_view = agent.locator(".views button[data-query='status=open']")
    started = requests.post(f"{base}/messenger/conversations", headers=other, json={"body": "Hi!"}, timeout=10)
    assert started.status_code == 201
    committed = time.monotonic()
    timings["new conversation -> view count"] = shows_within(
        open_view.locator(".count").filter(has_text="1"), committed, "the view's count"
    )
    agent.locator("#items button").filter(has_text="Otto Other").wait_for(timeout=SHOWN_WITHIN_MS)
    agent.screenshot(path=str(_artifact("live-agent-conversation.png")))
    customer.screenshot(path=str(_artifact("live-customer-conversation.png")))

    # Given the conversation became a ticket for the returns team, open in the customer's tickets
    frontline = {"Authorization": f"Bearer {local_runtime.agent_token('agent-frontline', ['frontline'])}"}
    returns = {"Authorization": f"Bearer {local_runtime.agent_token('agent-returns-2', ['returns'], 'Ray')}"}
    conversation_id = next(
        c["id"]
        for c in requests.get(f"{base}/inbox/conversations", headers=frontline, timeout=10).json()["items"]
        if c["customer"]["id"] == customer_id
    )
    converted = requests.post(
        f"{base}/inbox/conversations/{conversation_id}/ticket",
        headers=frontline,
        json={
            "ticket_type_id": "damaged-item",
            "team_id": "returns",
            "attributes": {"order_id": "ORD-1001", "description": "Kettle dead on arrival"},
        },
        timeout=10,
    )
    assert converted.status_code == 201, converted.text
    ticket = converted.json()
    customer.get_by_role("tab", name="My tickets").click()
    customer.locator("#ticket-list button").filter(has_text=f"#{ticket['number']}").click()
    customer.locator("#ticket-detail").wait_for()
    assert customer.locator("#ticket-state").inner_text() == "Received"

    # And a returns agent with the ticket open, halfway through editing its description
    agent.get_by_role("button", name="Sign out").click()
    agent.get_by_role("button", name="Sign in as Rita Returns (returns)").click()
    agent.wait_for_selector("body[data-live=live]")
    agent.get_by_role("button", name="New", exact=True).click()
    agent.locator("#items button").filter(has_text=f"#{ticket['number']}").click()
    description = agent.locator("#ticket-attributes [name=description]")
    description.wait_for()
    description.fill("Kettle dead on arrival; base unit sparks when")
    customer.wait_for_timeout(300)  # both watch messages reach the channel

    # When another agent moves the ticket on and rewrites the description
    mark, agent_mark = customer_reads.mark(), agent_reads.mark()
    changed = requests.patch(
        f"{base}/inbox/tickets/{ticket['id']}",
        headers=returns,
        json={"version": ticket["version"], "state_id": "assessing", "attributes": {"description": "Kettle broken"}},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    committed = time.monotonic()

    # Then the customer's open ticket shows the new state within a second
    timings["state change -> customer's ticket"] = shows_within(
        customer.locator("#ticket-state").filter(has_text="We're looking into it"), committed, "the ticket's state"
    )
    # And the editing agent keeps what they typed, told of the other change, with the state followed
    agent.locator("#live-notice").filter(has_text="What is damaged").wait_for(timeout=SHOWN_WITHIN_MS)
    assert description.input_value() == "Kettle dead on arrival; base unit sparks when"
    assert agent.locator("#ticket-state").input_value() == "assessing"
    agent.screenshot(path=str(_artifact("live-agent-ticket-edit-kept.png")))

    # When the other agent replies on the ticket, the reply is on the customer's ticket within a second
    replied = requests.post(
        f"{base}/inbox/tickets/{ticket['id']}/replies",
        headers=returns,
        json={"body": "A courier collects the kettle tomorrow."},
        timeout=10,
    )
    assert replied.status_code == 201, replied.text
    committed = time.monotonic()
    timings["ticket reply -> customer's ticket"] = shows_within(
        customer.locator("#ticket-timeline li").filter(has_text="courier collects"), committed, "the ticket reply"
    )
    assert customer_reads.since(mark) == [], "the customer's ticket was read again: that's polling, not live"
    assert agent_reads.since(agent_mark) == [], "the inbox read the ticket again: that's polling, not live"
    customer.screenshot(path=str(_artifact("live-customer-ticket.png")), full_page=True)

    agent_context.close()
    customer_context.close()
    assert customer_blocked == [], "the messenger did something its Content-Security-Policy forbids"
    assert agent_blocked == [], "the inbox did something its Content-Security-Policy forbids"
    print("live timings (ms):", {k: round(v) for k, v in timings.items()})


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def test_the_messenger_home_greets_offers_the_menu_and_lists_history_before_the_customer_types(
    bot_runtime: Any, browser: Any
) -> None:
    base = bot_runtime.base_url
    customer_id = "home-page-customer"
    token = bot_runtime.customer_token(customer_id, name="Hana Home")
    customer = {"Authorization": f"Bearer {token}"}
    billing = {"Authorization": f"Bearer {bot_runtime.agent_token('agent-billing', ['billing'])}"}

    # Given a customer who talked to the bot before and has an open ticket with news on it
    talked = requests.post(
        f"{base}/messenger/conversations", headers=customer, json={"body": "Where is my parcel?"}, timeout=10
    )
    assert talked.status_code == 201, talked.text
    opened = requests.post(
        f"{base}/inbox/tickets",
        headers=billing,
        json={
            "ticket_type_id": "refund-request",
            "team_id": "billing",
            "customer_id": customer_id,
            "title": "Charged twice",
            "attributes": {"order_id": "ORD-1002", "amount": "25.00", "reason": "charged-twice"},
        },
        timeout=10,
    )
    assert opened.status_code == 201, opened.text
    replied = requests.post(
        f"{base}/inbox/tickets/{opened.json()['id']}/replies",
        headers=billing,
        json={"body": "We're checking the double charge."},
        timeout=10,
    )
    assert replied.status_code == 201, replied.text

    # When they open the messenger, before typing anything
    context, page, blocked = live_page(browser, {"width": 420, "height": 860})
    page.goto(f"{base}/messenger/#token={token}")
    page.wait_for_selector("body[data-ready=true]")

    # Then the home greets them, offers the bot's menu and says when to expect a reply
    assert page.locator("#home-greeting").inner_text().strip()
    page.locator("#home-menu button").first.wait_for()
    assert page.locator("#home-menu button").count() >= 2
    assert page.locator("#home-reply").inner_text().strip()
    # And lists their recent conversation and their open ticket, with unread badges
    page.locator("#home-tickets li").filter(has_text="Charged twice").wait_for(timeout=5000)
    page.screenshot(path=str(_artifact("messenger-home.png")), full_page=True)
    page.locator("#home-conversations li").first.wait_for(timeout=5000)
    page.locator("#home-tickets .badge").first.wait_for(timeout=5000)
    assert page.locator("#message-input").input_value() == ""
    context.close()
    assert blocked == [], "the messenger did something its Content-Security-Policy forbids"


def test_after_the_live_channel_drops_for_30_seconds_the_page_catches_up_on_everything(
    local_runtime: Any, browser: Any
) -> None:
    base = local_runtime.base_url
    customer_id = "drop-page-customer"
    token = local_runtime.customer_token(customer_id, name="Dora Drop")
    frontline = {"Authorization": f"Bearer {local_runtime.agent_token('agent-frontline', ['frontline'])}"}

    # Given a customer chatting with the messenger open, polling switched off
    context, page, blocked = live_page(browser, {"width": 420, "height": 860})
    page.goto(f"{base}/messenger/#token={token}")
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_label("Message", exact=True).fill("Is anyone there?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector("body[data-live=live]")
    # (the customer's own list: the agents' default view shows only conversations waiting for a person)
    mine = requests.get(f"{base}/messenger/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    conversation_id = mine.json()["items"][0]["id"]

    # When the live channel drops every connection and refuses new ones for 30 s
    dropped = requests.post(f"{base}/_local/live/outage?seconds=30", timeout=10)
    assert dropped.status_code == 200
    page.wait_for_selector("body[data-live=down]", timeout=15_000)
    # And the agent answers three times meanwhile
    said = [f"Answer {n} while you were offline" for n in (1, 2, 3)]
    for body in said:
        answer = requests.post(
            f"{base}/inbox/conversations/{conversation_id}/replies", headers=frontline, json={"body": body}, timeout=10
        )
        assert answer.status_code == 201, answer.text
    page.wait_for_timeout(2000)
    assert page.locator("#messages li").filter(has_text="while you were offline").count() == 0, "nothing polled"

    # Then once the channel is back, the page reconnects and shows every answer, once each, in order
    page.wait_for_selector("body[data-live=live]", timeout=60_000)
    for body in said:
        page.locator("#messages li").filter(has_text=body).wait_for(timeout=30_000)
    shown = page.locator("#messages li").filter(has_text="while you were offline").all_inner_texts()
    assert [next(b for b in said if b in text) for text in shown] == said
    page.screenshot(path=str(_artifact("live-caught-up-after-drop.png")), full_page=True)
    context.close()
    assert blocked == [], "the messenger did something its Content-Security-Policy forbids"
