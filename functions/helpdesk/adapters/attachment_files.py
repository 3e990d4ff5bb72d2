"""The attachments bucket: presigned uploads and downloads, and reading back what an upload stored.

The bucket is private; files only move through short-lived presigned URLs this module issues.
The S3 client is created on first use, never at import.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.adapters.s3 import get_or_none, is_missing, s3_client
from helpdesk.domain.file_signatures import HEAD_BYTES, StoredFile
from helpdesk.domain.files import (
    DOWNLOAD_EXPIRY_SECONDS,
    UPLOAD_EXPIRY_SECONDS,
    PresignedUpload,
    content_disposition,
)
from helpdesk.domain.thumbnails import THUMBNAIL_CONTENT_TYPE
from helpdesk.settings import SettingMissing


class S3AttachmentFiles:
    """``path_style``: behind a local endpoint (the embedded AWS) virtual-host URLs don't resolve."""

    def __init__(self, bucket: str | None, *, path_style: bool = False, client: Any = None) -> None:
        self._bucket = bucket
        self._path_style = path_style
        self._client = client

    @property
    def bucket(self) -> str:
        if not self._bucket:
            raise SettingMissing("ATTACHMENTS_BUCKET is not set: this function can't reach the attachments")
        return self._bucket

    @cached_property
    def client(self) -> Any:
        return self._client if self._client is not None else s3_client(path_style=self._path_style)

    def presigned_upload(self, key: str, content_type: str, size: int) -> PresignedUpload:
        """A browser form POST that S3 accepts only with this exact type and at most ``size`` bytes."""
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size]],
            ExpiresIn=UPLOAD_EXPIRY_SECONDS,
        )
        return PresignedUpload(url=post["url"], fields=dict(post["fields"]))

    def presigned_download(self, key: str, filename: str, content_type: str, *, inline: bool = False) -> str:
        """A GET link that makes S3 answer with the declared type, and ``inline`` only when asked to.

        Signing is local: no request to S3.
        """
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename, inline=inline),
                "ResponseContentType": content_type,
            },
            ExpiresIn=DOWNLOAD_EXPIRY_SECONDS,
        )
        return url

    def stored_file(self, key: str) -> StoredFile | None:
        """The stored object's size, content type and first bytes, or None if nothing was uploaded.

        One ranged GET (no HEAD): S3 answers the first ``HEAD_BYTES`` bytes with the whole object's
        size in ``Content-Range`` and its ``Content-Type``.
        """
        try:
            stored = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{HEAD_BYTES - 1}")
        except ClientError as error:
            if is_missing(error):
                return None
            # an empty object has no first byte to return
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                head = self.client.head_object(Bucket=self.bucket, Key=key)
                return StoredFile(size=int(head["ContentLength"]), content_type=head.get("ContentType", ""), head=b"")
            raise
        with stored["Body"] as body:
            head = body.read(HEAD_BYTES)
        content_range = str(stored.get("ContentRange") or "")
        size = int(content_range.rsplit("/", 1)[1]) if "/" in content_range else int(stored["ContentLength"])
        return StoredFile(size=size, content_type=str(stored.get("ContentType") or ""), head=head)

    def exists(self, key: str) -> bool:
        """One HEAD: whether something is stored under ``key`` (a thumbnail the thumbnailer has made)."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if is_missing(error):
                return False
            raise
        return True

    def read_object(self, key: str, *, max_bytes: int) -> bytes | None:
        """The whole object, or None if it is gone or bigger than ``max_bytes`` (then nothing is read)."""
        stored = get_or_none(self.client, self.bucket, key)
        if stored is None:
            return None
        with stored["Body"] as body:
            if int(stored.get("ContentLength") or 0) > max_bytes:
                return None
            data: bytes = body.read(max_bytes + 1)
        return None if len(data) > max_bytes else data

    def write_thumbnail(self, key: str, jpeg: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=jpeg,
            ContentType=THUMBNAIL_CONTENT_TYPE,
            CacheControl="private, max-age=300",
        )
