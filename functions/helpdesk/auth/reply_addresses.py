"""Per-thread reply addresses: ``support+<signed token>@<support domain>``.

Every email we send about a conversation or a ticket says "reply to this address"; the address names
the thread and carries an HMAC over it, so a reply lands on the right thread and nobody can make up
an address for a thread they weren't sent. The token is fixed-width, lower-case base32 (local parts
are case-insensitive in practice; some servers lower-case them), and short enough that
``support+<token>`` stays within the 64 characters RFC 5321 allows a local part:

==========  =====  ============================================================================
part        chars  what
==========  =====  ============================================================================
kind        1      ``c`` conversation, ``t`` ticket
key id      1      which email key signed it (``email_keys``)
thread id   26     the conversation's or ticket's ULID (Crockford base32, lower-cased)
expires     4      day number (since 2020-01-01, base32) after which the token is refused
signature   16     HMAC-SHA256 over the above, first 80 bits, base32
==========  =====  ============================================================================

48 characters: the mailbox part before ``+`` may be up to 15 characters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from helpdesk.auth.email_keys import EmailKeys

TOKEN_LENGTH = 48
MAX_LOCAL_PART = 64
MAX_MAILBOX_LENGTH = MAX_LOCAL_PART - TOKEN_LENGTH - 1
EPOCH = date(2020, 1, 1)
ULID_CHARS = "0123456789abcdefghjkmnpqrstvwxyz"
TOKEN = re.compile(rf"^([ct])([a-z2-7])([{ULID_CHARS}]{{26}})([a-z2-7]{{4}})([a-z2-7]{{16}})$")
B32 = "abcdefghijklmnopqrstuvwxyz234567"


class ThreadKind(StrEnum):
    CONVERSATION = "c"
    TICKET = "t"


@dataclass(frozen=True)
class Thread:
    kind: ThreadKind
    id: str
    """The conversation's or ticket's id, as the table has it (upper-case ULID)."""


class ReplyTokenProblem(StrEnum):
    MALFORMED = "malformed"
    FORGED = "forged"
    """The signature doesn't match, or names a key we don't have."""
    EXPIRED = "expired"


@dataclass(frozen=True)
class ReplyTokenCheck:
    thread: Thread | None
    problem: ReplyTokenProblem | None = None

    @property
    def valid(self) -> bool:
        return self.problem is None


def _b32(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        chars.append(B32[number % 32])
        number //= 32
    return "".join(reversed(chars))


def _b32_number(text: str) -> int:
    number = 0
    for char in text:
        number = number * 32 + B32.index(char)
    return number


def _signature(key: str, body: str) -> str:
    digest = hmac.new(key.encode(), f"reply-address|{body}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def reply_token(keys: EmailKeys, thread: Thread, *, expires: datetime) -> str:
    """The signed token for ``thread``, valid through the day of ``expires`` (UTC)."""
    if len(thread.id) != 26 or any(c not in ULID_CHARS for c in thread.id.lower()):
        raise ValueError("a thread id is a 26-character ULID")
    day = (expires.astimezone(UTC).date() - EPOCH).days
    body = f"{thread.kind.value}{keys.current_id}{thread.id.lower()}{_b32(day, 4)}"
    return body + _signature(keys.current, body)


def reply_address(keys: EmailKeys, support_address: str, thread: Thread, *, expires: datetime) -> str:
    """``mailbox+<token>@domain`` for the workspace's support address."""
    mailbox, _, domain = support_address.partition("@")
    if len(mailbox) > MAX_MAILBOX_LENGTH:
        raise ValueError(f"the support mailbox must be at most {MAX_MAILBOX_LENGTH} characters to carry a token")
    return f"{mailbox}+{reply_token(keys, thread, expires=expires)}@{domain}"


def token_of(address: str, support_address: str) -> str | None:
    """The token in ``address`` if it is a tagged form of ``support_address`` (``None`` otherwise)."""
    mailbox, _, domain = support_address.lower().partition("@")
    local, _, to_domain = address.strip().strip("<>").lower().rpartition("@")
    base, plus, tag = local.partition("+")
    if to_domain != domain or base != mailbox or not plus:
        return None
    return tag


def check_reply_token(keys: EmailKeys, token: str, *, today: date | None = None) -> ReplyTokenCheck:
    """Which thread ``token`` names, and whether it can be trusted (signature, key, expiry)."""
    match = TOKEN.match(token.strip().lower())
    if match is None:
        return ReplyTokenCheck(None, ReplyTokenProblem.MALFORMED)
    kind, key, thread_id, day, signature = match.groups()
    body = token.strip().lower()[: TOKEN_LENGTH - 16]
    thread = Thread(ThreadKind(kind), thread_id.upper())
    if not any(hmac.compare_digest(_signature(k, body), signature) for k in keys.named(key)):
        return ReplyTokenCheck(thread, ReplyTokenProblem.FORGED)
    current = today or datetime.now(UTC).date()
    if EPOCH + timedelta(days=_b32_number(day)) < current:
        return ReplyTokenCheck(thread, ReplyTokenProblem.EXPIRED)
    return ReplyTokenCheck(thread)
