"""S3 for the data-protection requests: reading a customer's files (and emails as received) into their
export, writing the export's zip and signing its link, deleting their files and emails, and rewriting
the lake's objects without their events (``helpdesk.domain.lake.ERASURE``: the lake is rewritten,
not tomb-stoned).

Clients are created on first use; tests inject one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any

from helpdesk.adapters.s3 import get_or_none, s3_client
from helpdesk.domain import lake
from helpdesk.domain.files import content_disposition
from helpdesk.domain.privacy import EXPORT_LINK_SECONDS
from helpdesk.settings import SettingMissing

DELETE_BATCH = 1000
"""DeleteObjects takes at most this many keys a call."""


class S3PrivacyFiles:
    def __init__(
        self,
        files_bucket: str | None,
        lake_bucket: str | None,
        *,
        inbound_bucket: str | None = None,
        path_style: bool = False,
        client: Any = None,
    ) -> None:
        """``inbound_bucket``: the emails SES received (a deployment without email has none)."""
        self._files_bucket = files_bucket
        self._lake_bucket = lake_bucket
        self._inbound_bucket = inbound_bucket
        self._path_style = path_style
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client if self._client is not None else s3_client(path_style=self._path_style)

    @property
    def files_bucket(self) -> str:
        if not self._files_bucket:
            raise SettingMissing("ATTACHMENTS_BUCKET is not set: this function can't reach the customers' files")
        return self._files_bucket

    # --- export -----------------------------------------------------------------------------------

    def read_file(self, key: str) -> bytes | None:
        """A stored file's bytes, or None if it was never uploaded (or is gone)."""
        stored = get_or_none(self.client, self.files_bucket, key)
        if stored is None:
            return None
        with stored["Body"] as body:
            data: bytes = body.read()
        return data

    def write_export(self, key: str, body: bytes) -> None:
        self.client.put_object(
            Bucket=self.files_bucket, Key=key, Body=body, ContentType="application/zip", ServerSideEncryption="AES256"
        )

    def export_link(self, key: str, filename: str) -> str:
        """A short-lived GET link (signed locally: no request to S3)."""
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.files_bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename, inline=False),
                "ResponseContentType": "application/zip",
            },
            ExpiresIn=EXPORT_LINK_SECONDS,
        )
        return url

    # --- erasure ----------------------------------------------------------------------------------

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix`` in the files bucket; how many there were."""
        return self._delete_keys(self.files_bucket, list(self._keys(self.files_bucket, prefix)))

    def email_originals(self, prefix: str) -> dict[str, bytes]:
        if not self._inbound_bucket:
            return {}
        found = {}
        for key in self._keys(self._inbound_bucket, prefix):
            stored = self.client.get_object(Bucket=self._inbound_bucket, Key=key)
            with stored["Body"] as body:
                found[key.rpartition("/")[2]] = body.read()
        return found

    def delete_email_originals(self, prefix: str) -> int:
        if not self._inbound_bucket:
            return 0
        return self._delete_keys(self._inbound_bucket, list(self._keys(self._inbound_bucket, prefix)))

    def rewrite_lake(self, keep: Callable[[Mapping[str, Any]], bool], since_day: str) -> tuple[int, int]:
        """Rewrite each lake object (of partitions from ``since_day`` on) that holds an event ``keep``
        refuses, without those events (an object left empty stays, empty: readers that mirror the bucket
        by ETag see it change). Returns (objects rewritten, events removed)."""
        if not self._lake_bucket:
            return 0, 0
        rewritten = removed = 0
        for key in self._keys(self._lake_bucket, lake.EVENTS_PREFIX):
            day = key.partition("/dt=")[2][:10]
            if day and day < since_day:
                continue
            stored = self.client.get_object(Bucket=self._lake_bucket, Key=key)
            with stored["Body"] as body:
                events = lake.decode(body.read())
            kept = [e for e in events if keep(e)]
            if len(kept) == len(events):
                continue
            removed += len(events) - len(kept)
            rewritten += 1
            self.client.put_object(Bucket=self._lake_bucket, Key=key, Body=lake.encode(kept))
        return rewritten, removed

    def lake_events(self, wanted: Callable[[Mapping[str, Any]], bool], since_day: str) -> list[dict[str, Any]]:
        """The lake's events ``wanted`` picks (partitions from ``since_day`` on), oldest object first."""
        if not self._lake_bucket:
            return []
        found: list[dict[str, Any]] = []
        for key in sorted(self._keys(self._lake_bucket, lake.EVENTS_PREFIX)):
            day = key.partition("/dt=")[2][:10]
            if day and day < since_day:
                continue
            stored = self.client.get_object(Bucket=self._lake_bucket, Key=key)
            with stored["Body"] as body:
                found += [e for e in lake.decode(body.read()) if wanted(e)]
        return found

    def _keys(self, bucket: str, prefix: str) -> Iterator[str]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield str(entry["Key"])

    def _delete_keys(self, bucket: str, keys: list[str]) -> int:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            self.client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        return len(keys)
