"""Hypothesis strategies for what the public can send: malformed tokens and malformed request bodies.

Every value drawn here is *wrong* by construction (each draw carries at least one defect that the
system must refuse), so a test can assert "refused, and nothing stored" for every example. Shared by
the in-process fuzz tests and the ones over HTTP on the local runtime.

- ``malformed_tokens(secret)``: compact JWTs with a defect in the encoding, the header, the claims or
  the signature; most are signed with the right secret, so they reach the checks after the signature.
- ``authorization_headers(tokens)``: those tokens in an ``Authorization`` header, ``Bearer`` spelt any way.
- ``malformed_bodies(valid)``: a valid JSON body for a route, broken one way (too deep, oversize or
  non-finite numbers, half a surrogate pair, truncated, not UTF-8, unknown or mistyped fields...).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

VALID_HEADER = {"alg": "HS256", "typ": "JWT"}
NOW = int(time.time())
"""One "now" for every draw: hypothesis needs the same choices to give the same values when it replays."""
RESERVED_CUSTOMER_PREFIXES = ("internal:", "INTERNAL:", "Internal:")

# --- JSON values -------------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
"""Any JSON value Python can write (no NaN/Infinity, integers within what ``json.dumps`` takes)."""

not_json_text_numbers = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400"])
oversize_integers = st.integers(min_value=20, max_value=6000).map(lambda digits: "9" * digits)
"""Integers with 20 to 6,000 digits (beyond 64 bits; past 4,300 Python's ``int()`` refuses them)."""


def deep(depth: int, kind: str = "[") -> str:
    close = "]" if kind == "[" else "}"
    opener = "[" if kind == "[" else '{"a":'
    return opener * depth + "1" + close * depth


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signed(header: bytes, payload: bytes, secret: str) -> str:
    signing_input = f"{b64(header)}.{b64(payload)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# --- tokens ------------------------------------------------------------------------------------------


@st.composite
def _valid_claims(draw: st.DrawFn) -> dict[str, Any]:
    user_id = draw(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=20))
    return {"user_id": f"fuzz-{user_id}", "iat": NOW, "exp": NOW + draw(st.integers(6 * 3600, 12 * 3600))}


@st.composite
def _header_defect(draw: st.DrawFn) -> Any:
    header: dict[str, Any] = dict(VALID_HEADER)
    match draw(st.sampled_from(["alg", "unknown", "crit", "kid", "typ", "not-object"])):
        case "alg":
            header["alg"] = draw(json_values.filter(lambda v: v != "HS256"))
        case "unknown":
            names = st.text(min_size=1, max_size=12).filter(lambda n: n not in VALID_HEADER and n != "kid")
            header |= draw(st.dictionaries(names, json_values, min_size=1, max_size=3))
        case "crit":
            header["crit"] = draw(json_values)
        case "kid":
            header["kid"] = draw(
                json_values.filter(lambda v: not isinstance(v, str)) | st.text(min_size=129, max_size=300)
            )
        case "typ":
            header["typ"] = draw(json_values.filter(lambda v: not (isinstance(v, str) and v.upper() == "JWT")))
        case _:
            return draw(json_values.filter(lambda v: not isinstance(v, dict)))
    return header


@st.composite
def _claims_defect(draw: st.DrawFn) -> bytes:
    claims = draw(_valid_claims())
    now = NOW
    match draw(
        st.sampled_from(
            ["missing", "user_id", "reserved", "visitor", "exp", "raw-number", "deep", "attributes", "not-object"]
        )
    ):
        case "missing":
            del claims[draw(st.sampled_from(["user_id", "exp"]))]
        case "user_id":
            claims["user_id"] = draw(
                json_values.filter(lambda v: not isinstance(v, str))
                | st.sampled_from(["", "   ", "a\nb", "\x00", "tab\there"])
                | st.text(min_size=257, max_size=400)
            )
        case "reserved":
            claims["user_id"] = draw(st.sampled_from(RESERVED_CUSTOMER_PREFIXES)) + draw(st.text(max_size=20))
        case "visitor":
            claims["user_id"] = "visitor:" + draw(st.text(max_size=20))
        case "exp":
            claims["exp"] = draw(
                st.integers(max_value=now - 120)
                | st.integers(min_value=now + 25 * 3600, max_value=2**62)
                | json_values.filter(lambda v: not isinstance(v, int | float) or isinstance(v, bool))
            )
        case "raw-number":
            name = draw(st.sampled_from(["exp", "iat", "nbf", "user_id"]))
            # (1e-400 reads as 0.0: a valid "iat" or "nbf", so not a defect here)
            number = draw(not_json_text_numbers.filter(lambda n: n != "1e-400") | oversize_integers)
            text = _dumps({k: v for k, v in claims.items() if k != name}).decode()
            return (text[:-1] + f',"{name}":{number}}}').encode()
        case "deep":
            text = _dumps(claims).decode()
            nesting = deep(draw(st.integers(min_value=9, max_value=3000)), draw(st.sampled_from(["[", "{"])))
            padded = text[:-1] + f',"context":{nesting}}}'
            # Deeply nested *and* otherwise valid: some of these are also too long for a token.
            return padded.encode()
        case "attributes":
            claims["attributes"] = draw(
                json_values.filter(lambda v: v is not None and not isinstance(v, dict))
                | st.dictionaries(st.text(max_size=5), st.lists(json_scalars, min_size=1), min_size=1, max_size=3)
                | st.dictionaries(st.text(max_size=5), st.just("x"), min_size=31, max_size=40)
            )
        case _:
            return _dumps(draw(json_values.filter(lambda v: not isinstance(v, dict))))
    return _dumps(claims)


