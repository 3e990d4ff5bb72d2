"""Files in the composers, in headless Chromium on the local runtime.

A lead of returns attaches a PDF to a reply on a damaged-item ticket (and sees a refused type
explained), adds an internal note with its own file, and the customer downloads the PDF from the
messenger's ticket (the same bytes, as an attachment of the declared type) without ever being shown
the note's file; the lead also sends the label in the customer's other conversation; then the
customer attaches a photo to her own ticket reply and the agent sees it.
Screenshots go to test-artifacts/; each state of both pages is scanned with axe-core.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.test_inbox_actions_page import browser, damaged_teapot_png, serious_accessibility_problems
from tests.e2e.test_messenger_page import ARTIFACTS, csp_violations

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the module's Chromium, shared with the inbox actions test


def return_label_pdf() -> bytes:
    """A small but real one-page PDF (the upload check reads its first bytes)."""
    stream = b"BT /F1 24 Tf 72 720 Td (Return label: ORD-LABEL) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_an_agent_attaches_a_pdf_to_a_reply_and_the_customer_downloads_it(local_runtime: Any, browser: Any) -> None:
    base = local_runtime.base_url
    frank = {"Authorization": f"Bearer {local_runtime.agent_token('agent-frontline', ['frontline'], name='Frank')}"}
    lee = {"Authorization": f"Bearer {local_runtime.agent_token('agent-lead', ['leads', 'returns'], name='Lee')}"}
    token = local_runtime.customer_token("label-customer", name="Lana Label")
    customer = {"Authorization": f"Bearer {token}"}

    # Given Lana's damaged-item ticket, with the returns team
    started = requests.post(
        f"{base}/messenger/conversations", headers=customer, json={"body": "My kettle came dented"}, timeout=10
    ).json()
    converted = requests.post(
        f"{base}/inbox/conversations/{started['id']}/ticket",
        headers=frank,
        json={
            "ticket_type_id": "damaged-item",
            "team_id": "returns",
            "attributes": {"order_id": "ORD-LABEL", "description": "Dented kettle"},
        },
        timeout=10,
    )
    assert converted.status_code == 201, converted.text
    ticket = converted.json()
    # and a second conversation of hers, handed to returns
    waiting = requests.post(
        f"{base}/messenger/conversations", headers=customer, json={"body": "Also, the handle wobbles"}, timeout=10
    ).json()
    handed = requests.post(
        f"{base}/inbox/conversations/{waiting['id']}/assignment", headers=frank, json={"team_id": "returns"}, timeout=10
    )
    assert handed.status_code == 200, handed.text
    pdf = return_label_pdf()
    folder = ARTIFACTS / "composer-files"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "return-label.pdf").write_bytes(pdf)
    (folder / "warehouse-notes.pdf").write_bytes(pdf.replace(b"Return label", b"Warehouse note"))
    (folder / "kettle.zip").write_bytes(b"PK\x03\x04 not a document")
    (folder / "dent.png").write_bytes(damaged_teapot_png(120, 80))

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    blocked = csp_violations(page)
    page.goto(f"{base}/inbox/")
    page.get_by_role("button", name="Sign in as Lee Lead (leads, returns)").click()
    page.wait_for_selector("body[data-ready=true]")
    problems: dict[str, list[str]] = {}

    # When the lead opens the ticket and picks a file of a refused type, the composer says why
    page.get_by_role("button", name="New", exact=True).click()
    page.locator("#items button").filter(has_text=f"#{ticket['number']}").first.click()
    attach = page.get_by_label("Attach file")
    attach.wait_for(state="attached")
    page.locator("#composer-attach-control").wait_for()
    attach.set_input_files(str(folder / "kettle.zip"))
    refused = page.get_by_role("alert").filter(has_text="kettle.zip")
    refused.wait_for()
    assert "can't be shared" in refused.inner_text()
    assert page.locator(".pending-file").count() == 0

    # and attaches the return label, which uploads and can be removed before sending
    attach.set_input_files(str(folder / "return-label.pdf"))
    page.locator(".pending-file.uploaded").filter(has_text="return-label.pdf").wait_for()
    assert "application/pdf" in page.locator(".pending-file").inner_text()
    assert "Shared" in page.locator("#composer-files-audience").inner_text()
    assert page.get_by_label("Internal note").is_disabled(), "a waiting file's audience must not change under it"
    page.screenshot(path=str(ARTIFACTS / "inbox-composer-file.png"))
    problems["composer with a file"] = serious_accessibility_problems(page)
    page.get_by_role("button", name="Remove return-label.pdf").click()
    assert page.locator(".pending-file").count() == 0
    attach.set_input_files(str(folder / "return-label.pdf"))
    page.locator(".pending-file.uploaded").wait_for()
    page.get_by_label("Reply", exact=True).fill("Here is your return label")
    page.get_by_role("button", name="Send").click()
    page.locator("#timeline li").filter(has_text="Here is your return label").get_by_role(
        "link", name="Download return-label.pdf, application/pdf"
    ).wait_for(timeout=10_000)
    assert page.locator(".pending-file").count() == 0

    # and adds an internal note with a file of its own
    page.get_by_label("Internal note").check()
    attach.set_input_files(str(folder / "warehouse-notes.pdf"))
    page.locator(".pending-file.uploaded").wait_for()
    assert "Internal" in page.locator("#composer-files-audience").inner_text()
    page.get_by_label("Reply", exact=True).fill("Warehouse: check the packaging")
    page.get_by_role("button", name="Send").click()
    page.locator("#timeline li").filter(has_text="Warehouse: check the packaging").get_by_role(
        "link", name="Download warehouse-notes.pdf, application/pdf"
    ).wait_for(timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "inbox-reply-and-note-files.png"))
    problems["timeline with files"] = serious_accessibility_problems(page)

    # and in her other conversation, the composer attaches the label to a reply too
    page.get_by_role("button", name="My teams: open").click()
    page.locator("#items button").filter(has_text="Also, the handle wobbles").click()
    page.locator("#timeline li").filter(has_text="Also, the handle wobbles").wait_for()
    assert not page.get_by_label("Internal note").is_checked()
    attach.set_input_files(str(folder / "return-label.pdf"))
    page.locator(".pending-file.uploaded").wait_for()
    page.get_by_label("Reply", exact=True).fill("The same label covers the handle")
    page.get_by_role("button", name="Send").click()
    page.locator("#timeline li").filter(has_text="The same label covers the handle").get_by_role(
        "link", name="Download return-label.pdf, application/pdf"
    ).wait_for(timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "inbox-conversation-file.png"))
    context.close()
    chat = requests.get(f"{base}/messenger/conversations/{waiting['id']}", headers=customer, timeout=10).json()
    assert [a["filename"] for m in chat["messages"] for a in m["attachments"]] == ["return-label.pdf"]

    timeline = requests.get(f"{base}/inbox/tickets/{ticket['id']}", headers=lee, timeout=10).json()["timeline"]
    files = {a["filename"]: a["id"] for part in timeline for a in part["attachments"]}
    assert set(files) == {"return-label.pdf", "warehouse-notes.pdf"}

    # Then the customer's ticket shows the label but never the note's file
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    messenger = phone.new_page()
    blocked += csp_violations(messenger)
    messenger.goto(f"{base}/messenger/#token={token}")
    messenger.wait_for_selector("body[data-ready=true]")
    messenger.get_by_role("tab", name="My tickets").click()
    messenger.locator("#ticket-list button").filter(has_text=f"#{ticket['number']}").click()
    label = messenger.get_by_role("button", name="Download return-label.pdf")
    label.wait_for()
    assert "warehouse-notes.pdf" not in messenger.locator("#ticket-detail").inner_text()
    assert "Warehouse" not in messenger.locator("#ticket-detail").inner_text()
    problems["messenger ticket with a file"] = serious_accessibility_problems(messenger)

    # and downloading it gives the same bytes, as an attachment of the declared type
    with messenger.expect_response(lambda r: "/messenger/attachments/" in r.url) as answered:
        label.click()
    link = answered.value.json()
    downloaded = requests.get(link["download_url"], timeout=10)
    assert downloaded.content == pdf
    assert downloaded.headers["Content-Type"] == "application/pdf"
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    hidden = requests.get(f"{base}/messenger/attachments/{files['warehouse-notes.pdf']}", headers=customer, timeout=10)
    assert hidden.status_code == 404

    # When the customer attaches a photo to her own reply, the agent sees it on the ticket
    messenger.get_by_label("Attach a photo, video or PDF").set_input_files(str(folder / "dent.png"))
    messenger.locator(".pending-file.uploaded").filter(has_text="dent.png").wait_for()
    messenger.screenshot(path=str(ARTIFACTS / "messenger-ticket-reply-file.png"), full_page=True)
    problems["messenger reply with a file"] = serious_accessibility_problems(messenger)
    messenger.get_by_label("Reply on this ticket").fill("The dent, from above")
    messenger.get_by_role("button", name="Reply", exact=True).click()
    messenger.get_by_role("button", name="Download dent.png").wait_for(timeout=10_000)
    assert messenger.locator(".pending-file").count() == 0
    messenger.screenshot(path=str(ARTIFACTS / "messenger-ticket-files.png"), full_page=True)
    phone.close()

    timeline = requests.get(f"{base}/inbox/tickets/{ticket['id']}", headers=lee, timeout=10).json()["timeline"]
    [photo_part] = [part for part in timeline if part["body"] == "The dent, from above"]
    assert [a["filename"] for a in photo_part["attachments"]] == ["dent.png"]
    assert photo_part["author"]["type"] == "customer"
    assert blocked == [], "a page did something its Content-Security-Policy forbids"
    assert {state: found for state, found in problems.items() if found} == {}
