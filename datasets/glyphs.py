"""Glyph-shape variation: new type drawn from an installed face by thickening or thinning its strokes, widening or
narrowing and slanting its glyphs, and setting each punch a little askew, as a bunter's hand-cut punches are.

A renderer that asks for a :class:`GlyphStyle` per head (``draw_style``) and passes it to ``restyle`` stamps in
type no installed face has; the geometry is pure (``reweight``, ``restyle``), the only draws are in ``draw_style``
and ``punch_jitter``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

SUPERSAMPLE = 3  # glyphs are restyled at three times their size, then reduced (anti-aliased edges)
WIDTH = (0.72, 1.35)  # horizontal scale, log-uniform: condensed to extended
WEIGHT = (-0.04, 0.06)  # stroke grown (+) or thinned (-) on each side, a share of the glyph height (uniform)
THINNEST = 0.5  # thinning takes at most this share of a thin stroke's half-width (its thinnest ridge)
SHEAR = 0.22  # slant, x shift per unit of height above the glyph's centre (uniform, either way)
TURN_SD = math.radians(3.0)  # each punch's own rotation (normal)
SHIFT_SD = 0.04  # each punch's own radial offset, a share of the glyph height (normal)


@dataclass(frozen=True)
class GlyphStyle:
    """How one head's type departs from its face: ``width`` scales glyphs across, ``weight`` grows their strokes
    (a share of the glyph height, negative thins), ``shear`` slants them, and ``jitter`` scales each punch's own
    rotation and radial offset (0 sets every punch true)."""

    width: float = 1.0
    weight: float = 0.0
    shear: float = 0.0
    jitter: float = 0.0


def draw_style(rng: np.random.Generator) -> GlyphStyle:
    """A random style within :data:`WIDTH`, :data:`WEIGHT` and :data:`SHEAR`; punches askew on about two heads in
    three."""
    return GlyphStyle(width=float(np.exp(rng.uniform(math.log(WIDTH[0]), math.log(WIDTH[1])))),
                      weight=float(rng.uniform(*WEIGHT)), shear=float(rng.uniform(-SHEAR, SHEAR)),
                      jitter=float(rng.uniform(0.0, 1.5) if rng.random() < 0.65 else 0.0))


def punch_jitter(rng: np.random.Generator, style: GlyphStyle, glyph_h: float) -> tuple[float, float]:
    """One punch's own (rotation in radians, radial offset in pixels) under ``style``."""
    if style.jitter <= 0:
        return 0.0, 0.0
    return (float(rng.normal(0, TURN_SD * style.jitter)), float(rng.normal(0, SHIFT_SD * style.jitter * glyph_h)))


def reweight(mask: np.ndarray, grow_px: float) -> np.ndarray:
    """``mask`` (h, w float in 0..1, ink > 0.5) with its strokes grown by ``grow_px`` on each side (negative thins,
    by at most :data:`THINNEST` of a thin stroke's half-width, so no stroke vanishes): a binary mask from the
    signed distance to the ink's edge, padded so growth is never clipped."""
    pad = int(math.ceil(max(0.0, grow_px))) + 1
    ink = np.pad(mask, pad) > 0.5
    inside = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 5)
    ridge = ink & (inside >= cv2.dilate(inside, np.ones((3, 3), np.uint8)))  # stroke centres: half-widths
    if ridge.any():
        grow_px = max(grow_px, -THINNEST * (float(inside[ridge].min()) - 0.5))
    signed = np.where(ink, inside - 0.5, 0.5 - outside)  # the edge halfway between ink and paper pixels
    return (signed + grow_px > 0).astype(np.float32)


def restyle(mask: np.ndarray, style: GlyphStyle, glyph_h: float) -> np.ndarray:
    """A glyph mask rendered at :data:`SUPERSAMPLE` times its size (ink > 0.5), reweighted, widened and slanted as
    ``style`` says, then reduced to its own size (float32 0..1, tight box plus a 2-pixel margin); ``glyph_h`` is the
    glyph height at the reduced size, in pixels."""
    s = SUPERSAMPLE
    big = reweight(mask, style.weight * glyph_h * s)
    h, w = big.shape
    slant = abs(style.shear) * h
    out_w = int(math.ceil(w * style.width + slant)) + 2
    m = np.array([[style.width, -style.shear, slant / 2 + style.shear * h / 2 + 1],
                  [0.0, 1.0, 0.0]], np.float32)
    shaped = cv2.warpAffine(big, m, (out_w, h), flags=cv2.INTER_LINEAR)
    small = cv2.resize(shaped, (max(1, round(out_w / s)), max(1, round(h / s))), interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(small > 0.02)
    if len(ys) == 0:
        return np.zeros((3, 3), np.float32)
    tight = small[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    return np.pad(tight, 2).astype(np.float32)
