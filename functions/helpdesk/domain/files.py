"""Files customers and agents share: how long the links to move their bytes stay valid, and an upload form."""

from __future__ import annotations

from dataclasses import dataclass

UPLOAD_EXPIRY_SECONDS = 300
DOWNLOAD_EXPIRY_SECONDS = 300


@dataclass(frozen=True)
class PresignedUpload:
    """A browser form POST straight to the file store: its URL and the form fields to send."""

    url: str
    fields: dict[str, str]
