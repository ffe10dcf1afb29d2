"""Polar unwrap of a headstamp ring into a strip, with the seam placed in a gap between segments.

Angles are image angles in radians: 0 along +x, increasing clockwise on screen (y points down). A strip's
column j covers angle ``seam + 2*pi*(j + 0.5)/W``; row 0 is the outer edge of the band (the rim), so glyphs
stamped tops-outward read upright, left to right, clockwise. Tilted heads are rectified by the affine map that
takes the unit circle to the rim ellipse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from model.structures import Ellipse


@dataclass(frozen=True)
class Band:
    """The unwrapped annulus as fractions of the rim radius, and the strip size in pixels."""

    inner: float = 0.26
    outer: float = 0.99
    height_px: int = 40
    width_px: int = 320


def ellipse_matrix(rim: Ellipse) -> np.ndarray:
    """(2, 2) matrix A with ``rim point = centre + A @ (cos t, sin t)``."""
    c, s = math.cos(rim.angle_rad), math.sin(rim.angle_rad)
    rot = np.array([[c, -s], [s, c]])
    return rot @ np.diag([rim.a_px, rim.b_px]) @ rot.T


def sample_grid(rim: Ellipse, band: Band, seam_rad: float) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates (map_x, map_y), each (H, W) float32, for ``cv2.remap``."""
    h, w = band.height_px, band.width_px
    theta = seam_rad + 2.0 * math.pi * (np.arange(w) + 0.5) / w  # (W,)
    rho = band.outer - (band.outer - band.inner) * (np.arange(h) + 0.5) / h  # (H,) outer first
    unit = np.stack([np.cos(theta), np.sin(theta)])  # (2, W)
    pts = ellipse_matrix(rim) @ unit  # (2, W) rim points relative to the centre
    map_x = rim.cx + rho[:, None] * pts[0][None, :]  # (H, W)
    map_y = rim.cy + rho[:, None] * pts[1][None, :]
    return map_x.astype(np.float32), map_y.astype(np.float32)


