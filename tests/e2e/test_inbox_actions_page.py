"""The inbox page's files and one-click actions, in headless Chromium on the local runtime.

An agent (a lead of returns) opens a damaged-item ticket and sees the photo the customer sent as a
thumbnail, opens it full size in the viewer, picks an assignee from the team's list, snoozes a
conversation with a preset, and approves a refund its workflow waits for, which then goes on.
Screenshots go to test-artifacts/; each state of the page is scanned with axe-core.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.test_messenger_page import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, csp_violations

pytestmark = pytest.mark.e2e
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def damaged_teapot_png(width: int = 480, height: int = 320) -> bytes:
    """A picture worth looking at: a blue teapot-ish blob on a light table, with a dark crack across it."""

    def pixel(x: int, y: int) -> bytes:
        dx, dy = (x - width / 2) / (width / 3), (y - height / 2) / (height / 3)
        if abs((y - height / 2) - (x - width / 2) * 0.6) < 3 and dx * dx + dy * dy < 1:
            return b"\x20\x20\x20"
        if dx * dx + dy * dy < 1:
            return bytes((40, 90, 180 - int(50 * dy)))
        return bytes((235, 228, 215 - y // 8))

    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make setup` (or apt-get install chromium) installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def serious_accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    assert AXE.exists(), "axe-core is missing: `make setup` (npm ci) installs it"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;0")
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def eventually[T](check: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_an_agent_sees_the_photo_picks_an_assignee_snoozes_and_approves_a_refund(
    local_runtime: Any, browser: Any
) -> None:
    base = local_runtime.base_url

    def as_agent(sub: str, groups: list[str], name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {local_runtime.agent_token(sub, groups, name=name)}"}

    frank = as_agent("agent-frontline", ["frontline"], "Frank Frontline")
    rita = as_agent("agent-returns", ["returns"], "Rita Returns")

    def read(path: str, **wanted: str) -> dict[str, Any] | None:
        """What Rita reads at ``path``, once its ``status`` (or ``state``'s id) is the one wanted."""
        found = dict(requests.get(f"{base}{path}", headers=rita, timeout=10).json())
        if "state" in wanted and found["state"]["id"] != wanted["state"]:
            return None
        if "status" in wanted and found["status"] != wanted["status"]:
            return None
        return found

    requests.get(f"{base}/inbox/me", headers=rita, timeout=10).raise_for_status()  # Rita is on the roster
    customer = {"Authorization": f"Bearer {local_runtime.customer_token('teapot-customer', name='Tess Teapot')}"}

    # Given Tess's damaged-item ticket, with the photo of her broken teapot sent on it
    started = requests.post(
        f"{base}/messenger/conversations", headers=customer, json={"body": "My teapot arrived broken"}, timeout=10
    ).json()
    ticket = requests.post(
        f"{base}/inbox/conversations/{started['id']}/ticket",
        headers=frank,
        json={
            "ticket_type_id": "damaged-item",
            "team_id": "returns",
            "attributes": {"order_id": "ORD-TEAPOT", "description": "Spout snapped off"},
        },
        timeout=10,
    ).json()
    photo = damaged_teapot_png()
    declared = requests.post(
        f"{base}/messenger/attachments",
        headers=customer,
        json={"filename": "damaged-teapot.png", "content_type": "image/png", "size": len(photo)},
        timeout=10,
    ).json()
    form = declared["upload"]
    stored = requests.post(form["url"], data=form["fields"], files={"file": ("damaged-teapot.png", photo)}, timeout=10)
    assert stored.ok, stored.text
    replied = requests.post(
        f"{base}/messenger/tickets/{ticket['id']}/replies",
        headers=customer,
        json={"body": "Here is the photo", "attachment_ids": [declared["attachment_id"]]},
        timeout=10,
    )
    assert replied.status_code == 201, replied.text
    # (S3 announced the upload; the thumbnailer draws its thumbnail)
    eventually(
        lambda: (
            requests.get(f"{base}/inbox/attachments/{declared['attachment_id']}", headers=rita, timeout=10)
            .json()
            .get("thumbnail_url")
        ),
        "the photo's thumbnail",
        timeout=30,
    )
    # and a second conversation of hers, handed to returns
    waiting = requests.post(
        f"{base}/messenger/conversations", headers=customer, json={"body": "Also, the lid is chipped"}, timeout=10
    ).json()
    handed = requests.post(
        f"{base}/inbox/conversations/{waiting['id']}/assignment", headers=frank, json={"team_id": "returns"}, timeout=10
    )
    assert handed.status_code == 200, handed.text
    # and a refund above the limit, whose workflow waits for a lead's approval
    refund = requests.post(
        f"{base}/inbox/tickets",
        headers=rita,
        json={
            "ticket_type_id": "refund-request",
            "team_id": "returns",
            "customer_id": "teapot-customer",
            "title": "Refund for the broken teapot",
            "attributes": {"order_id": "ORD-TEAPOT", "amount": 250, "reason": "not-as-described"},
        },
        timeout=10,
    ).json()
    eventually(
        lambda: (requests.get(f"{base}/inbox/tickets/{refund['id']}", headers=rita, timeout=10).json()).get("approval"),
        "the refund's workflow to ask for approval",
        timeout=60,
    )

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    blocked = csp_violations(page)
    page.goto(f"{base}/inbox/")
    page.get_by_role("button", name="Sign in as Lee Lead (leads, returns)").click()
    page.wait_for_selector("body[data-ready=true]")
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, list[str]] = {}

    # When the lead opens the damaged-item ticket, the photo is a thumbnail with its name, type and size
    page.get_by_role("button", name="New", exact=True).click()
    page.locator("#items button").filter(has_text="ORD-TEAPOT").or_(
        page.locator("#items button").filter(has_text="Damaged item")
    ).first.click()
    thumbnail = page.get_by_role("button", name="View damaged-teapot.png full size")
    thumbnail.wait_for(timeout=10_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('.thumbnail img'); return i && i.complete && i.naturalWidth > 0; }"
    )
    # drawn from the thumbnailer's JPEG (320 px wide), not the 480 px original
    assert page.evaluate("document.querySelector('.thumbnail img').naturalWidth") == 320
    assert "thumbnails/" in page.evaluate("document.querySelector('.thumbnail img').src")
    download = page.get_by_role("link", name="Download damaged-teapot.png, image/png")
    assert "response-content-disposition=attachment" in (download.get_attribute("href") or "")
    assert "image/png" in download.inner_text()
    page.screenshot(path=str(ARTIFACTS / "inbox-ticket-photo.png"))
    problems["ticket with a photo"] = serious_accessibility_problems(page)

    # and opens it full size in the viewer, then closes it
    thumbnail.click()
    viewer = page.get_by_role("dialog", name="damaged-teapot.png (image/png")
    viewer.wait_for()
    page.wait_for_function("() => document.getElementById('viewer-image').naturalWidth === 480")
    page.screenshot(path=str(ARTIFACTS / "inbox-photo-viewer.png"))
    problems["photo viewer"] = serious_accessibility_problems(page)
    page.keyboard.press("Escape")
    viewer.wait_for(state="hidden")

    # The ticket says it is unassigned (not an empty box), shows no empty "Context" (Tess wrote from no
    # page), and offers to open its conversation: the lead, of returns, may not read frontline's, and
    # is told so (the policy's answer for that very conversation) while the ticket stays shown
    assert page.evaluate("document.getElementById('ticket-assignee').selectedOptions[0].text") == "Unassigned"
    assert page.locator("#context-heading").is_hidden()
    page.get_by_role("button", name="Open the conversation").click()
    page.wait_for_function("() => document.getElementById('status').textContent.includes('frontline')")
    assert started["id"] in page.locator("#status").inner_text()
    assert page.locator("#detail-title").inner_text().startswith("#")
    assert page.evaluate("location.hash") == ""  # still on the ticket

    # Then they pick Rita from the team's list and save: only the assignee is sent
    assignee = page.get_by_label("Assignee")
    page.wait_for_function("() => document.querySelectorAll('#ticket-assignee option').length > 1")
    assert "Rita Returns" in assignee.inner_text()
    patches: list[str] = []
    page.on("request", lambda r: patches.append(r.post_data or "") if r.method == "PATCH" else None)
    assignee.select_option("agent-returns")
    page.get_by_role("button", name="Save changes").click()
    eventually(
        lambda: (
            requests.get(f"{base}/inbox/tickets/{ticket['id']}", headers=rita, timeout=10).json()["assignee_id"]
            == "agent-returns"
        ),
        "the ticket to be Rita's",
    )
    [sent] = patches
    assert "agent-returns" in sent
    assert "attributes" not in sent

    # They snooze the handed-off conversation until tomorrow morning
    page.get_by_role("button", name="My teams: open").click()
    page.locator("#items button").filter(has_text="Also, the lid is chipped").click()
    page.locator("#timeline li").filter(has_text="Also, the lid is chipped").wait_for()
    problems["conversation"] = serious_accessibility_problems(page)
    page.get_by_role("button", name="Tomorrow 9:00").click()
    snoozed = eventually(
        lambda: read(f"/inbox/conversations/{waiting['id']}", status="snoozed"),
        "the conversation to be snoozed",
    )
    assert snoozed["snoozed_until"]
    page.get_by_text("Snoozed until").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "inbox-snoozed.png"))

    # And they approve the refund the workflow waits for, which then moves on to paying out
    page.get_by_role("button", name="New", exact=True).click()
    page.locator("#items button").filter(has_text="Refund for the broken teapot").click()
    page.get_by_role("region", name="Waiting for a decision").wait_for()
    page.wait_for_function("() => document.querySelectorAll('#ticket-assignee option').length > 1")
    assert page.get_by_label("Assignee").input_value() == "", "an unassigned ticket must read Unassigned"
    page.screenshot(path=str(ARTIFACTS / "inbox-approval.png"))
    problems["approval"] = serious_accessibility_problems(page)
    page.get_by_label("Note (optional)").fill("Photo shows the damage")
    page.get_by_role("button", name="Approve").click()
    decided = eventually(
        lambda: read(f"/inbox/tickets/{refund['id']}", state="approved"),
        "the workflow to move the refund on",
        timeout=60,
    )
    assert decided["approval"]["status"] == "approved"
    assert decided["approval"]["decided_by"] == "agent-lead"
    assert decided["sla_due_at"]
    page.get_by_role("region", name="Waiting for a decision").wait_for(state="hidden", timeout=15_000)
    assert "SLA" in page.locator("#customer-fields").inner_text()
    page.screenshot(path=str(ARTIFACTS / "inbox-approved.png"))

    context.close()
    assert blocked == [], "the inbox did something its Content-Security-Policy forbids"
    assert {state: found for state, found in problems.items() if found} == {}
