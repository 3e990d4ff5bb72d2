"""Link tokens: what makes a link in an email open the right thing for the right person, once.

Every link in an email is ``<messenger page>?ticket=<id>&link=<token>`` (or ``?conversation=``). The
token is a JWT (HS256) signed with the *email* key (``email_keys``), with an audience no messenger
token has, so neither can stand in for the other. Its claims:

``sub``       the customer it was sent to
``purpose``   ``ticket`` (open it), ``conversation``, ``csat`` (with ``score``), ``unsubscribe``
``tid``       the ticket or conversation id it is for
``score``     1-5, on ``csat`` links only
``jti``       a random id, recorded when the link is used: a second use is refused
``exp``       short-lived (a week by default, configurable per workspace)

The messenger page exchanges the token (``POST /messenger/links``) for a customer session limited to
that customer and marked as email-verified, never app-verified; single use and the ticket check are
the service's job (``services/email_links.py``), the signature, audience and expiry are checked here.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import jwt

from helpdesk.auth.email_keys import EmailKeys

AUDIENCE = "helpdesk:email-link"
ALGORITHM = "HS256"
CLOCK_SKEW_SECONDS = 30


class LinkPurpose(StrEnum):
    TICKET = "ticket"
    CONVERSATION = "conversation"
    CSAT = "csat"
    UNSUBSCRIBE = "unsubscribe"


class LinkProblem(StrEnum):
    MALFORMED = "malformed"
    FORGED = "forged"
    EXPIRED = "expired"


class LinkRejected(Exception):
    def __init__(self, problem: LinkProblem, claims: LinkClaims | None = None) -> None:
        super().__init__(f"link token is {problem.value}")
        self.problem = problem
        self.claims = claims
        """For an expired link: what it was for (its signature was good), so a fresh one can be sent."""


@dataclass(frozen=True)
class LinkClaims:
    customer_id: str
    purpose: LinkPurpose
    subject_id: str
    """The ticket or conversation the link is for."""
    nonce: str
    expires_at: int
    score: int | None = None


def issue_link(
    keys: EmailKeys,
    *,
    customer_id: str,
    purpose: LinkPurpose,
    subject_id: str,
    ttl_seconds: int,
    score: int | None = None,
    now: float | None = None,
) -> str:
    if (purpose is LinkPurpose.CSAT) != (score is not None) or (score is not None and not 1 <= score <= 5):
        raise ValueError("a csat link carries a score from 1 to 5, and only a csat link does")
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "sub": customer_id,
        "aud": AUDIENCE,
        "purpose": purpose.value,
        "tid": subject_id,
        "jti": secrets.token_urlsafe(12),
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if score is not None:
        claims["score"] = score
    return jwt.encode(claims, keys.current, algorithm=ALGORITHM, headers={"kid": keys.current_id})


def read_link(keys: EmailKeys, token: str) -> LinkClaims:
    """The link's claims; raises ``LinkRejected`` (with the claims, when only its time is up)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as error:
        raise LinkRejected(LinkProblem.MALFORMED) from error
    if header.get("alg") != ALGORITHM:
        raise LinkRejected(LinkProblem.FORGED)
    candidates = keys.named(str(header.get("kid", "")))
    if not candidates:
        raise LinkRejected(LinkProblem.FORGED)
    required = ["exp", "sub", "jti", "aud"]
    for key in candidates:
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": required, "verify_iat": False},
                leeway=CLOCK_SKEW_SECONDS,
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError as error:
            expired = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": required, "verify_iat": False, "verify_exp": False},
            )
            raise LinkRejected(LinkProblem.EXPIRED, _claims(expired)) from error
        except jwt.InvalidTokenError as error:
            raise LinkRejected(LinkProblem.MALFORMED) from error
        return _claims(payload)
    raise LinkRejected(LinkProblem.FORGED)


def _claims(payload: dict[str, object]) -> LinkClaims:
    try:
        purpose = LinkPurpose(str(payload.get("purpose")))
    except ValueError as error:
        raise LinkRejected(LinkProblem.MALFORMED) from error
    score = payload.get("score")
    subject = payload.get("tid")
    exp = payload.get("exp")
    if not isinstance(subject, str) or not isinstance(exp, int) or (score is not None and not isinstance(score, int)):
        raise LinkRejected(LinkProblem.MALFORMED)
    return LinkClaims(
        customer_id=str(payload["sub"]),
        purpose=purpose,
        subject_id=subject,
        nonce=str(payload["jti"]),
        expires_at=exp,
        score=score if isinstance(score, int) else None,
    )