def unwrap(gray: np.ndarray, rim: Ellipse, *, seam_rad: float, band: Band = Band()) -> np.ndarray:
    """Unwrap the ring of ``gray`` (H, W) uint8 into a (band.height_px, band.width_px) strip."""
    # Anti-alias when the ring is much larger than the strip: blur with a sigma matched to the down-sampling.
    circumference_px = math.pi * (rim.a_px + rim.b_px) * (band.inner + band.outer) / 2
    shrink = circumference_px / band.width_px
    src = gray
    if shrink > 1.5:
        src = cv2.GaussianBlur(gray, (0, 0), sigmaX=0.45 * shrink)
    map_x, map_y = sample_grid(rim, band, seam_rad)
    return cv2.remap(src, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def column_angle(column: float, *, seam_rad: float, width_px: int) -> float:
    """Image angle (radians, in [0, 2pi)) at the centre of strip ``column``."""
    return (seam_rad + 2.0 * math.pi * (column + 0.5) / width_px) % (2.0 * math.pi)


def angle_column(angle_rad: float, *, seam_rad: float, width_px: int) -> float:
    """Strip column (fractional) of an image angle; inverse of :func:`column_angle`."""
    turn = (angle_rad - seam_rad) % (2.0 * math.pi)
    return turn / (2.0 * math.pi) * width_px - 0.5


def clock_hour(angle_rad: float) -> float:
    """Clock position (0-12, 12 o'clock = 0) of an image angle."""
    return ((angle_rad + math.pi / 2) % (2.0 * math.pi)) / (2.0 * math.pi) * 12.0


def seam_by_energy(gray: np.ndarray, rim: Ellipse, *, band: Band = Band(), bins: int = 180) -> float:
    """The angle where the ring has least glyph detail: a gap between segments, for the strip's seam.

    Detail is the vertical gradient energy of a coarse unwrap, with each row's median removed so that the
    rim, primer and lighting do not count; the profile is smoothed circularly over about 15 degrees.
    """
    coarse = Band(band.inner + 0.04, band.outer - 0.06, 16, bins)
    energy = column_detail(unwrap(gray, rim, seam_rad=0.0, band=coarse))  # (bins,)
    smooth = circular_smooth(energy, max(3, bins // 24) | 1)
    return column_angle(float(np.argmin(smooth)), seam_rad=0.0, width_px=bins)


def column_detail(strip: np.ndarray) -> np.ndarray:
    """(W,) glyph detail per strip column: vertical gradient plus contrast, each row's median removed so that
    the rim, primer and lighting do not count."""
    s = strip.astype(np.float32)
    s -= np.median(s, axis=1, keepdims=True)
    return np.abs(np.diff(s, axis=0)).sum(axis=0) + np.abs(s).sum(axis=0)


def circular_smooth(x: np.ndarray, k: int) -> np.ndarray:
    """Moving average of width ``k`` over a profile that wraps around (the ring has no ends)."""
    return np.convolve(np.concatenate([x[-k:], x, x[:k]]), np.ones(k) / k, mode="same")[k:-k]


def glyph_runs(strip: np.ndarray, *, min_gap_frac: float = 0.055, min_len_frac: float = 0.01) -> list[tuple[int, int]]:
    """Column runs [start, end) of a strip that carry glyph detail, gaps narrower than ``min_gap_frac`` of the
    strip bridged (the gaps between glyphs of one segment), runs shorter than ``min_len_frac`` dropped.

    A run that wraps past the strip's end is returned with ``end`` beyond the width.
    """
    energy = column_detail(strip)  # (W,)
    w = len(energy)
    smooth = circular_smooth(energy, max(3, w // 80) | 1)
    on = smooth > np.median(smooth) + 0.5 * (smooth.max() - np.median(smooth)) * 0.5
    if on.all() or not on.any():
        return []
    start = int(np.argmin(on))  # begin the scan in a gap so that no run is cut by the strip's end
    rolled = np.roll(on, -start)
    runs, j = [], 0
    while j < w:
        if rolled[j]:
            e = j
            while e < w and rolled[e]:
                e += 1
            runs.append([j, e])
            j = e
        else:
            j += 1
    merged: list[list[int]] = []
    for r in runs:
        if merged and r[0] - merged[-1][1] < min_gap_frac * w:
            merged[-1][1] = r[1]
        else:
            merged.append(r)
    out = [(a + start, b + start) for a, b in merged if b - a >= min_len_frac * w]
    return sorted(((a % w, a % w + (b - a)) for a, b in out))


def assign_runs(positions: tuple[float, ...], centres: list[float], *, miss: float = 0.5) -> list[int | None]:
    """Match segments to glyph runs in strip order (both lists increase from the seam): the monotone assignment
    that minimises the distance between each segment's position and its run's centre (strip fractions); a
    segment left without a run costs ``miss``. Returns each segment's run index or None."""
    n, m = len(positions), len(centres)
    cost = np.full((n + 1, m + 1), np.inf)
    cost[0, :] = 0.0
    move = np.zeros((n + 1, m + 1), np.int8)  # 1: segment i takes run j, 2: segment i unassigned, 3: run j skipped
    for i in range(1, n + 1):
        for j in range(m + 1):
            best, how = cost[i - 1, j] + miss, 2
            if j and cost[i, j - 1] < best:
                best, how = cost[i, j - 1], 3
            if j and cost[i - 1, j - 1] + abs(positions[i - 1] - centres[j - 1]) < best:
                best, how = cost[i - 1, j - 1] + abs(positions[i - 1] - centres[j - 1]), 1
            cost[i, j], move[i, j] = best, how
    out: list[int | None] = [None] * n
    i, j = n, m
    while i > 0:
        how = move[i, j]
        if how == 1:
            out[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif how == 2:
            i -= 1
        else:
            j -= 1
    return out


def segment_clocks(strip: np.ndarray, seam_rad: float, positions: tuple[float, ...], *,
                   wide: float = 0.25) -> tuple[float, ...]:
    """Clock hour of each read segment. ``positions`` are the recognizer's segment centres as fractions of the
    strip; CTC places characters only roughly, so each segment takes the centre of the glyph run it is matched
    to (:func:`assign_runs`) and keeps its own position where no run is left for it."""
    w = strip.shape[1]
    spans = [(a / w, b / w) for a, b in glyph_runs(strip)]
    runs = assign_runs(positions, [(a + b) / 2 for a, b in spans])
    return tuple(clock_hour(seam_rad + 2.0 * math.pi * _place(p, spans[r] if r is not None else None, wide))
                 for p, r in zip(positions, runs))


def _place(position: float, span: tuple[float, float] | None, wide: float) -> float:
    """A segment's centre: its glyph run's centre, unless the run is wider than ``wide`` of the ring (runs of
    several segments, or a segment and a scratch, merged), where the recognizer's position clamped into it."""
    if span is None:
        return position
    a, b = span
    return (a + b) / 2 if b - a <= wide else min(max(position, a), b)
