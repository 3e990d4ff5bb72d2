"""Email's way in and out of AWS: the raw messages SES stored in S3, the files we keep from them, and
raw messages sent through SES.

``S3MailFiles`` reads a received message from the inbound bucket (only that bucket: the key comes
from a notification) and writes the files kept from it into the attachments bucket, under the same
keys the messenger's own uploads use. ``SesMailSender`` sends a complete MIME message
(``SendRawEmail``: our own Message-ID, In-Reply-To, References and List-Unsubscribe headers, which
templated sends can't carry) and says which Message-ID the recipient will see: SES replaces ours
with ``<id@<region>.amazonses.com>``, so both are recorded for threading.

Clients are created on first use, never at import.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from botocore.exceptions import ClientError

from helpdesk.adapters.s3 import s3_client
from helpdesk.domain.notifications import Undeliverable

_UNDELIVERABLE = {"MessageRejected", "InvalidParameterValue", "MailFromDomainNotVerifiedException"}


class S3MailFiles:
    def __init__(self, *, inbound_bucket: str, attachments_bucket: str, path_style: bool = False) -> None:
        self._inbound_bucket = inbound_bucket
        self._attachments_bucket = attachments_bucket
        self._path_style = path_style

    @cached_property
    def _s3(self) -> Any:
        return s3_client(path_style=self._path_style)

    def _inbound(self, bucket: str, doing: str) -> str:
        """``bucket``, if it is the inbound one (the bucket comes from a notification)."""
        if bucket != self._inbound_bucket:
            raise ValueError(f"received emails are {doing} the inbound bucket only, not {bucket!r}")
        return bucket

    def raw_message(self, bucket: str, key: str) -> bytes:
        body = self._s3.get_object(Bucket=self._inbound(bucket, "read from"), Key=key)["Body"]
        return bytes(body.read())

    def copy_original(self, bucket: str, key: str, filed_key: str) -> None:
        source = {"Bucket": self._inbound(bucket, "filed in"), "Key": key}
        self._s3.copy_object(Bucket=bucket, Key=filed_key, CopySource=source)

    def delete_original(self, bucket: str, key: str) -> None:
        self._s3.delete_object(Bucket=self._inbound(bucket, "deleted from"), Key=key)

    def put_attachment(self, key: str, data: bytes, content_type: str) -> None:
        self._s3.put_object(
            Bucket=self._attachments_bucket, Key=key, Body=data, ContentType=content_type, ServerSideEncryption="AES256"
        )


def ses_message_id_domain(region: str) -> str:
    """The domain of the Message-IDs SES gives the emails it sends from ``region``."""
    return "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"


class SesMailSender:
    def __init__(self, *, configuration_set: str | None, region: str, rewrites_message_id: bool = True) -> None:
        """``rewrites_message_id``: SES does; the local runtime's embedded SES doesn't."""
        self._configuration_set = configuration_set
        self._region = region
        self._rewrites = rewrites_message_id

    @cached_property
    def _ses(self) -> Any:
        return boto3.client("ses", region_name=self._region)

    def send_raw(self, raw: bytes, *, source: str, to: str, message_id: str) -> str:
        """Send; returns the Message-ID the recipient sees (without angle brackets)."""
        request: dict[str, Any] = {"Source": source, "Destinations": [to], "RawMessage": {"Data": raw}}
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._ses.send_raw_email(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _UNDELIVERABLE:
                raise Undeliverable(code) from error
            raise
        if not self._rewrites:
            return message_id
        return f"{response['MessageId']}@{ses_message_id_domain(self._region)}"
