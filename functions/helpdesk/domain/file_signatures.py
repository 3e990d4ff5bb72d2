"""Is the uploaded file what the customer said it was? Size, stored type and the file's first bytes.

A browser uploads straight to S3 with a presigned POST whose policy pins the declared type and caps
the size; before a file is linked to a message or a ticket, what was stored is compared with what
was declared: the exact size, the exact content type, and the file's signature (its "magic bytes")
for every type customers may share. A renamed script or an HTML page labelled ``image/png`` never
reaches an agent's screen.

The signatures are the well-known ones of each format:

| type | signature |
| --- | --- |
| ``image/jpeg`` | ``FF D8 FF`` |
| ``image/png`` | ``89 50 4E 47 0D 0A 1A 0A`` |
| ``image/gif`` | ``GIF87a`` or ``GIF89a`` |
| ``image/webp`` | ``RIFF`` <size> ``WEBP`` |
| ``image/heic`` | an ISO media ``ftyp`` box with a HEIF brand (``heic``, ``mif1``...) |
| ``video/mp4`` | an ISO media ``ftyp`` box (any brand but QuickTime's) |
| ``video/quicktime`` | an ``ftyp`` box with brand ``qt``, or a classic QuickTime atom (``moov``, ``mdat``...) |
| ``application/pdf`` | ``%PDF-`` |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

HEAD_BYTES = 256
"""How much of a file's beginning the check reads: enough for every signature and an ftyp box's brands."""

HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"})
QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})


@dataclass(frozen=True)
class StoredFile:
    """What the storage holds under an upload's key: its size, its content type and its first bytes."""

    size: int
    content_type: str
    head: bytes


def _ftyp_brands(head: bytes) -> list[bytes]:
    """The major and compatible brands of an ISO base media file's leading ``ftyp`` box, or []."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return []
    box_size = int.from_bytes(head[0:4], "big")
    end = min(box_size if box_size >= 16 else 16, len(head))
    major, compatible = head[8:12], [head[i : i + 4] for i in range(16, end - 3, 4)]
    return [major, *compatible]


def _is_heif(head: bytes) -> bool:
    return any(brand in HEIF_BRANDS for brand in _ftyp_brands(head))


def _is_mp4(head: bytes) -> bool:
    brands = _ftyp_brands(head)
    return bool(brands) and brands[0] != b"qt  "


def _is_quicktime(head: bytes) -> bool:
    brands = _ftyp_brands(head)
    return (bool(brands) and brands[0] == b"qt  ") or head[4:8] in QUICKTIME_ATOMS


SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "image/png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/gif": lambda head: head.startswith((b"GIF87a", b"GIF89a")),
    "image/webp": lambda head: head[0:4] == b"RIFF" and head[8:12] == b"WEBP",
    "image/heic": _is_heif,
    "video/mp4": _is_mp4,
    "video/quicktime": _is_quicktime,
    "application/pdf": lambda head: head.startswith(b"%PDF-"),
}
"""Every type customers and agents may share, and how its files begin."""


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def upload_mismatch(declared_type: str, declared_size: int, stored: StoredFile) -> str | None:
    """Why the stored file isn't the one declared, or None when it is."""
    if stored.size != declared_size:
        return f"the uploaded file is {stored.size} bytes, but {declared_size} were declared"
    if _media_type(stored.content_type) != _media_type(declared_type):
        return f"the uploaded file was stored as '{stored.content_type[:100]}', but '{declared_type}' was declared"
    matches = SIGNATURES.get(_media_type(declared_type))
    if matches is None or not matches(stored.head):
        return f"the uploaded file's content is not {declared_type}"
    return None
