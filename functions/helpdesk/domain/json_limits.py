"""The JSON this system accepts from outside: how deep, which numbers, which text.

Python's ``json`` module reads whatever it is given: nesting until the interpreter's recursion
limit breaks, integers until 4,300 digits (then a ``ValueError``), ``NaN`` and ``Infinity``, and
strings holding half of a UTF-16 surrogate pair that no store will take later. Request bodies and
token segments are read here first, with limits a person's data never comes near:

- nested at most ``MAX_DEPTH`` levels (checked by a scan that doesn't recurse, before parsing);
- integers within 64 bits, decimals finite and between ``MIN_DECIMAL`` and ``MAX_DECIMAL`` in
  size (or 0): what DynamoDB stores exactly;
- text that is valid Unicode (no lone surrogates), keys included.

A refusal names where in the document the problem is, as the API names fields: ``context.attributes.a``,
``attachment_ids.0``; the whole document is ``body``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
MAX_INTEGER = 2**63 - 1
MIN_INTEGER = -(2**63)
MAX_DECIMAL = 1e100
MIN_DECIMAL = 1e-100
_MAX_INTEGER_DIGITS = len(str(MAX_INTEGER))  # 19: anything longer is out of range without converting it
WHOLE_DOCUMENT = "body"

# The characters that open and close containers, and whole strings (so brackets inside text don't count).
# An unterminated string runs to the end; the document is malformed anyway.
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\[\s\S])*"?|[{}\[\],:]')
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """The document can't be accepted; ``path`` says where, ``malformed`` that it isn't JSON at all."""

    def __init__(self, path: str, problem: str, *, malformed: bool = False) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
        self.malformed = malformed


class _Unrepresentable(str):
    """A number written in the document that no field may hold (kept as its text until it is located)."""

    problem = "is not a number JSON allows (NaN and Infinity aren't)"


class _OversizeInteger(_Unrepresentable):
    problem = f"is out of range: integers must be within {MIN_INTEGER} and {MAX_INTEGER}"


_DECIMAL_PROBLEM = f"is out of range: decimals must be finite and between {MIN_DECIMAL:g} and {MAX_DECIMAL:g} in size"


def loads(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The document ``text`` holds, or ``JsonRefused`` naming where it breaks a limit.

    Costs one pass of a regular expression and one ``json.loads``, whatever the document.
    """
    _check_depth(text, max_depth)
    try:
        document = json.loads(text, parse_int=_integer, parse_constant=_Unrepresentable)
    except RecursionError as error:  # unreachable after the depth check; kept so no input can crash a caller
        raise JsonRefused(WHOLE_DOCUMENT, f"is nested more than {max_depth} levels deep") from error
    except ValueError as error:
        raise JsonRefused(WHOLE_DOCUMENT, "is not valid JSON", malformed=True) from error
    problem = _first_problem(document, ())
    if problem is not None:
        raise problem
    return document


def _integer(text: str) -> int | _OversizeInteger:
    if len(text.lstrip("-")) > _MAX_INTEGER_DIGITS:
        return _OversizeInteger(text)
    value = int(text)
    return value if MIN_INTEGER <= value <= MAX_INTEGER else _OversizeInteger(text)


def _path(parts: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in parts) or WHOLE_DOCUMENT


def _first_problem(value: Any, where: tuple[str | int, ...]) -> JsonRefused | None:
    """The first value breaking a limit, depth first (the depth is at most MAX_DEPTH here)."""
    if isinstance(value, _Unrepresentable):
        return JsonRefused(_path(where), value.problem)
    if isinstance(value, str):
        return JsonRefused(_path(where), "is not valid Unicode text") if _LONE_SURROGATE.search(value) else None
    if isinstance(value, float):
        size = abs(value)
        fits = math.isfinite(value) and (size == 0 or MIN_DECIMAL <= size <= MAX_DECIMAL)
        return None if fits else JsonRefused(_path(where), _DECIMAL_PROBLEM)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _first_problem(item, (*where, index))) is not None:
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if _LONE_SURROGATE.search(key):
                return JsonRefused(_path((*where, _printable(key))), "is a name that is not valid Unicode text")
            if (found := _first_problem(item, (*where, key))) is not None:
                return found
    return None


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse nesting beyond ``max_depth`` without recursing, naming the path to the first level too deep."""
    # Each open container: [is_object, key or index, expecting a key]
    stack: list[list[Any]] = []
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in "{[":
            if len(stack) >= max_depth:
                where = tuple(frame[1] for frame in stack if frame[1] is not None)
                raise JsonRefused(_path(where), f"is nested more than {max_depth} levels deep")
            stack.append([token == "{", None if token == "{" else 0, token == "{"])
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ",":
            if stack and stack[-1][0]:
                stack[-1][2] = True
            elif stack:
                stack[-1][1] += 1
        elif token == ":":
            if stack and stack[-1][0]:
                stack[-1][2] = False
        elif stack and stack[-1][0] and stack[-1][2]:  # a string where a key is expected
            stack[-1][1] = _key(token)


def _key(token: str) -> str:
    try:
        key = json.loads(token)
    except ValueError:
        key = token.strip('"')
    return _printable(key) if isinstance(key, str) else token
