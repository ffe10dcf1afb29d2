"""Pre- and post-processing for the learned painted-line detector (the network is ``model/nets/centernet.py``).

Each line is a rotated box: centre, half-length, half-height, angle (mod 180 degrees; the reader tries both ways
up). Output channels at stride 4: 0 centre heatmap logit, 1-2 offset to the centre, 3 log half-length, 4 log
half-height (output pixels), 5-6 cos and sin of twice the angle, 7 unused.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.detection.heads import STRIDE, Letterbox, heat_peaks
from model.rectify.lines import quad_sides
from model.structures import Ellipse


@dataclass(frozen=True)
class LineBox:
    """A detected painted line in original-image pixels."""

    cx: float
    cy: float
    half_len: float
    half_h: float
    angle_rad: float
    score: float

    def contains(self, x: float, y: float, *, across: float = 0.5) -> bool:
        """Whether (x, y) lies on this line: within its length, and within ``across`` of its half-height."""
        c, s = math.cos(self.angle_rad), math.sin(self.angle_rad)
        dx, dy = x - self.cx, y - self.cy
        return abs(dx * c + dy * s) < self.half_len and abs(-dx * s + dy * c) < across * self.half_h

    def meets(self, other: LineBox, *, across: float = 0.5) -> bool:
        """Whether either box's centre lies on the other (within ``across`` of its half-height): one line."""
        return self.contains(other.cx, other.cy, across=across) or other.contains(self.cx, self.cy, across=across)

    def lengthened(self, by: float) -> LineBox:
        """The same line with ``by`` line heights more at each end (same centre, height, angle and score)."""
        return dataclasses.replace(self, half_len=self.half_len + by * 2 * self.half_h)

    @classmethod
    def of_quad(cls, quad: np.ndarray, score: float = 1.0) -> LineBox:
        """The box of a quad (corners in the text's order)."""
        return cls(*box_of_quad(quad), score=score)

    def quad(self) -> np.ndarray:
        """(4, 2) corners top-left, top-right, bottom-right, bottom-left (for the angle as given)."""
        c, s = math.cos(self.angle_rad), math.sin(self.angle_rad)
        ux, uy = np.array([c, s]) * self.half_len, np.array([-s, c]) * self.half_h
        ctr = np.array([self.cx, self.cy])
        return np.stack([ctr - ux - uy, ctr + ux - uy, ctr + ux + uy, ctr - ux + uy]).astype(np.float32)


def on_a_head(quad: np.ndarray, rims: Sequence[Ellipse]) -> bool:
    """Whether a line's box (its four corners) lies wholly on one of the case heads ``rims`` (within its major
    radius of its centre): its text is the headstamp's. A line that runs past the rim, such as a lot whose factory
    code is circled, is not on the head."""
    return any(all(math.hypot(float(x) - r.cx, float(y) - r.cy) < r.a_px for x, y in quad) for r in rims)


def box_of_quad(quad: np.ndarray) -> tuple[float, float, float, float, float]:
    """(cx, cy, half_len, half_h, angle) of a quad (corners in the text's order)."""
    cx, cy = np.asarray(quad, np.float32).mean(0)
    ux, uy = quad_sides(quad)
    return float(cx), float(cy), float(np.linalg.norm(ux) / 2), float(np.linalg.norm(uy) / 2), \
        float(math.atan2(ux[1], ux[0]))


def frames(line: LineBox, truth_quad: np.ndarray) -> bool:
    """Whether a detection frames a true line closely enough to read it whole: its centre within 10 % of the
    true half-length along the line and half the true height across, its length within 10 %, its height within
    25 %."""
    cx, cy, half_len, half_h, _ = box_of_quad(truth_quad)
    centred = LineBox(line.cx, line.cy, 0.1 * half_len, half_h, line.angle_rad, line.score).contains(cx, cy)
    return centred and abs(line.half_len / half_len - 1) < 0.1 and abs(line.half_h / half_h - 1) < 0.25


