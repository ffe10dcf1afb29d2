"""Decoding videos into the frames worth reading: a fixed rate plus scene changes, near-duplicates dropped by
perceptual hash, the blurriest dropped. Uses PyAV; a file it cannot decode gives :class:`VideoDecodeError`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

MAX_SIDE_PX = 1920


class VideoDecodeError(ValueError):
    """The bytes are not a decodable video; the message says why."""


@dataclass(frozen=True)
class Frame:
    index: int  # decoded frame number
    time_s: float
    rgb: np.ndarray  # (H, W, 3) uint8
    sharpness: float  # variance of the Laplacian


@dataclass(frozen=True)
class SamplingConfig:
    every_s: float = 0.5  # fixed-rate sampling
    scene_change: float = 28.0  # mean absolute grey difference (0-255) that also triggers a sample
    duplicate_bits: int = 3  # dHash (256-bit) Hamming distance at or under which a frame repeats the last kept one
    blur_keep: float = 0.35  # frames sharper than this fraction of the median sharpness are kept
    max_frames: int = 240
    max_seconds: float = 600.0


def dhash(gray: np.ndarray, size: int = 16) -> int:
    """``size``-squared-bit difference hash of a grey image (after Krawetz's dHash)."""
    small = cv2.resize(gray, (size + 1, size), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def sharpness(gray: np.ndarray) -> float:
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def video_seconds(data: bytes) -> float | None:
    """The running time a video's container declares, or None when it declares none (or is unreadable)."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            if container.duration is not None:
                return container.duration / av.time_base
            stream = container.streams.video[0] if container.streams.video else None
            if stream is not None and stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
    except (av.FFmpegError, ValueError, OSError):
        return None
    return None


def _decoded(data: bytes, cfg: SamplingConfig) -> Iterator[tuple[int, float, np.ndarray]]:
    import av

    try:
        container = av.open(io.BytesIO(data))
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise VideoDecodeError(f"not a readable video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise VideoDecodeError("the file has no video stream")
        stream = container.streams.video[0]
        k = 0
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else k / float(stream.average_rate or 25)
                if t > cfg.max_seconds:
                    break
                yield k, t, frame.to_ndarray(format="rgb24")
                k += 1
        except av.FFmpegError as exc:
            raise VideoDecodeError(f"the video is corrupt after frame {k}: {exc}") from exc


def sample_frames(data: bytes, cfg: SamplingConfig = SamplingConfig()) -> list[Frame]:
    """The frames to read from a video file's bytes, in time order."""
    if not data:
        raise VideoDecodeError("empty file")
    kept: list[Frame] = []
    last_t, last_gray, last_hash = -1e9, None, None
    for k, t, rgb in _decoded(data, cfg):
        if max(rgb.shape[:2]) > MAX_SIDE_PX:
            f = MAX_SIDE_PX / max(rgb.shape[:2])
            rgb = cv2.resize(rgb, (int(rgb.shape[1] * f), int(rgb.shape[0] * f)), interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        small = cv2.resize(gray, (64, 36), interpolation=cv2.INTER_AREA).astype(np.float32)
        changed = last_gray is not None and float(np.abs(small - last_gray).mean()) > cfg.scene_change
        if t - last_t < cfg.every_s and not changed:
            continue
        h = dhash(gray)
        if last_hash is not None and bin(h ^ last_hash).count("1") <= cfg.duplicate_bits and not changed:
            last_t = t
            continue
        kept.append(Frame(k, t, rgb, sharpness(gray)))
        last_t, last_gray, last_hash = t, small, h
        if len(kept) >= cfg.max_frames:
            break
    if not kept:
        raise VideoDecodeError("no frames could be decoded")
    floor = cfg.blur_keep * float(np.median([f.sharpness for f in kept]))
    return [f for f in kept if f.sharpness >= floor]
