"""An uploaded file is linked only if it is what was declared: its size, its stored type, its first bytes."""

from __future__ import annotations

import pytest
from helpdesk.domain.file_signatures import SIGNATURES, StoredFile, upload_mismatch
from helpdesk.services.attachments import ALLOWED_CONTENT_TYPES


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = b"ftyp" + major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return (len(body) + 4).to_bytes(4, "big") + body + b"\x00\x00\x00\x08free"


GENUINE = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/gif": b"GIF89a\x02\x00\x02\x00",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "image/heic": ftyp(b"mif1", b"mif1", b"heic"),
    "video/mp4": ftyp(b"isom", b"isom", b"avc1", b"mp41"),
    "video/quicktime": ftyp(b"qt  ", b"qt  "),
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
}


def stored(head: bytes, content_type: str, size: int | None = None) -> StoredFile:
    return StoredFile(size=len(head) if size is None else size, content_type=content_type, head=head)


def test_every_type_that_may_be_shared_has_a_signature() -> None:
    assert set(SIGNATURES) == set(ALLOWED_CONTENT_TYPES) == set(GENUINE)


@pytest.mark.parametrize("content_type", sorted(GENUINE))
def test_a_genuine_file_of_each_type_matches_its_declaration(content_type: str) -> None:
    head = GENUINE[content_type]

    assert upload_mismatch(content_type, len(head), stored(head, content_type)) is None


def test_a_classic_quicktime_movie_without_ftyp_is_quicktime() -> None:
    head = b"\x00\x00\x00\x14moov\x00\x00\x00\x0cmvhd"

    assert upload_mismatch("video/quicktime", len(head), stored(head, "video/quicktime")) is None


@pytest.mark.parametrize(
    ("declared", "head"),
    [
        ("image/png", b"<html><script>alert(1)</script></html>"),
        ("image/jpeg", GENUINE["image/png"]),
        ("application/pdf", b"MZ\x90\x00\x03\x00\x00\x00"),  # a Windows executable
        ("image/heic", GENUINE["video/mp4"]),
        ("video/mp4", GENUINE["video/quicktime"]),
        ("image/webp", b"RIFF\x24\x00\x00\x00WAVEfmt "),
        ("image/gif", b""),
    ],
)
def test_bytes_that_are_not_the_declared_type_are_refused(declared: str, head: bytes) -> None:
    problem = upload_mismatch(declared, len(head), stored(head, declared))

    assert problem == f"the uploaded file's content is not {declared}"


def test_a_file_larger_or_smaller_than_declared_is_refused() -> None:
    head = GENUINE["image/jpeg"]

    larger = upload_mismatch("image/jpeg", 1000, stored(head, "image/jpeg", size=5000))
    smaller = upload_mismatch("image/jpeg", 1000, stored(head, "image/jpeg", size=10))

    assert larger == "the uploaded file is 5000 bytes, but 1000 were declared"
    assert smaller == "the uploaded file is 10 bytes, but 1000 were declared"


def test_a_file_stored_under_another_content_type_is_refused() -> None:
    head = GENUINE["image/png"]

    problem = upload_mismatch("image/png", len(head), stored(head, "text/html"))

    assert problem == "the uploaded file was stored as 'text/html', but 'image/png' was declared"


def test_content_type_parameters_and_case_do_not_matter() -> None:
    head = GENUINE["application/pdf"]

    assert upload_mismatch("application/pdf", len(head), stored(head, "Application/PDF; charset=binary")) is None
