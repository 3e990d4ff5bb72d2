"""Thumbnails: draws a small JPEG of each uploaded image, once S3 has stored it.

The thumbnailer hears of every object created under ``attachments/`` (an S3 event notification
through a queue). It reads only what is an image within the limits (``helpdesk.domain.thumbnails``):
anything else, too large, or not decodable as an image is skipped with its reason, never retried, so
an odd upload makes no retry storm. A thumbnail is written next to the original under
``thumbnails/``; making it again (a redelivered notification) writes the same picture.
"""

from __future__ import annotations

from helpdesk.domain.thumbnails import (
    ATTACHMENTS_PREFIX,
    MAX_SOURCE_BYTES,
    ThumbnailOutcome,
    thumbnail_key,
)
from helpdesk.services.ports import ImageShrinker, StoredObjects


class ThumbnailService:
    def __init__(self, objects: StoredObjects, shrinker: ImageShrinker) -> None:
        self._objects = objects
        self._shrinker = shrinker

    def make(self, key: str, size: int | None = None) -> ThumbnailOutcome:
        """Draws the thumbnail of the upload stored under ``key`` (``size``: what S3 announced)."""
        if not key.startswith(ATTACHMENTS_PREFIX):
            return ThumbnailOutcome(key, made=False, reason="not an attachment")
        if size is not None and size > MAX_SOURCE_BYTES:
            return ThumbnailOutcome(key, made=False, reason="file too large")
        original = self._objects.read_object(key, max_bytes=MAX_SOURCE_BYTES)
        if original is None:
            return ThumbnailOutcome(key, made=False, reason="file gone or too large")
        shrunk = self._shrinker.thumbnail(original)
        if shrunk.jpeg is None:
            return ThumbnailOutcome(key, made=False, reason=shrunk.reason)
        self._objects.write_thumbnail(thumbnail_key(key), shrunk.jpeg)
        return ThumbnailOutcome(key, made=True)
