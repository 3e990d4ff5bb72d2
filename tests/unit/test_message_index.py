"""The full-text message index (SQLite FTS5 in one S3 object), over moto's S3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from helpdesk.adapters.message_index import INDEX_OBJECT, S3MessageIndex, match_expression
from helpdesk.domain.search_index import IndexedMessage, IndexOperation

BUCKET = "helpdesk-test-message-index"


@pytest.fixture
def bucket(aws: None) -> str:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


def _index(tmp_path: Path, name: str, s3: Any = None) -> S3MessageIndex:
    workdir = tmp_path / name
    workdir.mkdir()
    return S3MessageIndex(BUCKET, s3=s3, workdir=workdir, refresh_seconds=0)


def _add(message_id: str, conversation_id: str, customer_id: str, body: str) -> IndexOperation:
    return IndexOperation("add", message=IndexedMessage(message_id, conversation_id, customer_id, body))


def _stored() -> bytes:
    return bytes(boto3.client("s3").get_object(Bucket=BUCKET, Key=INDEX_OBJECT)["Body"].read())


def test_words_are_found_by_their_beginning_whatever_their_case_and_accents(bucket: str, tmp_path: Path) -> None:
    index = _index(tmp_path, "one")
    index.apply([_add("m1", "c1", "alice", "Le Café Crème était froid"), _add("m2", "c2", "bob", "Where's my REFUND?")])
    assert index.conversations_matching("cafe", limit=10) == ["c1"]
    assert index.conversations_matching("CRÈM", limit=10) == ["c1"]
    assert index.conversations_matching("refu", limit=10) == ["c2"]
    assert index.conversations_matching("cafe refund", limit=10) == []  # every word must match


def test_nothing_is_found_before_anything_is_indexed_and_punctuation_alone_is_no_query(
    bucket: str, tmp_path: Path
) -> None:
    index = _index(tmp_path, "one")
    assert index.conversations_matching("refund", limit=10) == []
    index.apply([_add("m1", "c1", "alice", "refund please")])
    assert index.conversations_matching('"*) OR (', limit=10) == []
    assert match_expression('" OR body:*') == '"or" AND "body" *'


def test_a_dropped_customer_leaves_no_word_in_the_stored_index(bucket: str, tmp_path: Path) -> None:
    # Given two customers' messages, one of them with a word no one else uses
    index = _index(tmp_path, "one")
    index.apply(
        [
            _add("m1", "c1", "alice", "my zanzibarquux teapot is cracked"),
            _add("m2", "c1", "alice", "zanzibarquux again"),
            _add("m3", "c2", "bob", "my teapot arrived fine"),
        ]
    )
    assert b"zanzibarquux" in _stored()
    # When the first customer is dropped (her erasure)
    index.apply([IndexOperation("drop", field="customer_id", value="alice")])
    # Then her words are gone from the object in S3, not only from the answers, and the other's stay
    assert b"zanzibarquux" not in _stored()
    assert index.conversations_matching("zanzibarquux", limit=10) == []
    assert index.conversations_matching("teapot", limit=10) == ["c2"]


def test_an_edited_message_is_found_only_by_its_new_words(bucket: str, tmp_path: Path) -> None:
    index = _index(tmp_path, "one")
    index.apply([_add("m1", "c1", "alice", "my order ORD-1 is late")])
    index.apply([IndexOperation("drop", value="m1"), _add("m1", "c1", "alice", "[removed]")])
    assert index.conversations_matching("late", limit=10) == []
    assert index.conversations_matching("removed", limit=10) == ["c1"]


def test_a_conversation_is_named_once_however_many_of_its_messages_match(bucket: str, tmp_path: Path) -> None:
    index = _index(tmp_path, "one")
    alices = [_add(f"m{n}", "c1", "alice", f"refund number {n}") for n in range(5)]
    index.apply([*alices, _add("x", "c2", "bob", "refund")])
    assert sorted(index.conversations_matching("refund", limit=10)) == ["c1", "c2"]
    assert len(index.conversations_matching("refund", limit=1)) == 1


def test_two_writers_at_once_lose_neither_batch(bucket: str, tmp_path: Path) -> None:
    # Given a writer whose upload is overtaken by another writer's (two stream shards at once)
    other = _index(tmp_path, "other")
    s3 = boto3.client("s3")

    class Overtaken:
        overtaken = False

        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        def put_object(self, **kwargs: Any) -> Any:
            if not self.overtaken:
                self.overtaken = True
                other.apply([_add("m2", "c2", "bob", "kettle")])
            return s3.put_object(**kwargs)

    first = _index(tmp_path, "first", s3=Overtaken())
    first.apply([_add("m0", "c0", "carol", "saucepan")])  # the first object
    # When its next batch is applied over a version the other replaced meanwhile
    first.apply([_add("m1", "c1", "alice", "teapot")])
    # Then both batches are in the index
    reader = _index(tmp_path, "reader")
    assert reader.conversations_matching("kettle", limit=10) == ["c2"]
    assert reader.conversations_matching("teapot", limit=10) == ["c1"]
    assert reader.conversations_matching("saucepan", limit=10) == ["c0"]


def test_a_python_whose_sqlite_lacks_full_text_search_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from helpdesk.adapters import message_index

    class NoFts5:
        def __init__(self, *_: Any) -> None: ...
        def execute(self, _: str) -> None:
            raise sqlite3.OperationalError("no such module: fts5")

        def close(self) -> None: ...

    message_index.require_fts5.cache_clear()
    monkeypatch.setattr(sqlite3, "connect", NoFts5)
    with pytest.raises(message_index.FullTextUnavailable, match="needs SQLite's FTS5"):
        message_index.require_fts5()
    message_index.require_fts5.cache_clear()
