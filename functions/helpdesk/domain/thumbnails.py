"""Thumbnails of image attachments: where they are stored and which uploads get one.

An uploaded attachment (``attachments/<owner>/<id>``) gets a small JPEG next to it, under
``thumbnails/`` with the same key and ``.jpg`` (``thumbnails/attachments/<owner>/<id>.jpg``), made
asynchronously after S3 stores the upload. Only images within the limits below are drawn: a bigger
file or picture is skipped (the inbox then shows the original), so a decompression bomb costs
nothing but a log line.
"""

from __future__ import annotations

from dataclasses import dataclass

ATTACHMENTS_PREFIX = "attachments/"
"""Where uploads are stored: the prefix whose new objects S3 announces to the thumbnailer."""
THUMBNAILS_PREFIX = "thumbnails/"
"""Where the thumbnails go: the only prefix the thumbnailer may write."""
THUMBNAIL_MAX_SIDE = 320
"""The longer side of a thumbnail, in pixels."""
THUMBNAIL_CONTENT_TYPE = "image/jpeg"
MAX_SOURCE_BYTES = 15 * 1024 * 1024
"""The largest stored file the thumbnailer reads."""
MAX_SOURCE_PIXELS = 40_000_000
"""The largest picture (width x height) the thumbnailer decodes."""
IMAGE_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
"""The formats drawn (as the decoder recognises them from the bytes, not as the upload declared)."""


def thumbnail_key(object_key: str) -> str:
    """``attachments/c1/a1`` -> ``thumbnails/attachments/c1/a1.jpg``."""
    return f"{THUMBNAILS_PREFIX}{object_key}.jpg"


def thumbnail_filename(filename: str) -> str:
    """The name the thumbnail is served under: the original's, without its extension, as ``.jpg``."""
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem or 'file'}-thumbnail.jpg"


@dataclass(frozen=True)
class ThumbnailOutcome:
    """What the thumbnailer did with one stored object: ``made``, or ``skipped`` with the reason."""

    key: str
    made: bool
    reason: str = ""


@dataclass(frozen=True)
class Shrunk:
    """A drawn thumbnail (``jpeg``), or None with why the file wasn't drawn."""

    jpeg: bytes | None
    reason: str = ""


def object_created_notification(bucket: str, key: str, size: int, etag: str, event_time: str) -> dict[str, object]:
    """S3's event notification of one stored upload (``ObjectCreated:Post``), as S3 sends it to a queue.

    The local runtime plays S3's part with it where the embedded S3 doesn't notify; the key is
    URL-encoded as S3 does it.
    """
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": event_time,
                "eventName": "ObjectCreated:Post",
                "userIdentity": {"principalId": "AWS:LOCAL"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "thumbnails",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "LOCAL"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag, "sequencer": "0"},
                },
            }
        ]
    }
