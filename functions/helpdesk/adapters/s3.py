"""What the S3 adapters share: the client, made on first use by its owner (never at import), and
telling a missing object from any other error."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
"""The error codes S3 answers for an object that isn't there (GET says NoSuchKey, HEAD only 404)."""


def s3_client(*, path_style: bool) -> Any:
    """SigV4 (presigned URLs need it); ``path_style`` behind a local endpoint, where virtual hosts don't resolve."""
    style = "path" if path_style else "virtual"
    return boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": style}))


def is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in MISSING


def get_or_none(client: Any, bucket: str, key: str) -> Any:
    """``GetObject``'s answer, or None if nothing is stored under ``key``."""
    try:
        return client.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if is_missing(error):
            return None
        raise
