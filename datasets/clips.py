"""Writing rendered frames as a real video file (MPEG-4 in MP4, via PyAV), for tests and benchmarks."""

from __future__ import annotations

import io

import numpy as np


def encode_mp4(frames: list[np.ndarray], *, fps: int = 10, bit_rate: int = 2_000_000) -> bytes:
    """(H, W, 3) uint8 RGB frames of one size -> the bytes of an MP4 file."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt, stream.bit_rate = "yuv420p", bit_rate
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()
