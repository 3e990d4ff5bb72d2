"""Who the hosted messenger believes, in headless Chromium on the local runtime.

- A token in the page's address signs the page in, but never moves this browser's anonymous
  conversations into that account: a link anyone can craft must not hand a victim's history to its
  author. The person may move them, after seeing whose account it is.
- Only a site on the workspace's allow-list (``messenger_origins``; the demo lists ``self``, where
  its demo shop lives) may frame the messenger, and only its boot message is heard: a site off the
  list can't frame it (``frame-ancestors``), and in a browser that ignored that, its boot is ignored.
- The embed still works from the allowed shop, and merges the visitor's history into the customer
  the shop signed in. The address it reports has no fragment and no secret-named parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.test_messenger_page import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, csp_violations

pytestmark = pytest.mark.e2e

VISITOR_KEY = "helpdesk.visitorToken"
ATTACKER_SITE = "http://shop.attacker.test"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make setup` (or apt-get install chromium) installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    opened = browser.new_context(viewport={"width": 1100, "height": 800})
    yield opened
    opened.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def conversations_of(runtime: Any, token: str) -> list[dict[str, Any]]:
    listed = requests.get(f"{runtime.base_url}/messenger/conversations", headers=bearer(token), timeout=10)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


def messages_of(runtime: Any, token: str, conversation_id: str) -> list[str]:
    page = requests.get(
        f"{runtime.base_url}/messenger/conversations/{conversation_id}", headers=bearer(token), timeout=10
    ).json()
    return [m["body"] for m in page["messages"]]


def chat(page_or_frame: Any, text: str) -> None:
    page_or_frame.get_by_label("Message", exact=True).fill(text)
    page_or_frame.get_by_role("button", name="Send").click()
    page_or_frame.locator("#messages li.customer").filter(has_text=text).wait_for()


def open_latest_conversation(page_or_frame: Any) -> None:
    """The messenger opens on its home; the person opens their latest conversation from its list."""
    page_or_frame.locator("#home-conversations button.home-item").first.click()


def chat_as_a_visitor(page: Any, runtime: Any, text: str) -> str:
    """The person chats on the hosted page without signing in; returns the visitor token kept in the browser."""
    page.goto(f"{runtime.base_url}/messenger/")
    page.wait_for_selector("body[data-ready=true]")
    chat(page, text)
    token = page.evaluate(f"localStorage.getItem('{VISITOR_KEY}')")
    assert token
    page.goto("about:blank")  # what follows is a fresh visit, not a change of fragment on this one
    return str(token)


def test_a_token_in_the_address_signs_in_but_merges_nothing(local_runtime: Any, context: Any) -> None:
    page = context.new_page()
    blocked = csp_violations(page)
    # Given someone chatted anonymously in this browser
    visitor_token = chat_as_a_visitor(page, local_runtime, "My card ending 4242 was charged twice")
    # and an attacker got them to open a link carrying the attacker's own token
    mallory = local_runtime.customer_token("identity-mallory", name="Mallory Attacker")

    page.goto(f"{local_runtime.base_url}/messenger/#token={mallory}")
    page.wait_for_selector("body[data-ready=true]")

    # Then nothing moved into the attacker's account: the conversation is still the visitor's
    assert conversations_of(local_runtime, mallory) == []
    [kept] = conversations_of(local_runtime, visitor_token)
    assert "My card ending 4242 was charged twice" in messages_of(local_runtime, visitor_token, kept["id"])
    # and the page asks, naming the account, instead of deciding
    offer = page.locator("#merge-box")
    offer.wait_for()
    assert "Mallory Attacker" in offer.inner_text()
    assert page.evaluate(f"localStorage.getItem('{VISITOR_KEY}')") == visitor_token
    # and the token left the address bar at once
    assert "token" not in page.url
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "messenger-merge-offer.png"))

    # When the person declines, still nothing moves
    page.get_by_role("button", name="Not now").click()
    assert offer.is_hidden()
    assert conversations_of(local_runtime, mallory) == []
    assert blocked == []


def test_the_customer_moves_their_own_history_by_confirming_it(local_runtime: Any, context: Any) -> None:
    page = context.new_page()
    visitor_token = chat_as_a_visitor(page, local_runtime, "Is the teapot dishwasher-safe?")
    ada = local_runtime.customer_token("identity-ada", name="Ada Lovelace", email="ada@example.com")

    page.goto(f"{local_runtime.base_url}/messenger/#token={ada}")
    page.wait_for_selector("body[data-ready=true]")
    page.locator("#merge-box").filter(has_text="Ada Lovelace (ada@example.com)").wait_for()
    page.get_by_role("button", name="Move them here").click()

    open_latest_conversation(page)
    page.locator("#messages li.customer").filter(has_text="Is the teapot dishwasher-safe?").wait_for()
    [moved] = conversations_of(local_runtime, ada)
    assert "Is the teapot dishwasher-safe?" in messages_of(local_runtime, ada, moved["id"])
    assert conversations_of(local_runtime, visitor_token) == []
    assert page.evaluate(f"localStorage.getItem('{VISITOR_KEY}')") is None


def test_the_allowed_shop_boots_the_messenger_with_its_customer_and_their_history(
    local_runtime: Any, context: Any
) -> None:
    base = local_runtime.base_url
    page = context.new_page()
    blocked = csp_violations(page)
    # Given a visitor chats from the demo shop (on the allow-list), on a page whose address carries secrets
    page.goto(f"{base}/messenger/demo.html?tab=items&access_token=shop-secret#token=fragment-secret")
    page.get_by_role("button", name="Open support messenger").click()
    frame = page.frame_locator("iframe[title='Support messenger']")
    frame.locator("body[data-ready=true]").wait_for()
    chat(frame, "Before signing in: where is ORD-1001?")

    # When they sign in to the shop, which hands the messenger its customer's token
    with page.expect_navigation():
        page.get_by_label("Signed in to the shop as (local demo)").select_option(label="Alice Demo")
    page.get_by_role("button", name="Open support messenger").click()
    frame = page.frame_locator("iframe[title='Support messenger']")
    open_latest_conversation(frame)
    frame.locator("#messages li.customer").filter(has_text="Before signing in: where is ORD-1001?").wait_for()
    chat(frame, "Signed in now")

    # Then the conversation is the customer's, earlier messages included
    alice = local_runtime.customer_token("demo-customer-1")
    mine = conversations_of(local_runtime, alice)
    bodies = [body for c in mine for body in messages_of(local_runtime, alice, c["id"])]
    assert "Before signing in: where is ORD-1001?" in bodies
    assert "Signed in now" in bodies
    # and agents see the page it started on, without the fragment or the secret parameter
    frontline = bearer(local_runtime.agent_token("agent-identity", ["frontline"]))
    started = next(
        c for c in mine if "Before signing in: where is ORD-1001?" in messages_of(local_runtime, alice, c["id"])
    )
    detail = requests.get(f"{base}/inbox/conversations/{started['id']}", headers=frontline, timeout=10).json()
    assert detail["context"]["page_url"] == f"{base}/messenger/demo.html?tab=items"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "messenger-embedded-signed-in.png"))
    assert blocked == []


def attacker_page(base: str, token: str) -> str:
    """A site off the allow-list that frames the messenger and keeps posting a boot with its own token."""
    return f"""<!doctype html><html lang="en"><head><title>Not the shop</title></head><body>
