"""Decoding image bytes safely: content-checked, size-capped, EXIF orientation applied."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000
MAX_SIDE_PX = 4096


class ImageDecodeError(ValueError):
    """The bytes are not a usable image; the message says why."""


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS, max_side_px: int = MAX_SIDE_PX) -> np.ndarray:
    """Bytes -> (H, W, 3) uint8 RGB, EXIF orientation applied, longest side capped at ``max_side_px``."""
    if not data:
        raise ImageDecodeError("empty file")
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > max_pixels:
                raise ImageDecodeError(f"image too large: {im.width}x{im.height} pixels exceeds {max_pixels}")
            im.load()
            im = ImageOps.exif_transpose(im).convert("RGB")
    except ImageDecodeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"not a readable image: {exc}") from exc
    if max(im.size) > max_side_px:
        im.thumbnail((max_side_px, max_side_px))
    return np.asarray(im)
