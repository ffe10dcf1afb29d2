"""Flattening of a painted line: the quadrilateral around it mapped to an upright strip of fixed height.

A perspective warp takes the quad (corners top-left, top-right, bottom-right, bottom-left in the text's own
order) to a rectangle whose width keeps the line's aspect ratio, capped at ``width_px``; the rest of the strip
is padded with the strip's median so that every strip has the same size for batching.
"""

from __future__ import annotations

import cv2
import numpy as np


def quad_size(quad: np.ndarray) -> tuple[float, float]:
    """(length, height) of a quad in pixels: mean of its opposite sides."""
    q = np.asarray(quad, np.float32)
    length = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    height = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return float(length), float(height)


def quad_sides(quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A quad's mean side along its text (left to right) and across it (top to bottom), as vectors."""
    q = np.asarray(quad, np.float32)
    return (q[1] - q[0] + q[2] - q[3]) / 2, (q[3] - q[0] + q[2] - q[1]) / 2


def quad_axes(quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along a quad's text and across it (:func:`quad_sides` normalised)."""
    ux, uy = quad_sides(quad)
    return ux / max(float(np.linalg.norm(ux)), 1e-6), uy / max(float(np.linalg.norm(uy)), 1e-6)


def flatten_line(image: np.ndarray, quad: np.ndarray, *, height_px: int = 32, width_px: int = 320,
                 margin: float = 0.12) -> np.ndarray:
    """(H, W) or (H, W, C) uint8 image and a (4, 2) quad -> (height_px, width_px[, C]) uint8 upright strip of
    that line.

    The quad grows by ``margin`` of its height on every side so that strokes at the edge are kept.
    """
    q = np.asarray(quad, np.float32)
    length, height = quad_size(q)
    height = max(height, 1.0)
    ux, uy = quad_axes(q)
    pad = margin * height
    grown = q + np.stack([-ux - uy, ux - uy, ux + uy, -ux + uy]) * pad
    out_w = int(np.clip(round(height_px * (length + 2 * pad) / (height + 2 * pad)), 8, width_px))
    dst = np.float32([[0, 0], [out_w, 0], [out_w, height_px], [0, height_px]])
    m = cv2.getPerspectiveTransform(grown.astype(np.float32), dst)
    strip = cv2.warpPerspective(image, m, (out_w, height_px), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    if out_w < width_px:
        fill = np.full((height_px, width_px - out_w) + strip.shape[2:], np.median(strip, axis=(0, 1)), np.uint8)
        strip = np.concatenate([strip, fill], axis=1)
    return strip


LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 weights, as cv2's RGB-to-gray


def flatten_line_rgb(rgb: np.ndarray, quad: np.ndarray, *, height_px: int = 32, width_px: int = 320) -> np.ndarray:
    """Like :func:`flatten_line` from an RGB image, the colours projected on their principal axis over the
    strip (signed like luminance), so that paint that differs from its surface in hue more than in brightness
    (red on olive drab) keeps its contrast; (height_px, width_px) uint8."""
    return flatten_line_colours(rgb, quad, height_px=height_px, width_px=width_px)[0]


def flatten_line_colours(rgb: np.ndarray, quad: np.ndarray, *, height_px: int = 32, width_px: int = 320,
                         axes: int = 1) -> list[np.ndarray]:
    """The line warped once and projected on each of its colours' first ``axes`` principal axes, largest
    variance first, each stretched to 0-255 and signed like luminance. The first axis follows whatever varies
    most, which on camouflage or rust is the surface's blotches; paint whose colour differs from them in
    another direction (yellow on tan-and-grey camouflage) shows on the second."""
    chans = flatten_line(rgb, quad, height_px=height_px, width_px=width_px).astype(np.float32)
    out = []
    for flat in colour_projections(chans.reshape(-1, 3), axes):
        proj = flat.reshape(chans.shape[:2])
        lo, hi = float(proj.min()), float(proj.max())
        out.append(np.round((proj - lo) * (255.0 / max(hi - lo, 1e-6))).astype(np.uint8))
    return out


def colour_projections(px: np.ndarray, axes: int = 1) -> list[np.ndarray]:
    """(N, 3) float32 colours, centred, projected on their first ``axes`` principal axes (largest variance first),
    each signed like luminance: a list of (N,) arrays."""
    centred = px - px.mean(0)
    _, vecs = np.linalg.eigh(centred.T @ centred)  # ascending variance
    out = []
    for k in range(min(axes, 3)):
        axis = vecs[:, -1 - k]
        out.append(centred @ (-axis if axis @ LUMA < 0 else axis))
    return out


def turn_quad(quad: np.ndarray) -> np.ndarray:
    """The same quad read the other way up (corners rotated by two)."""
    return np.roll(np.asarray(quad, np.float32), 2, axis=0)