<iframe id="victim" title="Support messenger" src="{base}/messenger/" width="420" height="640"></iframe>
<script>
  window.__heard = [];
  window.addEventListener("message", function (event) {{ window.__heard.push(event.data && event.data.type); }});
  setInterval(function () {{
    var frame = document.getElementById("victim").contentWindow;
    frame.postMessage({{ type: "helpdesk:boot", token: "{token}", context: {{ page_url: "{ATTACKER_SITE}/" }} }}, "*");
  }}, 100);
</script></body></html>"""


def serve_attacker_site(context: Any, html: str) -> None:
    context.route(f"{ATTACKER_SITE}/**", lambda route: route.fulfill(status=200, content_type="text/html", body=html))


def test_a_site_off_the_allow_list_cannot_frame_the_messenger(local_runtime: Any, context: Any) -> None:
    mallory = local_runtime.customer_token("identity-framer")
    serve_attacker_site(context, attacker_page(local_runtime.base_url, mallory))
    page = context.new_page()

    page.goto(f"{ATTACKER_SITE}/")
    page.wait_for_timeout(2000)

    # Chromium shows its error page in place of the messenger (the next test shows the same page
    # loads once the header is dropped: frame-ancestors is what refused it)
    [framed] = [f for f in page.frames if f != page.main_frame]
    assert framed.url.startswith("chrome-error://"), framed.url
    assert page.evaluate("window.__heard") == []
    assert conversations_of(local_runtime, mallory) == []


def test_a_boot_from_a_site_off_the_allow_list_is_ignored_even_where_framing_is_not_enforced(
    local_runtime: Any, context: Any
) -> None:
    base = local_runtime.base_url
    mallory = local_runtime.customer_token("identity-booter")
    serve_attacker_site(context, attacker_page(base, mallory))

    # Given a browser that doesn't enforce frame-ancestors (the header is dropped on its way in)
    def without_csp(route: Any) -> None:
        answer = route.fetch()
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "content-security-policy"}
        route.fulfill(response=answer, headers=headers)

    context.route(f"{base}/messenger/", without_csp)
    page = context.new_page()

    # When the attacker's page frames the messenger and keeps sending it a boot with the attacker's token
    page.goto(f"{ATTACKER_SITE}/")
    frame = page.frame_locator("#victim")
    frame.locator("body[data-ready=true]").wait_for(timeout=15_000)
    chat(frame, "Typed into a messenger framed by someone else")

    # Then the messenger never took the token: what was typed is not in the attacker's account
    assert conversations_of(local_runtime, mallory) == []
    # and it never spoke to that site
    assert page.evaluate("window.__heard") == []
