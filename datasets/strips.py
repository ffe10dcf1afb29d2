"""Training strips for the recognizer: a rendered crop, a jittered rim (as a detector would give), the seam in
the widest gap between segments, the unwrapped strip and its class sequence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from datasets import degrade
from datasets.fonts import DEBIAN_FACES, STAMP_FACES
from datasets.headstamp import TextPlacement
from datasets.sampler import persian_layout
from datasets.scenes import LEVELS, HeadTruth, render_crop
from model.charset import encode_strip
from model.rectify.polar import Band, angle_column, unwrap
from model.structures import Ellipse


@dataclass(frozen=True)
class StripSample:
    pixels: np.ndarray  # (H, W) uint8
    classes: list[int]
    text: str  # segments in strip order, turned ones marked with a trailing '~'
    spans: list[tuple[float, float]]  # each segment's (first, last) strip column, in strip order
    mask: np.ndarray | None = None  # (H/4, W/4) uint8: how deep the strip is stamped there, undamaged (0-255)


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


def _strip_order(head: HeadTruth, seam_rad: float) -> list:
    return sorted(head.segments, key=lambda s: (s.center_rad - seam_rad) % (2 * math.pi))


def strip_labels(head: HeadTruth, seam_rad: float) -> list[tuple[str, bool]]:
    return [(s.segment.label, s.turned) for s in _strip_order(head, seam_rad)]


def strip_spans(head: HeadTruth, seam_rad: float, width_px: int) -> list[tuple[float, float]]:
    """Each segment's (first, last) column in a strip of ``width_px`` cut at ``seam_rad``, in strip order."""
    out = []
    for s in _strip_order(head, seam_rad):
        a = angle_column(s.start_rad, seam_rad=seam_rad, width_px=width_px)
        b = a + (s.end_rad - s.start_rad) % (2 * math.pi) / (2 * math.pi) * width_px
        out.append((a, b))
    return out


def parse_text(text: str) -> list[tuple[str, bool]]:
    """Inverse of the ``text`` field: segments in strip order as (label, turned)."""
    return [(t.removesuffix("~"), t.endswith("~")) for t in text.split(" ")]


def turn_strip(strip: np.ndarray, labels: list[tuple[str, bool]], spans: list[tuple[float, float]]):
    """The strip rotated 180 degrees: segments in reverse order, each one's orientation flipped."""
    w = strip.shape[-1]
    return (strip[..., ::-1, ::-1], [(t, not turned) for t, turned in labels[::-1]],
            [(w - b, w - a) for a, b in spans[::-1]])


def roll_strip(strip: np.ndarray, labels: list[tuple[str, bool]], spans: list[tuple[float, float]],
               rng: np.random.Generator, *, min_gap: float = 3.0):
    """Move the seam into a random gap between segments (circular shift); labels and spans follow."""
    w = strip.shape[-1]
    n = len(spans)
    gaps = []  # (segment after the gap, gap start column, gap width)
    for k in range(n):
        end, nxt = spans[k - 1][1], spans[k][0] + (w if k == 0 else 0)
        if nxt - end >= min_gap:
            gaps.append((k, end, nxt - end))
    if not gaps:
        return strip, labels, spans
    k, start, width = gaps[int(rng.integers(len(gaps)))]
    cut = int(round(start + width * rng.uniform(0.25, 0.75))) % w
    order = list(range(k, n)) + list(range(k))
    shifted = [((spans[i][0] - cut) % w, (spans[i][0] - cut) % w + spans[i][1] - spans[i][0]) for i in order]
    return np.roll(strip, -cut, axis=-1), [labels[i] for i in order], shifted


def soft_scale(rng: np.random.Generator, diameter_px: float, lo_px: float = 40.0, hi_px: float = 120.0) -> float:
    """A shrink factor that leaves a head of ``diameter_px`` with a resolution of ``lo_px``..``hi_px`` pixels
    across (log-uniform; at most its own), where the recognizer reads worst (a frame's heads, 35-95 px in
    radius, halved in resolution by a video codec or digital zoom)."""
    hi = min(hi_px, diameter_px)
    lo = min(lo_px, hi)
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) / diameter_px


def make_strip(rng: np.random.Generator, band: Band = Band(), level: str | None = None,
               persian: float = 0.0, text: TextPlacement = TextPlacement(), soft: float = 0.0,
               more_fonts: float = 0.0, stamp_faces: float = 0.0, restyled: float = 0.0,
               debian_faces: float = 0.0) -> StripSample:
    """One training strip from a freshly rendered crop; ``persian`` of them (besides the sampler's own share)
    are Iranian-style heads in Persian digits; stamps placed as ``text`` says; ``soft`` of them lose
    resolution as a video still does (:func:`soft_scale`), whatever their level; ``more_fonts`` of them are
    stamped in ``datasets.headstamp.MORE_STAMP_FONTS``, ``stamp_faces`` in ``datasets.fonts.STAMP_FACES``,
    ``debian_faces`` in ``datasets.fonts.DEBIAN_FACES`` (whatever the draw for ``stamp_faces`` gave) and ``restyled``
    in type restyled per head (``datasets.glyphs``; no draw is taken for any of them when it is 0, so older seeds
    stand)."""
    level = level or str(rng.choice(LEVELS, p=[0.35, 0.4, 0.25]))
    segments = persian_layout(rng) if persian and rng.random() < persian else None
    wider = bool(more_fonts) and rng.random() < more_fonts
    faces = STAMP_FACES if stamp_faces and rng.random() < stamp_faces else ()
    faces = DEBIAN_FACES if debian_faces and rng.random() < debian_faces else faces
    own_type = bool(restyled) and rng.random() < restyled
    scene = render_crop(rng, level=level, size_px=int(rng.choice([96, 128, 160, 224, 320])), segments=segments,
                        text=text, more_fonts=wider, faces=faces, restyled=own_type)
    head = scene.heads[0]
    rgb = scene.rgb
    if soft and rng.random() < soft:
        rgb = degrade.soften(rgb, soft_scale(rng, 2 * head.rim.a_px))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    seam = gap_seam(head, rng)
    rim = jitter_rim(head.rim, rng)
    strip = unwrap(gray, rim, seam_rad=seam, band=band)
    labels = strip_labels(head, seam)
    text = " ".join(t + ("~" if turned else "") for t, turned in labels)
    return StripSample(strip, encode_strip(labels), text, strip_spans(head, seam, band.width_px),
                       stamped_mask(scene.glyphs, rim, seam, band))


def stamped_mask(glyphs: np.ndarray, rim: Ellipse, seam_rad: float, band: Band) -> np.ndarray:
    """Where a strip is stamped, at a quarter of its resolution: the scene's undamaged glyph depth unwrapped as
    the strip was, (H/4, W/4) uint8 (an auxiliary target for the recognizer's features)."""
    full = unwrap(np.clip(glyphs, 0.0, 1.0).astype(np.float32), rim, seam_rad=seam_rad, band=band)
    quarter = cv2.resize(full, (band.width_px // 4, band.height_px // 4), interpolation=cv2.INTER_AREA)
    return np.round(255 * np.clip(quarter, 0.0, 1.0)).astype(np.uint8)
