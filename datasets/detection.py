"""Detector training images: close-up crops and multi-head frames, letterboxed, with their rims."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasets.scenes import LEVELS, render_crop, render_frame
from model.detection.heads import letterbox
from model.structures import Ellipse


@dataclass(frozen=True)
class DetectionSample:
    pixels: np.ndarray  # (S, S, 3) uint8 letterboxed network input
    heads: list[tuple[Ellipse, float]]  # rims in letterboxed pixels, primer ratio


def make_detection_sample(rng: np.random.Generator, side_px: int = 384) -> DetectionSample:
    level = str(rng.choice(LEVELS, p=[0.4, 0.35, 0.25]))
    scene = render_crop(rng, level=level) if rng.random() < 0.45 else render_frame(rng, level=level)
    x, box = letterbox(scene.rgb, side_px)
    pixels = ((x.transpose(1, 2, 0) + 0.5) * 255).round().astype(np.uint8)
    heads = [(Ellipse(h.rim.cx * box.scale + box.pad_x, h.rim.cy * box.scale + box.pad_y, h.rim.a_px * box.scale,
                      h.rim.b_px * box.scale, h.rim.angle_rad), h.primer_ratio) for h in scene.heads]
    return DetectionSample(pixels, heads)
