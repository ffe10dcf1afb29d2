"""Wires the readers: every marking in an image, headstamps and painted lines, with the rules that tell a painted
circle from a case head. Owns no maths."""

from __future__ import annotations

import numpy as np

from model.detection.lines import LineBox, box_of_quad
from model.headstamp_reader import HeadstampReader, ReaderConfig
from model.lot_reader import LotReader, LotReaderConfig
from model.runtime import OnnxNet
from model.structures import Ellipse, LineRead, Read

# the slower, more thorough reading (CLI --thorough): unsure heads (best read under 0.6 of the mass) read again
# with the rim scaled by 0.95 and 1.05, every painted line also read in boxes 1.2 and 0.85 times as high
THOROUGH = (ReaderConfig(rim_scales=(0.95, 1.05), rim_expand=0), LotReaderConfig(jitter_below=float("inf")))


class MarkingReader:
    """Headstamps and, when its bundles are installed, painted lot lines: every marking in an image."""

    def __init__(self, headstamps: HeadstampReader, lots: LotReader | None = None) -> None:
        self.headstamps, self.lots = headstamps, lots

    @classmethod
    def from_bundles(cls, *, device: str = "cpu", threads: int = 0, thorough: bool = False) -> MarkingReader:
        """The shipped readers; ``thorough`` (:data:`THOROUGH`) looks again at every unsure head with its rim a
        little smaller and larger and reads every painted line in jittered boxes too, about twice as slow."""
        hs, lots = THOROUGH if thorough else (ReaderConfig(), LotReaderConfig())
        return cls(HeadstampReader.from_bundles(device=device, threads=threads, cfg=hs),
                   LotReader.from_bundles(device=device, threads=threads, cfg=lots))

    def read(self, rgb: np.ndarray) -> list[Read | LineRead]:
        return self.read_batch([rgb])[0]

    def read_batch(self, images: list[np.ndarray]) -> list[list[Read | LineRead]]:
        out: list[list[Read | LineRead]] = [list(r) for r in self.headstamps.read_batch(images)]
        if self.lots is not None:
            for reads, rgb in zip(out, images):
                lines = self.lots.read(rgb, heads=[r.head.rim for r in reads if isinstance(r, Read)])
                painted = {id(r) for ln in lines for r in _painted_heads(reads, ln)}
                reads[:] = [r for r in reads if id(r) not in painted]
                reads.extend(lines)
        return out

    @property
    def nets(self) -> list[OnnxNet]:
        nets = [self.headstamps.net] + ([self.headstamps.detector.net] if self.headstamps.detector.net else [])
        return nets + ([self.lots.detector, self.lots.net] if self.lots else [])


def circle_in_line(rim: Ellipse, quad: tuple[tuple[float, float], ...] | np.ndarray) -> bool:
    """Whether a detected 'case head' is painted text instead: a circled factory code or a big stencilled
    letter. Its centre lies on a text line, it is at most about three times the line's height (headstamp text
    is far smaller than its rim), and the line runs on past it."""
    line = LineBox(*box_of_quad(np.asarray(quad, np.float32)), score=0.0)
    r = max(rim.a_px, rim.b_px)
    return line.contains(rim.cx, rim.cy, across=1.0) and r < 3.0 * line.half_h and line.half_len > r + line.half_h


def _painted_heads(reads: list[Read], line: LineRead) -> list[Read]:
    """The 'case heads' that are part of a painted line (:func:`_painted_over`). When several sit on one line,
    the line must also be confidently read: a false line across a row of cases in a frame (read at about 0.5
    per character) must not take them all."""
    on_line = [r for r in reads if circle_in_line(r.head.rim, line.quad)]
    if len(on_line) > 1 and not _confident(line):
        return []
    return [r for r in on_line if _painted_over(r, line)]


def _painted_over(head: Read, line: LineRead, *, unsure: float = 0.5, lost: float = 0.25) -> bool:
    """Whether a 'case head' is part of a painted line (a circled code, a big letter): it sits on the line as
    :func:`circle_in_line` says, and the line is confidently read, or the line is clearly detected and the
    head's own best read has under ``unsure`` of its candidates' mass, or that read has under ``lost`` (painted
    text read as a headstamp reads as nothing in particular). A line read as no letter or digit at all (``-``:
    a scratch or an edge on a busy frame) paints over nothing."""
    if not circle_in_line(head.head.rim, line.quad) or not line.has_letter_or_digit:
        return False
    share = head.candidates[0].score if head.candidates else 0.0
    if _confident(line) or share < lost:
        return True
    return line.detection_score >= CLEAR_DETECTION and share < unsure


CLEAR_DETECTION = 0.4  # a line detected at least this strongly is no false line on a busy background (~0.35)


def _confident(line: LineRead, *, detection: float = CLEAR_DETECTION, mean_prob: float = 0.75) -> bool:
    """A line sure enough to overrule a case head under it: false lines on busy backgrounds (measured on
    rendered video frames) score about 0.35 as detections and read at about 0.6 per character."""
    return line.detection_score >= detection and bool(line.char_probs) and line.mean_char_prob >= mean_prob
