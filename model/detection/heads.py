"""Pre- and post-processing for the learned case-head detector (the network lives in model/nets/centernet.py).

``letterbox`` fits an image into the square network input; ``encode_targets`` and ``decode`` are inverses over the
stride-4 output grid, so training and inference share one definition of the output channels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from model.structures import CaseHead, Ellipse

STRIDE = 4


@dataclass(frozen=True)
class Letterbox:
    """How an image was placed into the network input: ``input = image * scale + (pad_x, pad_y)``."""

    scale: float
    pad_x: float
    pad_y: float


def letterbox(rgb: np.ndarray, side_px: int) -> tuple[np.ndarray, Letterbox]:
    """(H, W, 3) uint8 -> (3, side, side) float32 in [-0.5, 0.5] and its placement."""
    h, w = rgb.shape[:2]
    scale = side_px / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    canvas = np.full((side_px, side_px, 3), 127, np.uint8)
    py, px = (side_px - nh) // 2, (side_px - nw) // 2
    canvas[py:py + nh, px:px + nw] = resized
    x = canvas.astype(np.float32).transpose(2, 0, 1) / 255.0 - 0.5  # (3, S, S)
    return x, Letterbox(scale, float(px), float(py))


def input_side(height: int, width: int, *, min_side: int, max_side: int, multiple: int = 32) -> int:
    """Square network input side for an image: its longest side rounded up to ``multiple``, within the bounds,
    so a small crop is not blown up to the side a wide frame needs."""
    side = -(-max(height, width) // multiple) * multiple
    return int(min(max_side, max(min_side, side)))


def encode_targets(heads: list[tuple[Ellipse, float]], box: Letterbox, side_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Training targets for rims (input-image pixels before letterboxing) and primer ratios.

    Returns (8, G, G) float32 targets and a (G, G) mask of the centre cells that carry regression targets.
    """
    g = side_px // STRIDE
    target = np.zeros((8, g, g), np.float32)
    mask = np.zeros((g, g), np.float32)
    yy, xx = np.mgrid[0:g, 0:g].astype(np.float32)
    for rim, primer in heads:
        cx, cy = (rim.cx * box.scale + box.pad_x) / STRIDE, (rim.cy * box.scale + box.pad_y) / STRIDE
        r = rim.a_px * box.scale / STRIDE
        ix, iy = int(cx), int(cy)
        if not (0 <= ix < g and 0 <= iy < g):
            continue
        sigma = max(0.8, r / 6)
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma * sigma))
        target[0] = np.maximum(target[0], blob)
        target[0, iy, ix] = 1.0
        ratio = min(0.999, max(0.2, rim.b_px / rim.a_px))
        target[1:, iy, ix] = [cx - ix, cy - iy, math.log(max(r, 0.5)), math.log(ratio / (1 - ratio)),
                              math.cos(2 * rim.angle_rad), math.sin(2 * rim.angle_rad),
                              math.log(primer / (1 - primer))]
        mask[iy, ix] = 1.0
    return target, mask


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


def heat_peaks(logits: np.ndarray, *, threshold: float, limit: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Heatmap (G, G) from its logits, and its local maxima (3x3) at or above ``threshold``, strongest first."""
    heat = _sigmoid(logits)
    peaks = (heat == cv2.dilate(heat, np.ones((3, 3), np.uint8))) & (heat >= threshold)
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-heat[ys, xs])[:limit]
    return heat, [(int(y), int(x)) for y, x in zip(ys[order], xs[order])]


def decode(out: np.ndarray, box: Letterbox, *, threshold: float = 0.3, max_heads: int = 20) -> list[CaseHead]:
    """(8, G, G) raw network output -> case heads in original-image pixels, best first."""
    heat, peaks = heat_peaks(out[0], threshold=threshold, limit=max_heads)
    heads = []
    for iy, ix in peaks:
        o = out[:, iy, ix]
        cx, cy = float((ix + o[1]) * STRIDE), float((iy + o[2]) * STRIDE)
        a = math.exp(float(o[3])) * STRIDE
        ratio = float(_sigmoid(o[4]))
        angle = 0.5 * math.atan2(float(o[6]), float(o[5]))
        rim = Ellipse((cx - box.pad_x) / box.scale, (cy - box.pad_y) / box.scale, a / box.scale,
                      a * ratio / box.scale, angle)
        heads.append(CaseHead(rim, primer_ratio=float(_sigmoid(o[7])), score=float(heat[iy, ix])))
    return heads
