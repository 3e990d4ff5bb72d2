"""The JSON the system accepts from outside: read without ever failing, refused naming where it breaks a limit."""

from __future__ import annotations

import json

import pytest
from helpdesk.domain.json_limits import MAX_DEPTH, JsonRefused, loads
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.fuzzing import deep, json_values


def read(text: str) -> object:
    """The document, or the refusal (any other exception fails the test)."""
    try:
        return loads(text)
    except JsonRefused as refused:
        return refused


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300) | st.text(alphabet='[]{}",:0123456789eE.-\\nul', max_size=3000))
def test_any_text_is_read_or_refused_never_an_error(text: str) -> None:
    outcome = read(text)
    if isinstance(outcome, JsonRefused):
        assert outcome.path
        assert outcome.problem


@settings(max_examples=200, deadline=None)
@given(value=json_values.filter(lambda v: "9223372036854775807" not in json.dumps(v)))
def test_ordinary_documents_read_as_json_reads_them(value: object) -> None:
    text = json.dumps(value)
    outcome = read(text)
    if isinstance(outcome, JsonRefused):  # only for numbers beyond 64 bits or DynamoDB's decimals
        assert "out of range" in outcome.problem
    else:
        assert outcome == json.loads(text)


def test_nesting_up_to_the_limit_is_fine_and_one_more_level_is_refused_naming_the_path() -> None:
    assert loads(deep(MAX_DEPTH - 1)) is not None
    with pytest.raises(JsonRefused) as refused:
        loads('{"a":[0,{"b":' + deep(MAX_DEPTH) + "}]}")
    assert refused.value.path == "a.1.b" + ".0" * (MAX_DEPTH - 3)
    assert not refused.value.malformed


def test_brackets_inside_text_are_not_nesting() -> None:
    text = json.dumps({"body": "[" * 500 + '{"' * 200})
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"n": 9223372036854775808}', "n"),
        ('{"n": -9223372036854775809}', "n"),
        ('{"n": [1, 2, 1' + "0" * 4400 + "]}", "n.2"),
        ('{"n": 1e101}', "n"),
        ('{"n": 1e-101}', "n"),
        ('{"n": NaN}', "n"),
        ('{"n": Infinity}', "n"),
    ],
    ids=["2^63", "-2^63-1", "4401-digits", "1e101", "1e-101", "nan", "infinity"],
)
def test_numbers_no_field_may_hold_are_refused(text: str, path: str) -> None:
    with pytest.raises(JsonRefused) as refused:
        loads(text)
    assert refused.value.path == path


def test_the_largest_numbers_that_fit_are_kept() -> None:
    assert loads('{"a": 9223372036854775807, "b": -9223372036854775808, "c": 1e100, "d": 0.0}') == {
        "a": 2**63 - 1,
        "b": -(2**63),
        "c": 1e100,
        "d": 0.0,
    }


def test_malformed_text_is_told_apart_from_text_beyond_a_limit() -> None:
    with pytest.raises(JsonRefused) as refused:
        loads('{"a": 1')
    assert (refused.value.path, refused.value.malformed) == ("body", True)