def _decodes_the_same(part: str) -> list[str]:
    """Other spellings of a base64url part that decode to the same bytes (padding, stray low bits)."""
    spellings = [part + "=" * (-len(part) % 4 or 4)]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(part) % 4 in (2, 3):
        stray = alphabet.index(part[-1]) ^ 1  # a bit the decoder drops
        spellings.append(part[:-1] + alphabet[stray])
    return spellings


@st.composite
def malformed_tokens(draw: st.DrawFn, secret: str) -> str:
    """A token that must be refused, most of them signed with ``secret`` so every check is reached."""
    good_header, good_claims = _dumps(VALID_HEADER), _dumps(draw(_valid_claims()))
    match draw(st.sampled_from(["text", "bytes", "header", "claims", "signature", "spelling", "shape", "long"])):
        case "text":
            return draw(st.text(max_size=200).filter(lambda t: t.count(".") != 2 or not t.isascii()))
        case "bytes":
            # What arrives in an HTTP header that isn't ASCII (servers read header bytes as Latin-1)
            raw = draw(st.binary(min_size=1, max_size=200).filter(lambda b: any(c > 127 for c in b)))
            return raw.decode("latin-1")
        case "header":
            header = draw(_header_defect())
            raw = _dumps(header)
            if draw(st.booleans()):
                raw = draw(st.binary(min_size=1, max_size=30).filter(lambda b: _not_utf8(b)))
            return signed(raw, good_claims, secret)
        case "claims":
            payload = draw(_claims_defect())
            if draw(st.integers(0, 9)) == 0:
                payload = b"\xff\xfe" + payload
            return signed(good_header, payload, secret)
        case "signature":
            token = signed(good_header, good_claims, secret)
            head, _, _ = token.rpartition(".")
            wrong = draw(
                st.sampled_from(["other-secret", "empty", "random"]).map(
                    lambda kind: {
                        "other-secret": signed(good_header, good_claims, secret + "x").rpartition(".")[2],
                        "empty": "",
                        "random": None,
                    }[kind]
                )
            )
            if wrong is None:
                wrong = b64(draw(st.binary(min_size=1, max_size=64)))
            return f"{head}.{wrong}"
        case "spelling":
            parts = signed(good_header, good_claims, secret).split(".")
            index = draw(st.integers(0, 2))
            parts[index] = draw(st.sampled_from(_decodes_the_same(parts[index])))
            return ".".join(parts)
        case "shape":
            parts = signed(good_header, good_claims, secret).split(".")
            mutation = draw(st.sampled_from(["drop", "extra", "char", "space"]))
            if mutation == "drop":
                return ".".join(parts[: draw(st.integers(0, 2))])
            if mutation == "extra":
                return ".".join([*parts, draw(st.text(alphabet="abc-_", max_size=10))])
            where = draw(st.integers(0, len(parts[1])))
            inserted = draw(st.sampled_from(["+", "/", "=", "!", "é", " ", "\t", "%"]))
            parts[1] = parts[1][:where] + inserted + parts[1][where:]
            return ".".join(parts)
        case _:
            filler = draw(st.integers(min_value=8200, max_value=20000))
            claims = json.loads(good_claims) | {"name": "x" * filler}
            return signed(good_header, _dumps(claims), secret)


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@st.composite
def authorization_headers(draw: st.DrawFn, tokens: st.SearchStrategy[str]) -> str:
    scheme = draw(st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"]))
    gap = draw(st.sampled_from([" ", "  ", "\t", " \t "]))
    return f"{scheme}{gap}{draw(tokens)}"


# --- request bodies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MalformedBody:
    """A body to send, and how: ``text`` (or ``raw`` bytes, base64-encoded as API Gateway would) and its type."""

    defect: str
    text: str | None = None
    raw: bytes | None = None
    content_type: str = "application/json"


def _with_value(valid: dict[str, Any], key: str, value_text: str) -> str:
    """``valid`` as JSON text with ``key`` set to a value written as raw JSON text."""
    rest = {k: v for k, v in valid.items() if k != key}
    text = _dumps(rest).decode()
    separator = "," if rest else ""
    return text[:-1] + f'{separator}"{key}":{value_text}}}'


def _incompatible_with(value: Any) -> st.SearchStrategy[Any]:
    """Values no lenient parsing turns into ``value``'s type (pydantic reads 1 as true, "5" as 5...)."""
    lists = st.lists(json_scalars, max_size=3)
    objects = st.dictionaries(st.text(max_size=5), json_scalars, max_size=3)
    if isinstance(value, str):
        return lists | objects | st.integers() | st.booleans()
    if isinstance(value, list):
        return objects | st.text() | st.integers() | st.booleans()
    if isinstance(value, dict):
        return lists | st.text() | st.integers() | st.booleans()
    return lists | objects


@st.composite
def malformed_bodies(draw: st.DrawFn, valid: dict[str, Any]) -> MalformedBody:
    """``valid`` (a body the route accepts) with one defect that the route must refuse with a 4xx."""
    fields = sorted(valid)
    unknown = st.text(max_size=10).map(lambda name: f"unknown_{name}")  # never a field any route takes
    key = draw(st.sampled_from(fields) | unknown)
    escaped_key = json.dumps(key)[1:-1]
    defect = draw(
        st.sampled_from(
            [
                "deep",
                "number",
                "surrogate",
                "truncated",
                "not-utf8",
                "top-level",
                "unknown-field",
                "mistyped",
                "escape",
                "media-type",
                "huge",
            ]
        )
    )
    match defect:
        case "deep":
            depth = draw(st.integers(min_value=32, max_value=20000))
            return MalformedBody(defect, text=_with_value(valid, escaped_key, deep(depth, draw(st.sampled_from("[{")))))
        case "number":
            number = draw(not_json_text_numbers.filter(lambda n: n != "1e-400") | oversize_integers)
            return MalformedBody(defect, text=_with_value(valid, escaped_key, number))
        case "surrogate":
            half = draw(st.integers(min_value=0xD800, max_value=0xDFFF))
            text_key = draw(st.sampled_from([k for k, v in valid.items() if isinstance(v, str)] or fields))
            return MalformedBody(defect, text=_with_value(valid, text_key, f'"x\\u{half:04x}y"'))
        case "truncated":
            text = _dumps(valid).decode()
            return MalformedBody(defect, text=text[: draw(st.integers(min_value=1, max_value=len(text) - 1))])
        case "not-utf8":
            raw = _dumps(valid)
            where = draw(st.integers(0, len(raw)))
            junk = draw(st.binary(min_size=1, max_size=4).filter(_not_utf8))
            return MalformedBody(defect, raw=raw[:where] + junk + raw[where:])
        case "top-level":
            value = draw(json_values.filter(lambda v: not isinstance(v, dict) and v is not None))
            return MalformedBody(defect, text=json.dumps(value))
        case "unknown-field":
            return MalformedBody(defect, text=_dumps(valid | {draw(unknown): draw(json_values)}).decode())
        case "mistyped":
            name = draw(st.sampled_from(fields))
            return MalformedBody(defect, text=_dumps(valid | {name: draw(_incompatible_with(valid[name]))}).decode())
        case "escape":
            return MalformedBody(
                defect, text=_with_value(valid, escaped_key, draw(st.sampled_from(['"\\x41"', '"\\u12"', '"\\"'])))
            )
        case "media-type":
            media = draw(
                st.sampled_from(
                    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml"]
                )
            )
            return MalformedBody(defect, text=_dumps(valid).decode(), content_type=media)
        case _:
            size = draw(st.integers(min_value=64 * 1024 + 1, max_value=200 * 1024))
            return MalformedBody(defect, text=_with_value(valid, escaped_key, json.dumps("x" * size)))
