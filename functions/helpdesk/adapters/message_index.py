"""The full-text index of conversations' messages: an SQLite FTS5 database kept as one object in S3.

SQLite ships with Python (the Lambda runtime included), so the index costs the functions no layer:
FTS5 ranks by BM25, splits words by Unicode rules, lower-cases and drops diacritics ("cafe" finds
"café"), and finds a word by its beginning (``refu`` finds "refund"). The database is one object
(``SEARCH_INDEX_BUCKET``/``messages.sqlite3``):

- **Writing** (the search indexer, fed by the table's stream): download the current object and its
  ETag, apply the batch's operations in one SQLite transaction, upload with ``If-Match`` on that ETag
  (``If-None-Match: *`` for the first). If another writer got there first S3 answers 412 and the batch
  is applied again on the newer database, so concurrent batches (several stream shards) never lose
  each other's changes: a single writer at a time in effect, without a lock.
- **Dropping** (an edited or removed message, an erased customer, an expired conversation): the
  database runs with ``secure_delete``, so what is deleted is overwritten, and a batch that dropped
  anything merges the full-text index into one segment, so no deleted word stays behind in an old one.
  Nothing of a dropped message is left in the object uploaded.
- **Searching** (the inbox API): the database is kept in the function's ``/tmp`` and fetched again
  when the object's ETag changed (a HEAD at most every ``refresh_seconds``); it is opened read-only.
  A query is words, all of which must match, the last one a prefix.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import threading
import time
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.domain.search_index import IndexOperation

INDEX_OBJECT = "messages.sqlite3"
MAX_ATTEMPTS = 5
MAX_WORDS = 8
_WORD = re.compile(r"\w+")
_NOT_FOUND = ("404", "NoSuchKey", "NotFound")
_CONFLICT = ("PreconditionFailed", "412", "ConditionalRequestConflict")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    customer_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_by_conversation ON documents (conversation_id);
CREATE INDEX IF NOT EXISTS documents_by_customer ON documents (customer_id);
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');
"""
"""``documents`` says whose each message is; ``words`` (rowid = ``documents.id``) holds its text, indexed."""

_DROPS = {
    field: (
        f"DELETE FROM words WHERE rowid IN (SELECT id FROM documents WHERE {field} = ?)",  # noqa: S608 (fixed names)
        f"DELETE FROM documents WHERE {field} = ?",  # noqa: S608
    )
    for field in ("message_id", "conversation_id", "customer_id")
}
"""The two statements that drop every message of a ``message_id``, ``conversation_id`` or ``customer_id``."""


class FullTextUnavailable(RuntimeError):
    """This Python's SQLite was built without FTS5 (the Lambda Python 3.13 runtime's has it)."""


@cache
def require_fts5() -> None:
    with closing(sqlite3.connect(":memory:")) as probe:
        try:
            probe.execute("CREATE VIRTUAL TABLE probe USING fts5 (body)")
        except sqlite3.OperationalError as error:
            raise FullTextUnavailable(
                f"the message index needs SQLite's FTS5, which SQLite {sqlite3.sqlite_version} here lacks ({error})"
            ) from None


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    require_fts5()
    if read_only:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    else:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten, not just unlinked
        connection.execute("PRAGMA journal_mode = MEMORY")  # the one file is all that is uploaded
    return connection


def match_expression(text: str) -> str | None:
    """The FTS5 query for ``text``: every word must match, the last one as the beginning of a word."""
    words = [w for w in _WORD.findall(text.lower()) if len(w) <= 40][:MAX_WORDS]
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]  # \\w+ holds no quote: each word is a plain FTS5 string
    quoted[-1] += " *"
    return " AND ".join(quoted)


