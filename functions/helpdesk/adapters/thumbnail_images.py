"""Draws thumbnails with Pillow (the ``thumbnails`` dependency group: a layer only the thumbnailer has).

The picture's format and size are read from its header before anything is decoded: only PNG, JPEG,
WebP and GIF within ``MAX_SOURCE_PIXELS`` are decoded (the first frame of an animation), shrunk to
at most ``THUMBNAIL_MAX_SIDE`` pixels on the longer side, flattened on white and saved as JPEG.
Pillow is imported on first use, never at import.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

from helpdesk.domain.thumbnails import IMAGE_FORMATS, MAX_SOURCE_PIXELS, THUMBNAIL_MAX_SIDE, Shrunk

if TYPE_CHECKING:
    from PIL.Image import Image as Picture

JPEG_QUALITY = 80


class PillowShrinker:
    def thumbnail(self, original: bytes) -> Shrunk:
        from PIL import Image, UnidentifiedImageError

        Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS  # Pillow itself refuses anything bigger too
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                return self._draw(original)
        except UnidentifiedImageError:
            return Shrunk(None, "not an image")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return Shrunk(None, "picture too large")
        except (OSError, ValueError, SyntaxError):  # truncated or corrupt data
            return Shrunk(None, "unreadable image")

    def _draw(self, original: bytes) -> Shrunk:
        from PIL import Image, ImageOps

        with Image.open(io.BytesIO(original)) as picture:
            if picture.format not in IMAGE_FORMATS:
                return Shrunk(None, f"not a drawable image ({picture.format})")
            if picture.width * picture.height > MAX_SOURCE_PIXELS:
                return Shrunk(None, "picture too large")
            picture.seek(0)  # an animation's first frame
            picture.draft("RGB", (THUMBNAIL_MAX_SIDE * 2, THUMBNAIL_MAX_SIDE * 2))  # JPEG: decode smaller
            upright = ImageOps.exif_transpose(picture)
            upright.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            _on_white(upright).save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        return Shrunk(out.getvalue())


def _on_white(picture: Picture) -> Picture:
    from PIL import Image

    if picture.mode in {"RGBA", "LA", "P", "PA"}:
        rgba = picture.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")
