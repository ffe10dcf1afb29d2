"""Strip pre-processing shared by training and inference (the manifest records its parameters)."""

from __future__ import annotations

import cv2
import numpy as np


def strips_to_input(strips: list[np.ndarray], *, height_px: int, width_px: int) -> np.ndarray:
    """(H0, W0) uint8 strips -> (N, 1, height_px, width_px) float32, each standardised to zero mean, unit std."""
    out = np.empty((len(strips), 1, height_px, width_px), np.float32)
    for i, s in enumerate(strips):
        if s.shape != (height_px, width_px):
            s = cv2.resize(s, (width_px, height_px), interpolation=cv2.INTER_AREA)
        x = s
        x = x.astype(np.float32)
        out[i, 0] = (x - x.mean()) / (x.std() + 8.0)
    return out