def encode_line_targets(quads: list[np.ndarray], box: Letterbox, side_px: int, *,
                        dense: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(8, G, G) targets and (G, G) regression weights for line quads given in input-image pixels.

    Every cell where a line's heatmap blob reaches ``dense`` regresses that line's whole box (offset to its
    centre, size, angle), weighted by the blob, the centre cell at 1: a long line's heat ridge can peak off
    centre, and such a peak must still give the line's own box, not a box shifted along it (which reads a part
    of the line). Where blobs overlap, the stronger blob's line owns the cell. ``dense`` 1.0: centre cells only.
    """
    g = side_px // STRIDE
    target = np.zeros((8, g, g), np.float32)
    mask = np.zeros((g, g), np.float32)
    yy, xx = np.mgrid[0:g, 0:g].astype(np.float32)
    for q in quads:
        cx, cy, hl, hh, ang = box_of_quad(q)
        cx, cy = (cx * box.scale + box.pad_x) / STRIDE, (cy * box.scale + box.pad_y) / STRIDE
        hl, hh = hl * box.scale / STRIDE, hh * box.scale / STRIDE
        ix, iy = int(cx), int(cy)
        if not (0 <= ix < g and 0 <= iy < g) or hh < 0.25:
            continue
        c, s = math.cos(ang), math.sin(ang)
        along, across = (xx - cx) * c + (yy - cy) * s, -(xx - cx) * s + (yy - cy) * c
        sx, sy = max(0.8, hl / 4), max(0.6, hh / 2)
        blob = np.exp(-(along ** 2) / (2 * sx * sx) - (across ** 2) / (2 * sy * sy))
        blob[iy, ix] = 1.0
        own = (blob >= dense) & (blob > mask)
        own[iy, ix] = True
        target[0] = np.maximum(target[0], blob)
        target[1, own], target[2, own] = cx - xx[own], cy - yy[own]
        target[3:7, own] = np.array([math.log(max(hl, 0.5)), math.log(max(hh, 0.25)), math.cos(2 * ang),
                                     math.sin(2 * ang)], np.float32)[:, None]
        mask[own] = blob[own]
    return target, mask


def decode_lines(out: np.ndarray, box: Letterbox, *, threshold: float = 0.3, max_lines: int = 12) -> list[LineBox]:
    """(8, G, G) raw output -> line boxes in original-image pixels, best first."""
    heat, peaks = heat_peaks(out[0], threshold=threshold, limit=max_lines)
    lines = []
    for iy, ix in peaks:
        o = out[:, iy, ix]
        cx, cy = float((ix + o[1]) * STRIDE), float((iy + o[2]) * STRIDE)
        hl, hh = math.exp(float(o[3])) * STRIDE, math.exp(float(o[4])) * STRIDE
        ang = 0.5 * math.atan2(float(o[6]), float(o[5]))
        lines.append(LineBox((cx - box.pad_x) / box.scale, (cy - box.pad_y) / box.scale, hl / box.scale,
                             hh / box.scale, ang, float(heat[iy, ix])))
    return lines


def shared_ways(lines: list[LineBox], lean: list[float], *, parallel_deg: float = 15.0,
                near: float = 4.0) -> list[int]:
    """Which way up to read each line (0: as its ``quad``, 1: turned) when the lines of one marking share it.

    ``lean[i]`` is line i's evidence for its way 0 over way 1 (a log-probability ratio). Lines that are parallel
    (within ``parallel_deg``) and near each other (their boxes within ``near`` line heights) form one marking,
    painted one way up: its lines' evidence, each taken in the marking's own direction, is summed and all of them
    read the way it favours (ties: way 0). A line alone reads its own likelier way."""
    n = len(lines)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tol = math.sin(math.radians(parallel_deg))
    for i in range(n):
        for j in range(i + 1, n):
            a, b = lines[i], lines[j]
            gap = math.hypot(a.cx - b.cx, a.cy - b.cy) - a.half_len - b.half_len
            if abs(math.sin(a.angle_rad - b.angle_rad)) < tol and gap < near * (a.half_h + b.half_h):
                parent[root(i)] = root(j)
    total: dict[int, float] = {}
    for i in range(n):  # each line's lean in its marking's direction (that of the marking's root line)
        total[root(i)] = total.get(root(i), 0.0) + lean[i] * _same_way(lines[i], lines[root(i)])
    return [int(total[root(i)] * _same_way(lines[i], lines[root(i)]) < 0) for i in range(n)]


def _same_way(a: LineBox, b: LineBox) -> int:
    """+1 when two lines' way 0 is one way up (their directions less than a quarter turn apart), else -1."""
    return 1 if math.cos(a.angle_rad - b.angle_rad) >= 0 else -1
