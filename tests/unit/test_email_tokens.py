"""Reply addresses and email links can't be made up, stretched past their time or used for something else."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from helpdesk.auth.customer_tokens import (
    TokenRejected,
    issue_email_session,
    sign_customer_token,
    verify_customer_token,
)
from helpdesk.auth.email_keys import EmailKeyError, EmailKeys
from helpdesk.auth.link_tokens import LinkProblem, LinkPurpose, LinkRejected, issue_link, read_link
from helpdesk.auth.reply_addresses import (
    ReplyTokenProblem,
    Thread,
    ThreadKind,
    check_reply_token,
    reply_address,
    token_of,
)
from helpdesk.domain.models import new_id

KEYS = EmailKeys(current="test-email-key-0123456789abcdef-0123456789")
OTHER_KEYS = EmailKeys(current="another-email-key-with-enough-characters-xyz")
SUPPORT = "support@demo-shop.example"
NEXT_MONTH = datetime.now(UTC) + timedelta(days=30)


def test_a_reply_address_names_its_thread_and_fits_in_a_local_part() -> None:
    thread = Thread(ThreadKind.TICKET, new_id())

    address = reply_address(KEYS, SUPPORT, thread, expires=NEXT_MONTH)
    token = token_of(address.upper(), SUPPORT)  # some servers change the case of the local part

    assert address.endswith("@demo-shop.example")
    assert len(address.partition("@")[0]) <= 64
    assert token is not None
    assert check_reply_token(KEYS, token).thread == thread
    assert check_reply_token(KEYS, token).valid


def test_a_reply_token_with_one_character_changed_is_forged() -> None:
    token = token_of(reply_address(KEYS, SUPPORT, Thread(ThreadKind.TICKET, new_id()), expires=NEXT_MONTH), SUPPORT)
    assert token is not None
    other_thread = token[:2] + ("0" if token[2] != "0" else "1") + token[3:]

    assert check_reply_token(KEYS, other_thread).problem is ReplyTokenProblem.FORGED
    assert check_reply_token(KEYS, token[:-1] + ("a" if token[-1] != "a" else "b")).problem is ReplyTokenProblem.FORGED


def test_a_reply_token_signed_with_another_key_is_forged_and_with_the_previous_key_still_valid() -> None:
    thread = Thread(ThreadKind.CONVERSATION, new_id())
    token = token_of(reply_address(OTHER_KEYS, SUPPORT, thread, expires=NEXT_MONTH), SUPPORT)
    assert token is not None
    rotated = EmailKeys(current=KEYS.current, previous=OTHER_KEYS.current)

    assert check_reply_token(KEYS, token).problem is ReplyTokenProblem.FORGED
    assert check_reply_token(rotated, token).valid


def test_a_reply_token_is_refused_the_day_after_it_expires() -> None:
    token = token_of(
        reply_address(KEYS, SUPPORT, Thread(ThreadKind.TICKET, new_id()), expires=datetime(2026, 3, 1, tzinfo=UTC)),
        SUPPORT,
    )
    assert token is not None

    assert check_reply_token(KEYS, token, today=date(2026, 3, 1)).valid
    assert check_reply_token(KEYS, token, today=date(2026, 3, 2)).problem is ReplyTokenProblem.EXPIRED


@pytest.mark.parametrize(
    ("address", "token"),
    [
        ("support@demo-shop.example", None),
        ("support+abc@other.example", None),
        ("sales+abc@demo-shop.example", None),
        ("Support+ABC@Demo-Shop.example", "abc"),
    ],
)
def test_only_tagged_forms_of_the_support_address_carry_a_token(address: str, token: str | None) -> None:
    assert token_of(address, SUPPORT) == token


def test_a_malformed_reply_token_is_refused() -> None:
    assert check_reply_token(KEYS, "hello").problem is ReplyTokenProblem.MALFORMED


def test_a_long_support_mailbox_is_refused_rather_than_making_addresses_too_long() -> None:
    with pytest.raises(ValueError, match="at most 15"):
        reply_address(KEYS, "customer-support-team@x.example", Thread(ThreadKind.TICKET, new_id()), expires=NEXT_MONTH)


def test_the_email_secret_may_hold_a_previous_key_during_rotation() -> None:
    keys = EmailKeys.from_secret(json.dumps({"current": KEYS.current, "previous": OTHER_KEYS.current}))

    assert (keys.current, keys.previous) == (KEYS.current, OTHER_KEYS.current)
    with pytest.raises(EmailKeyError):
        EmailKeys.from_secret("short")
    with pytest.raises(EmailKeyError):
        EmailKeys.from_secret('{"current": 1}')


def test_a_link_reads_back_what_it_was_issued_for() -> None:
    token = issue_link(KEYS, customer_id="alice", purpose=LinkPurpose.CSAT, subject_id="T1", ttl_seconds=600, score=4)

    claims = read_link(KEYS, token)

    assert (claims.customer_id, claims.purpose, claims.subject_id, claims.score) == ("alice", LinkPurpose.CSAT, "T1", 4)


def test_an_expired_link_is_refused_but_says_what_it_was_for() -> None:
    token = issue_link(
        KEYS, customer_id="alice", purpose=LinkPurpose.TICKET, subject_id="T1", ttl_seconds=60, now=time.time() - 3600
    )

    with pytest.raises(LinkRejected) as rejected:
        read_link(KEYS, token)

    assert rejected.value.problem is LinkProblem.EXPIRED
    assert rejected.value.claims is not None
    assert rejected.value.claims.subject_id == "T1"


def test_a_link_signed_with_another_key_or_tampered_with_is_forged() -> None:
    token = issue_link(OTHER_KEYS, customer_id="alice", purpose=LinkPurpose.TICKET, subject_id="T1", ttl_seconds=60)
    own = issue_link(KEYS, customer_id="alice", purpose=LinkPurpose.TICKET, subject_id="T1", ttl_seconds=60)
    header, payload, signature = own.split(".")

    with pytest.raises(LinkRejected) as other_key:
        read_link(KEYS, token)
    with pytest.raises(LinkRejected) as tampered:
        read_link(KEYS, f"{header}.{payload}.{signature[:-2]}AA")

    assert other_key.value.problem is LinkProblem.FORGED
    assert tampered.value.problem is LinkProblem.FORGED


def test_a_link_token_is_not_a_messenger_token_and_a_messenger_token_is_not_a_link() -> None:
    link = issue_link(KEYS, customer_id="alice", purpose=LinkPurpose.TICKET, subject_id="T1", ttl_seconds=60)
    session = sign_customer_token(KEYS.current, "alice")

    with pytest.raises(TokenRejected):
        verify_customer_token(link, KEYS.current)
    with pytest.raises(LinkRejected):
        read_link(KEYS, session)


def test_an_email_session_is_marked_as_such_and_only_it_may_carry_an_email_customer_id() -> None:
    secret = "messenger-secret-for-tests-of-decent-length"
    session = verify_customer_token(issue_email_session(secret, "email:01ABC", email="a@x.example", name="A"), secret)

    assert session.email_session
    assert session.email == "a@x.example"
    with pytest.raises(TokenRejected, match="email session"):
        verify_customer_token(sign_customer_token(secret, "email:01ABC"), secret)


def test_a_csat_link_needs_a_score_from_one_to_five() -> None:
    with pytest.raises(ValueError, match="score"):
        issue_link(KEYS, customer_id="a", purpose=LinkPurpose.CSAT, subject_id="T1", ttl_seconds=60, score=6)
    with pytest.raises(ValueError, match="score"):
        issue_link(KEYS, customer_id="a", purpose=LinkPurpose.TICKET, subject_id="T1", ttl_seconds=60, score=3)
