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
    strip = unwrap(gray, rim, seam_rad=0.0, band=coarse).astype(np.float32)
    strip -= np.median(strip, axis=1, keepdims=True)
    energy = np.abs(np.diff(strip, axis=0)).sum(axis=0) + np.abs(strip).sum(axis=0)  # (bins,)
    k = max(3, bins // 24) | 1
    padded = np.concatenate([energy[-k:], energy, energy[:k]])
    smooth = np.convolve(padded, np.ones(k) / k, mode="same")[k:-k]
    return column_angle(float(np.argmin(smooth)), seam_rad=0.0, width_px=bins)
