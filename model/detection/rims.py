"""Case-head rims by circle voting and radial edge refinement into an ellipse.

This is the geometric detector; the learned CNN detector (issue 2, item 4a) is not shipped yet. Candidates come
from a Hough circle transform on a downscaled copy; each is refined by finding the rim edge along rays from the
centre and fitting an ellipse to those edge points (robust to tilt, which a circle transform alone is not).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from model.structures import CaseHead, Ellipse

WORK_SIDE_PX = 480
MAX_CANDIDATES = 200


def _candidates(gray: np.ndarray, *, min_r: float, max_r: float) -> np.ndarray:
    blur = cv2.GaussianBlur(gray, (0, 0), 2.0)
    found = cv2.HoughCircles(blur, cv2.HOUGH_GRADIENT, dp=1.5, minDist=max(8.0, min_r * 1.2), param1=60,
                             param2=14, minRadius=int(min_r), maxRadius=int(max_r))
    return np.zeros((0, 3)) if found is None else found[0]


def refine_rim(gray: np.ndarray, cx: float, cy: float, r: float, *, rays: int = 90) -> tuple[Ellipse, float] | None:
    """Fit an ellipse to the strongest radial edge along rays between 0.55r and 1.45r.

    Returns the ellipse and its support: the fraction of rays whose edge lies within 4 % of it.
    """
    h, w = gray.shape
    reach = 1.45 * r + 6  # the rays' extent plus the blur and Sobel support: the window gives the same values
    x0, y0 = max(0, int(cx - reach)), max(0, int(cy - reach))
    x1, y1 = min(w, int(cx + reach) + 2), min(h, int(cy + reach) + 2)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    grad = cv2.GaussianBlur(gray[y0:y1, x0:x1].astype(np.float32), (0, 0), 1.2)
    gx = cv2.Sobel(grad, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grad, cv2.CV_32F, 0, 1)
    radii = np.linspace(0.55 * r, 1.45 * r, 48)
    t = 2 * np.pi * np.arange(rays) / rays
    cos, sin = np.cos(t)[:, None], np.sin(t)[:, None]
    xs, ys = cx + radii[None] * cos, cy + radii[None] * sin  # (rays, 48)
    ok = (xs >= 0) & (xs < w - 1) & (ys >= 0) & (ys < h - 1)
    xi = np.clip(xs.astype(int), x0, x1 - 1) - x0
    yi = np.clip(ys.astype(int), y0, y1 - 1) - y0
    radial = np.where(ok, np.abs(gx[yi, xi] * cos + gy[yi, xi] * sin), -1.0)
    j = np.argmax(radial, axis=1)
    rows = np.nonzero(ok.sum(axis=1) >= 8)[0]
    pts = np.stack([xs[rows, j[rows]], ys[rows, j[rows]]], axis=1)
    if len(pts) < 12:
        return None
    all_pts = p = pts.astype(np.float32)
    for _ in range(3):  # drop the rays that caught a glyph or the background instead of the rim
        e = _fit(p)
        resid = np.abs(_ellipse_radius(e, p) - 1.0)
        keep = resid < max(0.04, np.percentile(resid, 70))
        if keep.sum() < 10:
            break
        p = p[keep]
    e = _fit(p)
    support = float(np.mean(np.abs(_ellipse_radius(e, all_pts) - 1.0) < 0.04)) * len(pts) / rays
    return e, support


def _fit(p: np.ndarray) -> Ellipse:
    (ex, ey), (d1, d2), ang = cv2.fitEllipse(p)
    return Ellipse(float(ex), float(ey), max(d1, d2) / 2, min(d1, d2) / 2,
                   math.radians(ang if d1 >= d2 else ang + 90))


def _ellipse_radius(e: Ellipse, p: np.ndarray) -> np.ndarray:
    """Normalised radius of points (N, 2) w.r.t. ellipse ``e`` (1.0 on the rim)."""
    c, s = math.cos(e.angle_rad), math.sin(e.angle_rad)
    d = p - np.array([e.cx, e.cy])
    u = (d[:, 0] * c + d[:, 1] * s) / max(e.a_px, 1e-3)
    v = (-d[:, 0] * s + d[:, 1] * c) / max(e.b_px, 1e-3)
    return np.hypot(u, v)


def detect_rims(gray: np.ndarray, *, max_heads: int = 12, min_support: float = 0.45) -> list[CaseHead]:
    """Case heads in a (H, W) uint8 image, in original pixels, best supported first.

    A candidate nested in a larger well-supported one (the primer ring, a glyph's bowl) is dropped.
    """
    scale = min(1.0, WORK_SIDE_PX / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    side = min(small.shape)
    found = _candidates(small, min_r=max(10, side * 0.06), max_r=side * 0.52)
    heads: list[CaseHead] = []
    for x, y, r in found[:MAX_CANDIDATES]:
        fit = refine_rim(small, float(x), float(y), float(r))
        if fit is None:
            continue
        rim, support = fit
        if support >= min_support and rim.b_px >= 0.45 * rim.a_px and 0.6 * r < rim.a_px < 1.5 * r:
            e = Ellipse(rim.cx / scale, rim.cy / scale, rim.a_px / scale, rim.b_px / scale, rim.angle_rad)
            heads.append(CaseHead(e, primer_ratio=0.27, score=support))
    kept = suppress_nested(heads, rank=lambda h: h.rim.a_px * (0.5 + h.score))  # large and well-supported first
    return sorted(kept, key=lambda h: h.score, reverse=True)[:max_heads]


def suppress_nested(heads: list[CaseHead], *, rank: Callable[[CaseHead], float]) -> list[CaseHead]:
    """Case heads do not nest: going down ``rank``, drop a head centred inside one already kept
    (a primer ring, a glyph's bowl)."""
    kept: list[CaseHead] = []
    for h in sorted(heads, key=rank, reverse=True):
        if all(math.hypot(h.rim.cx - k.rim.cx, h.rim.cy - k.rim.cy) >= 0.8 * max(h.rim.a_px, k.rim.a_px)
               for k in kept):
            kept.append(h)
    return kept
