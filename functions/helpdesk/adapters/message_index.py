"""The full-text index of conversations' messages: a tantivy index kept as one object in S3.

Tantivy (the maintained Rust search library behind Quickwit, with Python bindings) runs in-process:
BM25 ranking, Unicode word splitting and lower-casing, deletes by term. The index directory is packed
into one tar object (``SEARCH_INDEX_BUCKET``/``messages.tar``):

- **Writing** (the search indexer, fed by the table's stream): download the current object and its
  ETag, apply the batch's operations with one tantivy writer and commit, upload with ``If-Match`` on
  that ETag (``If-None-Match: *`` for the first). If another writer got there first S3 answers 412 and
  the batch is applied again on the newer index, so concurrent batches (several stream shards) never
  lose each other's changes: a single writer at a time in effect, without a lock.
- **Searching** (the inbox API): the unpacked index is kept in the function's ``/tmp`` and refreshed
  when the object's ETag changed (a HEAD at most every ``refresh_seconds``); a query is words, the
  last one a prefix (``refu`` finds "refund").

``tantivy`` is imported only here and only when the index is first used: functions that never search
don't load it (and it ships in its own layer, for the functions that do).
"""

from __future__ import annotations

import io
import re
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from helpdesk.domain.search_index import IndexOperation

if TYPE_CHECKING:
    import tantivy

INDEX_OBJECT = "messages.tar"
WRITER_HEAP = 32_000_000
"""Bytes of memory the tantivy writer may buffer before flushing a segment (tantivy's floor is 15 MB)."""
MAX_ATTEMPTS = 5
_WORD = re.compile(r"\w+")


def _schema() -> tantivy.Schema:
    import tantivy

    builder = tantivy.SchemaBuilder()
    for name in ("message_id", "conversation_id", "customer_id"):
        builder.add_text_field(name, stored=name == "conversation_id", tokenizer_name="raw")
    builder.add_text_field("body", stored=False)  # the words are indexed; the text itself is never kept here
    return builder.build()


class S3MessageIndex:
    """The message index in ``bucket``; ``workdir`` holds the unpacked copy (a temporary directory by default)."""

    def __init__(
        self, bucket: str, *, s3: Any = None, workdir: Path | None = None, refresh_seconds: float = 5.0
    ) -> None:
        self._bucket = bucket
        self._s3 = s3
        self._workdir = workdir or Path(tempfile.mkdtemp(prefix="message-index-"))
        self._refresh_seconds = refresh_seconds
        self._etag: str | None = None
        self._checked_at = float("-inf")
        self._index: tantivy.Index | None = None

    # --- searching --------------------------------------------------------------------------------

    def conversations_matching(self, text: str, *, limit: int) -> list[str]:
        """Ids of the conversations whose messages best match the words of ``text`` (the last one a prefix)."""
        import tantivy

        words = [w for w in _WORD.findall(text.casefold()) if len(w) <= 40][:8]
        index = self._current()
        if not words or index is None:
            return []
        schema = index.schema
        clauses = [(tantivy.Occur.Must, tantivy.Query.term_query(schema, "body", w)) for w in words[:-1]]
        clauses.append((tantivy.Occur.Must, tantivy.Query.regex_query(schema, "body", re.escape(words[-1]) + ".*")))
        searcher = index.searcher()
        found: dict[str, None] = {}
        for _, address in searcher.search(tantivy.Query.boolean_query(clauses), limit * 5).hits:
            conversation_id = searcher.doc(address).get_first("conversation_id")
            if conversation_id:
                found[str(conversation_id)] = None
            if len(found) == limit:
                break
        return list(found)

    def _current(self) -> tantivy.Index | None:
        now = time.monotonic()
        if self._index is not None and now - self._checked_at < self._refresh_seconds:
            return self._index
        self._checked_at = now
        try:
            etag = self._client().head_object(Bucket=self._bucket, Key=INDEX_OBJECT)["ETag"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None  # nothing indexed yet
            raise
        if etag != self._etag or self._index is None:
            self._load()
        return self._index

    # --- writing ----------------------------------------------------------------------------------

    def apply(self, operations: list[IndexOperation]) -> None:
        """Apply the operations in order as one commit, uploaded only over the version they were applied to."""
        for attempt in range(MAX_ATTEMPTS):
            self._load()
            index = self._index
            assert index is not None
            writer = index.writer(WRITER_HEAP, 1)
            for operation in operations:
                self._apply_one(writer, operation)
            writer.commit()
            writer.wait_merging_threads()
            index.reload()  # this process searches the new version too
            try:
                self._upload()
                return
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if (
                    code not in ("PreconditionFailed", "412", "ConditionalRequestConflict")
                    or attempt == MAX_ATTEMPTS - 1
                ):
                    raise
                time.sleep(0.05 * (attempt + 1))  # another batch was uploaded first: apply ours on top of it

    @staticmethod
    def _apply_one(writer: tantivy.IndexWriter, operation: IndexOperation) -> None:
        import tantivy

        if operation.action == "drop":
            writer.delete_documents_by_term(operation.field, operation.value)
            return
        message = operation.message
        assert message is not None
        writer.add_document(
            tantivy.Document(
                message_id=message.message_id,
                conversation_id=message.conversation_id,
                customer_id=message.customer_id,
                body=message.body,
            )
        )

    # --- the object in S3 -------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client("s3")
        return self._s3

    def _load(self) -> None:
        """Unpack the current object (or start an empty index) into a fresh directory, and open it."""
        import tantivy

        target = Path(tempfile.mkdtemp(dir=self._workdir))
        try:
            answer = self._client().get_object(Bucket=self._bucket, Key=INDEX_OBJECT)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
            etag = None
        else:
            etag = answer["ETag"]
            with tarfile.open(fileobj=io.BytesIO(answer["Body"].read()), mode="r:") as packed:
                packed.extractall(target, filter="data")
        previous = self._index_dir()
        self._index = tantivy.Index(_schema(), path=str(target), reuse=True)
        self._etag = etag
        if previous is not None and previous != target:
            shutil.rmtree(previous, ignore_errors=True)
        self._dir = target

    def _index_dir(self) -> Path | None:
        return getattr(self, "_dir", None)

    def _upload(self) -> None:
        directory = self._index_dir()
        assert directory is not None
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:") as packed:
            for path in sorted(directory.iterdir()):
                if path.is_file() and not path.name.endswith(".lock"):
                    packed.add(path, arcname=path.name)
        condition = {"IfMatch": self._etag} if self._etag else {"IfNoneMatch": "*"}
        answer = self._client().put_object(
            Bucket=self._bucket, Key=INDEX_OBJECT, Body=buffer.getvalue(), ContentType="application/x-tar", **condition
        )
        self._etag = answer["ETag"]
