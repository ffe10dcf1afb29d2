"""Training strips for the recognizer: a rendered crop, a jittered rim (as a detector would give), the seam in
the widest gap between segments, the unwrapped strip and its class sequence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from datasets.scenes import LEVELS, HeadTruth, render_crop
from model.charset import encode_strip
from model.rectify.polar import Band, unwrap
from model.structures import Ellipse


@dataclass(frozen=True)
class StripSample:
    pixels: np.ndarray  # (H, W) uint8
    classes: list[int]
    text: str  # segments in strip order, turned ones marked with a trailing '~'


def jitter_rim(rim: Ellipse, rng: np.random.Generator, scale: float = 1.0) -> Ellipse:
    """A rim as an imperfect detector would report it."""
    a = rim.a_px * (1 + rng.normal(0, 0.03 * scale))
    ratio = min(1.0, rim.b_px / rim.a_px * (1 + rng.normal(0, 0.02 * scale)))
    return Ellipse(rim.cx + rng.normal(0, 0.025 * scale) * a, rim.cy + rng.normal(0, 0.025 * scale) * a,
                   a, a * ratio, rim.angle_rad + rng.normal(0, 0.05 * scale))


def gap_seam(head: HeadTruth, rng: np.random.Generator) -> float:
    """An angle inside the widest gap between stamped segments (face angles)."""
    spans = sorted((s.start_rad, (s.end_rad - s.start_rad) % (2 * math.pi)) for s in head.segments)
    best, best_w = 0.0, -1.0
    for k, (start, width) in enumerate(spans):
        nxt = spans[(k + 1) % len(spans)][0]
        gap = (nxt - (start + width)) % (2 * math.pi)
        if gap > best_w:
            best, best_w = start + width, gap
    return (best + best_w * rng.uniform(0.3, 0.7)) % (2 * math.pi)


def strip_labels(head: HeadTruth, seam_rad: float) -> list[tuple[str, bool]]:
    order = sorted(head.segments, key=lambda s: (s.center_rad - seam_rad) % (2 * math.pi))
    return [(s.segment.label, s.turned) for s in order]


def make_strip(rng: np.random.Generator, band: Band = Band()) -> StripSample:
    level = str(rng.choice(LEVELS, p=[0.3, 0.35, 0.35]))
    scene = render_crop(rng, level=level, size_px=int(rng.choice([96, 128, 160, 224, 320])))
    head = scene.heads[0]
    gray = cv2.cvtColor(scene.rgb, cv2.COLOR_RGB2GRAY)
    seam = gap_seam(head, rng)
    strip = unwrap(gray, jitter_rim(head.rim, rng), seam_rad=seam, band=band)
    labels = strip_labels(head, seam)
    text = " ".join(t + ("~" if turned else "") for t, turned in labels)
    return StripSample(strip, encode_strip(labels), text)
