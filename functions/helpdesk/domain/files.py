"""Files customers and agents share: how long the links to move their bytes stay valid, an upload form,
and how a browser is told to handle a downloaded file.

A file is shown in the page (``Content-Disposition: inline``) only when it is an image, a video or a
PDF whose bytes were checked against its declared type when it was shared; anything else is always
a download (``attachment``), so a file can never become a page on the files' origin. Every link also
pins ``Content-Type`` to the declared type, whatever the stored object claims.
"""

from __future__ import annotations

from dataclasses import dataclass

UPLOAD_EXPIRY_SECONDS = 300
DOWNLOAD_EXPIRY_SECONDS = 300

INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "video/mp4",
        "video/quicktime",
        "application/pdf",
    }
)
"""Raster images, videos and PDF: never a type a browser runs scripts in as a page (no SVG, no HTML)."""


@dataclass(frozen=True)
class PresignedUpload:
    """A browser form POST straight to the file store: its URL and the form fields to send."""

    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class FileLinks:
    """Short-lived links to one shared file: to show it in the page (``view``) and to save it (``download``)."""

    view: str
    download: str
    expires_in: int = DOWNLOAD_EXPIRY_SECONDS
    thumbnail: str | None = None
    """A small JPEG of an image (``helpdesk.domain.thumbnails``), shown in the page in place of the original."""


def shown_inline(content_type: str, *, verified: bool) -> bool:
    """Whether a browser may show this file in the page rather than only save it."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return verified and media_type in INLINE_TYPES


def content_disposition(filename: str, *, inline: bool) -> str:
    """The header value for a link: the file's name without anything that could break out of the quotes."""
    safe_name = "".join(c for c in filename if c.isprintable() and c not in '"\\;') or "file"
    return f'{"inline" if inline else "attachment"}; filename="{safe_name}"'
