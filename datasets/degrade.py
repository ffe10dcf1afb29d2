"""Damage and capture degradations: our own (corrosion, scratches, grinding, paint, glare, occlusion) plus
albumentations for the photometric ones (blur, motion blur, noise, JPEG)."""

from __future__ import annotations

import math

import albumentations as A
import cv2
import numpy as np


def _blobs(shape: tuple[int, int], rng: np.random.Generator, *, scale: int, threshold: float) -> np.ndarray:
    """Soft random blob mask (H, W) in [0, 1] from thresholded smooth noise."""
    h, w = shape
    low = rng.normal(0, 1, (max(2, h // scale), max(2, w // scale))).astype(np.float32)
    field = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip((field - threshold) * 2.0, 0, 1)


def corrosion(rgb: np.ndarray, mask: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Green-brown corrosion and dark tarnish patches inside ``mask`` (H, W) float."""
    h, w = mask.shape
    spots = _blobs((h, w), rng, scale=int(rng.integers(6, 20)), threshold=1.2 - amount)
    pits = (rng.random((h, w)) < 0.05 * amount).astype(np.float32)
    spots = np.clip(spots + cv2.GaussianBlur(pits, (0, 0), 1.0) * 2, 0, 1) * mask
    spots *= rng.uniform(0.45, 1.0)  # patina is often translucent
    colour = np.array([70, 95, 60]) if rng.random() < 0.5 else np.array([70, 50, 35])
    return rgb * (1 - spots[..., None]) + colour * spots[..., None]


def patina(rgb: np.ndarray, mask: np.ndarray, rng: np.random.Generator, cover: float) -> np.ndarray:
    """Coarse blotches of olive or grey-green patina and grime over about ``cover`` of the face inside ``mask``,
    each several glyphs wide, mottled and translucent, as on cases recovered from the ground."""
    h, w = mask.shape
    low = rng.normal(0, 1, (max(2, int(h / rng.uniform(w / 12, w / 6))),) * 2).astype(np.float32)
    field = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    inside = field[mask > 0.5]
    level = float(np.quantile(inside, 1.0 - cover)) if inside.size else 0.0
    blotch = np.clip((field - level) * rng.uniform(2.0, 6.0), 0, 1)
    mottle = cv2.resize(rng.uniform(0.7, 1.0, (max(2, h // 6), max(2, w // 6))).astype(np.float32), (w, h))
    alpha = blotch * mottle * mask * rng.uniform(0.55, 0.9)
    colour = np.array([88, 100, 72]) * rng.uniform(0.6, 1.1) + rng.normal(0, 8, 3)
    return rgb * (1 - alpha[..., None]) + colour * alpha[..., None]


def scratches(rgb: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    out = rgb.copy()
    h, w = rgb.shape[:2]
    for _ in range(count):
        p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        ang, length = rng.uniform(0, math.pi), rng.uniform(0.1, 0.6) * w
        p1 = (int(p0[0] + length * math.cos(ang)), int(p0[1] + length * math.sin(ang)))
        tone = float(rng.choice([40.0, 220.0]))
        cv2.line(out, p0, p1, (tone, tone, tone), int(rng.integers(1, 3)), cv2.LINE_AA)
    return 0.6 * rgb + 0.4 * out


def grind(rgb: np.ndarray, rng: np.random.Generator, frac: float) -> np.ndarray:
    """Replace a random blob of the stamped face with smoothed, streaked (ground) metal."""
    h, w = rgb.shape[:2]
    depth_free_rgb = cv2.GaussianBlur(rgb, (0, 0), max(2.0, w / 40))
    m = _blobs((h, w), rng, scale=int(rng.integers(3, 6)), threshold=1.0 - frac)
    streaks = cv2.GaussianBlur(rng.normal(0, 12, (h, w)).astype(np.float32), (0, 0), sigmaX=6, sigmaY=0.5)
    ground = depth_free_rgb * 1.08 + streaks[..., None]
    return rgb * (1 - m[..., None]) + ground * m[..., None]


def paint(rgb: np.ndarray, rng: np.random.Generator, opacity: float) -> np.ndarray:
    """Camouflage-like paint or dirt over the whole picture at ``opacity``."""
    h, w = rgb.shape[:2]
    out = rgb.astype(np.float32)
    for _ in range(int(rng.integers(1, 4))):
        m = _blobs((h, w), rng, scale=int(rng.integers(8, 24)), threshold=float(rng.uniform(0.0, 0.8)))
        colour = rng.uniform(30, 200, 3)
        out = out * (1 - opacity * m[..., None]) + colour * opacity * m[..., None]
    return out


def glare(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, s = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.35) * max(h, w)
    g = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s)) * rng.uniform(0.3, 0.9)
    return rgb + (255 - rgb) * g[..., None]


def occlude(rgb: np.ndarray, rng: np.random.Generator, centre: tuple[float, float], radius: float) -> np.ndarray:
    """A finger-like or debris blob over part of the head."""
    out = rgb.copy()
    ang = rng.uniform(0, 2 * math.pi)
    d = radius * rng.uniform(0.7, 1.2)
    cx, cy = centre[0] + d * math.cos(ang), centre[1] + d * math.sin(ang)
    axes = (int(radius * rng.uniform(0.25, 0.5)), int(radius * rng.uniform(0.5, 1.0)))
    colour = rng.uniform(60, 220, 3) * (np.array([1.0, 0.8, 0.7]) if rng.random() < 0.6 else 1.0)
    cv2.ellipse(out, (int(cx), int(cy)), axes, math.degrees(ang), 0, 360, colour.tolist(), -1, cv2.LINE_AA)
    return out


def photometric(level: float, *, seed: int) -> A.Compose:
    """Capture degradations; ``level`` in [0, 1] scales their strength; ``seed`` makes them repeatable."""
    q_low = int(95 - 80 * level)
    return A.Compose([
        A.RandomBrightnessContrast(0.25, 0.3, p=0.8),
        A.HueSaturationValue(8, 20, 15, p=0.5),
        A.OneOf([
            A.GaussianBlur(blur_limit=(3, 3 + 2 * int(3 * level)), p=1.0),
            A.MotionBlur(blur_limit=(3, 3 + 2 * int(4 * level)), p=1.0),
        ], p=0.2 + 0.6 * level),
        A.GaussNoise(std_range=(0.01, 0.02 + 0.08 * level), p=0.3 + 0.5 * level),
        A.ImageCompression(quality_range=(max(15, q_low), 95), p=0.5 + 0.5 * level),
    ], seed=seed)


def downscale(rgb: np.ndarray, rng: np.random.Generator, *, diameter_px: float, min_diameter_px: float) -> np.ndarray:
    """Lose resolution: shrink so the head is ``min_diameter_px``..current wide, then enlarge back."""
    target = rng.uniform(min_diameter_px, diameter_px)
    return soften(rgb, target / diameter_px)


def soften(rgb: np.ndarray, f: float) -> np.ndarray:
    """The image shrunk by ``f`` and enlarged back to its size (as a video still or a digital zoom loses
    resolution); unchanged when ``f`` > 0.95."""
    if f > 0.95:
        return rgb
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB saved as a JPEG of ``quality`` and decoded again (a re-sent or re-encoded photo)."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
