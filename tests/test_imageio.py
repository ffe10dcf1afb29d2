import io

import numpy as np
import pytest
from PIL import Image

from model.imageio import ImageDecodeError, decode_image


def _png(w, h):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (10, 20, 30)).save(buf, format="PNG")
    return buf.getvalue()


def test_decodes_png_to_rgb():
    rgb = decode_image(_png(40, 30))
    assert rgb.shape == (30, 40, 3) and rgb.dtype == np.uint8


@pytest.mark.parametrize("data, message", [(b"", "empty"), (b"hello, not an image", "not a readable image")])
def test_bad_bytes_are_refused_clearly(data, message):
    with pytest.raises(ImageDecodeError, match=message):
        decode_image(data)


def test_truncated_jpeg_is_refused():
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (200, 100, 0)).save(buf, format="JPEG")
    with pytest.raises(ImageDecodeError):
        decode_image(buf.getvalue()[:300])


def test_pixel_bomb_is_refused_before_decoding():
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_image(_png(3000, 3000), max_pixels=1_000_000)


def test_huge_side_is_capped():
    assert max(decode_image(_png(5000, 100), max_side_px=1000).shape[:2]) == 1000