class S3MessageIndex:
    """The message index in ``bucket``; ``workdir`` holds the local copy (a temporary directory by default)."""

    def __init__(
        self, bucket: str, *, s3: Any = None, workdir: Path | None = None, refresh_seconds: float = 5.0
    ) -> None:
        self._bucket = bucket
        self._s3 = s3
        self._workdir = workdir or Path(tempfile.mkdtemp(prefix="message-index-"))
        self._refresh_seconds = refresh_seconds
        self._etag: str | None = None
        self._checked_at = float("-inf")
        self._path: Path | None = None
        self._lock = threading.Lock()  # one copy at a time: the local runtime searches and indexes in one process

    # --- searching --------------------------------------------------------------------------------

    def conversations_matching(self, text: str, *, limit: int) -> list[str]:
        """Ids of the conversations whose messages best match the words of ``text`` (the last one a prefix)."""
        expression = match_expression(text)
        if expression is None:
            return []
        with self._lock:
            database = self._current()
            if database is None:
                return []
            with closing(_connect(database, read_only=True)) as reader:
                rows = reader.execute(
                    "SELECT documents.conversation_id FROM words JOIN documents ON documents.id = words.rowid"
                    " WHERE words MATCH ? ORDER BY words.rank LIMIT ?",
                    (expression, limit * 5),
                ).fetchall()
        found: dict[str, None] = {}
        for (conversation_id,) in rows:
            found[conversation_id] = None
            if len(found) == limit:
                break
        return list(found)

    def _current(self) -> Path | None:
        now = time.monotonic()
        if self._path is not None and now - self._checked_at < self._refresh_seconds:
            return self._path
        self._checked_at = now
        try:
            etag = self._client().head_object(Bucket=self._bucket, Key=INDEX_OBJECT)["ETag"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return None  # nothing indexed yet
            raise
        if etag != self._etag or self._path is None:
            self._load()
        return self._path

    # --- writing ----------------------------------------------------------------------------------

    def apply(self, operations: list[IndexOperation]) -> None:
        """Apply the operations in order as one transaction, uploaded only over the version they were applied to."""
        with self._lock:
            self._apply(operations)

    def _apply(self, operations: list[IndexOperation]) -> None:
        for attempt in range(MAX_ATTEMPTS):
            self._load()
            with closing(_connect(self._database())) as writer:
                writer.executescript(_SCHEMA)
                writer.execute("BEGIN")
                for operation in operations:
                    _apply_one(writer, operation)
                writer.execute("COMMIT")
                if any(operation.action == "drop" for operation in operations):
                    writer.execute("INSERT INTO words (words) VALUES ('optimize')")  # one segment: no dropped word kept
            try:
                self._upload()
                return
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in _CONFLICT or attempt == MAX_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))  # another batch was uploaded first: apply ours on top of it

    # --- the object in S3 -------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client("s3")
        return self._s3

    def _database(self) -> Path:
        assert self._path is not None, "the index is loaded first"
        return self._path

    def _load(self) -> None:
        """Fetch the current object (or start an empty database) into a fresh file."""
        descriptor, name = tempfile.mkstemp(dir=self._workdir, suffix=".sqlite3")
        os.close(descriptor)  # only the name is wanted: kept open, every reload would leak a descriptor
        target = Path(name)
        try:
            answer = self._client().get_object(Bucket=self._bucket, Key=INDEX_OBJECT)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _NOT_FOUND:
                target.unlink(missing_ok=True)
                raise
            etag = None
        else:
            etag = answer["ETag"]
            with target.open("wb") as file:
                for chunk in answer["Body"].iter_chunks(1024 * 1024):
                    file.write(chunk)
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        self._path, self._etag = target, etag

    def _upload(self) -> None:
        condition = {"IfMatch": self._etag} if self._etag else {"IfNoneMatch": "*"}
        answer = self._client().put_object(
            Bucket=self._bucket,
            Key=INDEX_OBJECT,
            Body=self._database().read_bytes(),
            ContentType="application/vnd.sqlite3",
            **condition,
        )
        self._etag = answer["ETag"]


def _apply_one(writer: sqlite3.Connection, operation: IndexOperation) -> None:
    if operation.action == "drop":
        for statement in _DROPS[operation.field]:
            writer.execute(statement, (operation.value,))
        return
    message = operation.message
    assert message is not None
    cursor = writer.execute(
        "INSERT INTO documents (message_id, conversation_id, customer_id) VALUES (?, ?, ?)"
        " ON CONFLICT (message_id) DO UPDATE SET conversation_id = excluded.conversation_id RETURNING id",
        (message.message_id, message.conversation_id, message.customer_id),
    )
    (document_id,) = cursor.fetchone()
    writer.execute("DELETE FROM words WHERE rowid = ?", (document_id,))
    writer.execute("INSERT INTO words (rowid, body) VALUES (?, ?)", (document_id, message.body))
