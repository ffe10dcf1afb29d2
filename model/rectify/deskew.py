"""A painted line's angle refined from its own paint, where the detector's box lies askew on it.

The box's window (its length, and wide enough across to hold the text however it is turned within ``span``) is
warped upright at a small scale and reduced to one channel (the colours' principal axis, its slow shading
removed). Turned by an angle, the window's rows run along the text when their mean profile across the line varies
most: the text's band stands out from the ground on each side only when the rows follow it. Pure functions of
the image and the quad.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

from model.rectify.lines import colour_projections, quad_sides


def line_window(rgb: np.ndarray, quad: np.ndarray, *, span_rad: float, half_h_px: float
                ) -> tuple[np.ndarray, float, float]:
    """The quad's window in an RGB image, upright along its text and scaled so that its half-height is at most
    ``half_h_px``: (window (h, w) float32, the text's half-length and half-height in window pixels). The window
    holds the quad's length and, across, 1.5 half-heights plus what a line turned ``span_rad`` within the box
    moves at its ends."""
    q = np.asarray(quad, np.float32)
    ux, uy = quad_sides(q)
    half_len, half_h = float(np.linalg.norm(ux)) / 2, max(float(np.linalg.norm(uy)) / 2, 1.0)
    scale = min(1.0, half_h_px / half_h)
    across = 1.5 * half_h + half_len * math.sin(span_rad)
    w, h = int(2 * half_len * scale) + 1, int(2 * across * scale) + 1
    ex, ey = ux / max(2 * half_len, 1e-6), uy / max(2 * half_h, 1e-6)
    ctr = q.mean(0)
    # window pixel (x, y) -> image point: centre + ((x - w/2) ex + (y - h/2) ey) / scale
    m = np.float32([[ex[0] / scale, ey[0] / scale, ctr[0] - (ex[0] * w + ey[0] * h) / (2 * scale)],
                    [ex[1] / scale, ey[1] / scale, ctr[1] - (ex[1] * w + ey[1] * h) / (2 * scale)]])
    win = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    one = colour_projections(win.reshape(-1, 3))[0].reshape(h, w)
    return one - cv2.GaussianBlur(one, (0, 0), max(2.0, 2 * half_h * scale)), half_len * scale, half_h * scale


def _coords(window: np.ndarray, half_len: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel centres (u along the box, v across it, from the window's centre) within 0.9 of the text's
    half-length, and their values."""
    h, w = window.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx + 0.5 - w / 2, yy + 0.5 - h / 2
    keep = np.abs(u) < 0.9 * half_len
    return u[keep], v[keep], window[keep]


def _profile(u: np.ndarray, v: np.ndarray, val: np.ndarray, reach: int, turn_rad: float) -> np.ndarray:
    """Mean of ``val`` per row turned by ``turn_rad``, rows -reach..reach, each pixel shared linearly between the
    two rows it falls between (no aliasing at any angle)."""
    pos = v * math.cos(turn_rad) - u * math.sin(turn_rad) + reach
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    n = 2 * reach + 1
    sums, counts = np.zeros(n + 1), np.zeros(n + 1)
    for idx, wt in ((lo, 1.0 - frac), (lo + 1, frac)):
        ok = (idx >= 0) & (idx < n)
        sums += np.bincount(idx[ok], weights=wt[ok] * val[ok], minlength=n + 1)[: n + 1]
        counts += np.bincount(idx[ok], weights=wt[ok], minlength=n + 1)[: n + 1]
    return sums[:n] / np.maximum(counts[:n], 1e-6)


def profile_spread(window: np.ndarray, half_len: float, half_h: float, turns_rad: np.ndarray) -> np.ndarray:
    """Per turn, the variance of the window's mean row profile across the text (1.5 half-heights either side of
    its middle, the text's length along it) with its rows turned by that angle (counter-clockwise in the image's
    y-down frame, as an angle added to the box's)."""
    u, v, val = _coords(window, half_len)
    reach = max(1, int(1.5 * half_h))
    return np.array([float(np.var(_profile(u, v, val, reach, float(t)))) for t in turns_rad])


def text_turn(window: np.ndarray, half_len: float, half_h: float, *, span_deg: float = 40.0) -> tuple[float, float]:
    """The angle (radians, added to the box's) at which the text of a :func:`line_window` runs, searched within
    ``span_deg`` either way (2-degree steps, then half-degree ones about the best, then a parabola's peak), and
    its gain: its profile's spread over the spread along the box as given."""
    coarse = np.radians(np.arange(-span_deg, span_deg + 1e-6, 2.0))
    at_zero, *spread = profile_spread(window, half_len, half_h, np.concatenate([[0.0], coarse]))
    best = float(coarse[int(np.argmax(spread))])
    step = math.radians(0.5)
    fine = best + step * np.arange(-4, 5)
    fine_spread = profile_spread(window, half_len, half_h, fine)
    k = int(np.argmax(fine_spread))
    turn = float(fine[k])
    if 0 < k < len(fine) - 1:
        a, b, c = fine_spread[k - 1], fine_spread[k], fine_spread[k + 1]
        if (den := a - 2 * b + c) < 0:
            turn += step * 0.5 * (a - c) / den
    return turn, float(fine_spread[k]) / max(float(at_zero), 1e-12)


class LineFit(NamedTuple):
    """How a box should turn to lie along its text: ``turn`` (radians added to its angle; 0.0 where the text's
    own angle was not kept) and ``gain`` (the turned profile's spread over the box's own, :func:`text_turn`)."""

    turn: float
    gain: float


def fit_line(rgb: np.ndarray, quad: np.ndarray, *, span_deg: float = 40.0, min_gain: float = 1.0,
             gain_per_deg: float = 0.0, min_turn_deg: float = 0.0, rise: float = math.inf,
             half_h_px: float = 8.0) -> LineFit:
    """A quad's :func:`text_turn`, kept where it turns at least ``min_turn_deg``, its gain is over ``min_gain``
    plus ``gain_per_deg`` a degree of turn, and the line so turned rises at its ends by no more than ``rise`` of
    the box's half-height (a box drawn on a line askew is taller than the line; a level box on its line holds no
    such turn)."""
    window, half_len, half_h = line_window(rgb, quad, span_rad=math.radians(span_deg), half_h_px=half_h_px)
    turn, gain = text_turn(window, half_len, half_h, span_deg=span_deg)
    kept = (abs(turn) >= math.radians(min_turn_deg) and gain > min_gain + gain_per_deg * math.degrees(abs(turn))
            and half_len * math.sin(abs(turn)) <= rise * half_h)
    return LineFit(turn if kept else 0.0, gain)
