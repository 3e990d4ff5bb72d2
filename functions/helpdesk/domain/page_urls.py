"""What of a page's address may be kept on a conversation: never its fragment, userinfo or secrets.

The messenger sends the address of the page the customer was on (``page_url``, ``referrer``), and
agents see it on the conversation. Addresses carry secrets more often than one would like: sign-in
links (``#token=...``, ``?code=...``), presigned links (``X-Amz-Signature``, ``sig``), password-reset
links, session ids. So an address is stored without its fragment, without ``user:password@``, and
without any query parameter whose name looks like a secret. The rule errs on the side of dropping:
a lost ``?promocode=`` costs an agent nothing, a kept ``?access_token=`` is a leak.

A parameter name looks like a secret when one of its words (split at punctuation and camelCase,
case-insensitive) is or ends with a short secret word (``key``, ``apikey``, ``code``, ``sig``), or
contains a longer one anywhere (``access_token``, ``tokenid``, ``jsessionid``, ``X-Amz-Signature``).
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

SECRET_WORDS = frozenset({"auth", "code", "hmac", "jwt", "key", "otp", "passwd", "pwd", "saml", "sid", "sig"})
"""Short secret words: a parameter is secret when one of its words is one or ends with one."""
SECRET_STEMS = frozenset({"authorization", "credential", "password", "secret", "session", "signature", "token"})
"""Longer ones: a parameter is secret when one of its words contains one (``jsessionid``, ``tokenid``)."""

_WORD_BREAKS = re.compile(r"[^a-z0-9]+")
_CAMEL_CASE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _words(name: str) -> list[str]:
    spaced = _CAMEL_CASE.sub(" ", name)
    return [word for word in _WORD_BREAKS.split(spaced.lower()) if word]


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter's name looks like it carries a secret."""
    for word in _words(name):
        if any(word.endswith((secret, secret + "s")) for secret in SECRET_WORDS):
            return True
        if any(stem in word for stem in SECRET_STEMS):
            return True
    return False


def scrub_page_url(url: str) -> str:
    """The address without its fragment, its userinfo and its secret-looking query parameters.

    Anything that isn't a URL with a scheme and a host (an app's screen name, a relative path) is
    kept as given, minus anything after ``#`` and a query string: there is no host to make sense of it.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # an invalid port or IPv6 literal: keep only what precedes any query or fragment
        return re.split(r"[?#]", url, maxsplit=1)[0]
    if not parts.scheme or not parts.hostname:
        return re.split(r"[?#]", url, maxsplit=1)[0]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    # Kept parameters stay exactly as written (encoding included): the address only ever gets shorter.
    kept = [
        field
        for field in parts.query.split("&")
        if field and not is_secret_parameter(unquote_plus(field.split("=")[0]))
    ]
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, "&".join(kept), ""))
