"""The case-head predictor: learned detector proposals, each refined on the rim edge when the edge supports it."""

from __future__ import annotations

import math

import cv2
import numpy as np

from model.detection.heads import decode, input_side, letterbox
from model.detection.rims import detect_rims, refine_rim, suppress_nested
from model.runtime import OnnxNet
from model.structures import CaseHead, Ellipse


class CaseHeadDetector:
    """Finds case heads in an RGB image; falls back to the geometric detector when no network is given.

    Each proposal is snapped to the rim edge (:func:`refine`) unless the bundle's manifest says
    ``"snap_to_edge": false``, for a network whose own rims read better than the edge fit's."""

    def __init__(self, net: OnnxNet | None, *, threshold: float = 0.3, max_heads: int = 12,
                 max_side_px: int | None = None) -> None:
        self.net = net
        self.threshold = threshold
        self.max_heads = max_heads
        inp = net.bundle.manifest["input"] if net else {}
        trained = int(inp.get("side_px", 0))
        # bundles trained at one side only (no "min_side_px") always run at that side
        self.min_side_px = int(inp.get("min_side_px", trained))
        self.side_px = max_side_px if max_side_px and "min_side_px" in inp else trained
        self.snap = bool(net.bundle.manifest.get("snap_to_edge", True)) if net else True

    def __call__(self, rgb: np.ndarray, gray: np.ndarray) -> list[CaseHead]:
        if self.net is None:
            return detect_rims(gray, max_heads=self.max_heads)
        side = input_side(*rgb.shape[:2], min_side=self.min_side_px, max_side=self.side_px)
        x, box = letterbox(rgb, side)
        out = self.net(x[None])[0]  # (8, G, G)
        proposals = decode(out, box, threshold=self.threshold, max_heads=3 * self.max_heads)
        heads = suppress_nested(proposals, rank=lambda h: h.score)
        return [refine(gray, h) if self.snap else h for h in heads[: self.max_heads]]


def refine(gray: np.ndarray, head: CaseHead, *, min_support: float = 0.6) -> CaseHead:
    """Snap a proposal to the rim edge: keep the edge fit when it is well supported and close to the proposal."""
    rim = head.rim
    scale = min(1.0, 240.0 / max(1.0, rim.a_px))  # fit on a copy where the head is at most ~240 px in radius
    x0 = y0 = 0
    small = gray
    if scale < 1:  # shrink only the window the rim fit reads (its rays reach 1.45 radii, plus filter support)
        reach = 1.45 * rim.a_px + 8 / scale
        x0, y0 = max(0, int(rim.cx - reach)), max(0, int(rim.cy - reach))
        x1 = min(gray.shape[1], int(math.ceil(rim.cx + reach)) + 1)
        y1 = min(gray.shape[0], int(math.ceil(rim.cy + reach)) + 1)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return head
        small = cv2.resize(gray[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    fit = refine_rim(small, (rim.cx - x0) * scale, (rim.cy - y0) * scale, rim.a_px * scale)
    if fit is None:
        return head
    e, support = fit
    e = Ellipse(e.cx / scale + x0, e.cy / scale + y0, e.a_px / scale, e.b_px / scale, e.angle_rad)
    moved = math.hypot(e.cx - rim.cx, e.cy - rim.cy) / rim.a_px
    if support < min_support or moved > 0.12 or not 0.88 < e.a_px / rim.a_px < 1.12:
        return head
    return CaseHead(e, head.primer_ratio, head.score)
