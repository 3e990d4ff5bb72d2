"""How a browser is told to handle a shared file: shown in the page only when it is safe to."""

from __future__ import annotations

import pytest
from helpdesk.domain.files import content_disposition, shown_inline


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "video/mp4", "application/pdf", "IMAGE/PNG"])
def test_a_checked_image_video_or_pdf_is_shown_in_the_page(content_type: str) -> None:
    assert shown_inline(content_type, verified=True)


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml; charset=utf-8", "application/zip"])
def test_anything_else_is_only_ever_saved(content_type: str) -> None:
    assert not shown_inline(content_type, verified=True)


def test_an_unchecked_upload_is_never_shown_in_the_page_whatever_it_claims() -> None:
    assert not shown_inline("image/png", verified=False)


def test_a_file_name_cannot_break_out_of_the_header() -> None:
    header = content_disposition('evil";\r\nSet-Cookie: x=1;.png', inline=False)

    assert header == 'attachment; filename="evilSet-Cookie: x=1.png"'
    assert content_disposition("", inline=True) == 'inline; filename="file"'
