"""Real-world-shaped emails (``email_corpus/``) read as support needs them: the customer's new words
only, the right files, and machines told apart from people. Each case's expectation is in
``email_corpus/cases.yaml`` next to its ``.eml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from helpdesk.domain.email_automation import classify
from helpdesk.domain.email_bodies import reply_text
from helpdesk.domain.email_messages import parse_email

CORPUS = Path(__file__).parent / "email_corpus"
CASES: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
OUR_ADDRESSES = frozenset({"support@demo-shop.example"})


def test_every_email_in_the_corpus_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if "body" in c))
def test_a_person_s_email_keeps_only_what_they_newly_wrote(name: str) -> None:
    case = CASES[name]
    message = parse_email((CORPUS / name).read_bytes())

    text = reply_text(message)

    assert classify(message, own_addresses=OUR_ADDRESSES) is None
    assert text.body == case["body"]
    assert text.quote_removed is case.get("quote_removed", False)
    assert text.signature_removed is case.get("signature_removed", False)
    if "subject" in case:
        assert message.subject == case["subject"]
    if "sender" in case:
        assert message.sender is not None
        assert message.sender.normalized == case["sender"]
    if "sender_name" in case:
        assert message.sender is not None
        assert message.sender.name == case["sender_name"]
    if "language" in case:
        assert message.language == case["language"]
    if "thread_ids" in case:
        assert list(message.thread_ids) == case["thread_ids"]


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if "files" in c))
def test_files_arrive_with_their_names_and_types_and_inline_pictures_say_whether_they_were_shown(name: str) -> None:
    case = CASES[name]
    message = parse_email((CORPUS / name).read_bytes())
    shown = reply_text(message).kept_images

    files = [
        {"filename": f.filename, "content_type": f.content_type, "inline": f.inline}
        | ({"shown": f.content_id in shown} if f.inline else {})
        for f in message.files
    ]

    assert files == case["files"]
    assert all(f.size > 0 for f in message.files)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if "automated" in c))
def test_auto_replies_bounces_and_bulk_mail_are_recognised_as_machines(name: str) -> None:
    message = parse_email((CORPUS / name).read_bytes())

    automated = classify(message, own_addresses=OUR_ADDRESSES)

    assert automated is not None
    assert automated.kind.value == CASES[name]["automated"]
