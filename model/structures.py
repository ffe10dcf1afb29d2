"""Typed results passed between stages. Coordinates are in original-image pixels."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ellipse:
    """A case head's rim as an ellipse: centre, semi-axes (major ``a_px`` >= minor ``b_px``), major-axis angle."""

    cx: float
    cy: float
    a_px: float
    b_px: float
    angle_rad: float = 0.0

    @property
    def radius_px(self) -> float:
        """Rim radius: the major semi-axis (a tilted disc keeps its true radius along the tilt axis)."""
        return self.a_px


@dataclass(frozen=True)
class CaseHead:
    """One detected cartridge base."""

    rim: Ellipse
    primer_ratio: float
    score: float


@dataclass(frozen=True)
class Hypothesis:
    """One decoded reading of a strip: segments clockwise from the seam, per-character probabilities."""

    segments: tuple[str, ...]
    char_probs: tuple[tuple[float, ...], ...]
    turned: tuple[bool, ...]
    score: float  # log: CTC likelihood plus the lexicon's prior (the beam's own probability without a lexicon)
    positions: tuple[float, ...] = ()  # each segment's centre as a fraction of the strip, from its seam

    @property
    def text(self) -> str:
        return " ".join(self.segments)


@dataclass(frozen=True)
class Candidate:
    """A candidate read offered to matching, with its share of the probability mass."""

    segments: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class Read:
    """A headstamp read: geometry, best segments with per-character probabilities, n-best candidates."""

    kind: str
    head: CaseHead
    best: Hypothesis
    candidates: tuple[Candidate, ...]
    clock_positions: tuple[float, ...] = field(default=())

    def to_json(self) -> dict:
        """The prediction-file form used by ``marktrace batch`` (see shared/eval/README.md)."""
        rim = self.head.rim
        return {
            "kind": self.kind,
            "segments": list(self.best.segments),
            "center": [round(rim.cx, 1), round(rim.cy, 1)],
            "radius": round(rim.radius_px, 1),
            "ellipse": {"a": round(rim.a_px, 1), "b": round(rim.b_px, 1),
                        "angle_deg": round(math.degrees(rim.angle_rad), 1)},
            "primer_ratio": round(self.head.primer_ratio, 3),
            "detection_score": round(self.head.score, 3),
            "char_probs": [[round(p, 3) for p in seg] for seg in self.best.char_probs],
            "turned": list(self.best.turned),
            "clock": [round(c, 1) for c in self.clock_positions],
            "candidates": [{"segments": list(c.segments), "score": round(c.score, 4)}
                           for c in self.candidates],
        }


@dataclass(frozen=True)
class TextCandidate:
    text: str
    score: float


def holds_letter_or_digit(text: str) -> bool:
    """Whether a read holds a letter or digit in any script (a lone ``-`` or ``()`` does not)."""
    return any(c.isalnum() for c in text)


@dataclass(frozen=True)
class LineRead:
    """A painted line: where it is, its best read with per-character probabilities, n-best candidates, and,
    for the lot line, its format and fields."""

    kind: str  # lot | text
    quad: tuple[tuple[float, float], ...]  # corners top-left, top-right, bottom-right, bottom-left (text order)
    text: str  # circles removed: ((10))-04-11 -> 10-04-11
    char_probs: tuple[float, ...]
    candidates: tuple[TextCandidate, ...]
    circled_factory: bool = False
    format: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    detection_score: float = 0.0

    @property
    def mean_char_prob(self) -> float:
        """The read's mean character probability (0 for an empty read)."""
        return sum(self.char_probs) / len(self.char_probs) if self.char_probs else 0.0

    @property
    def has_letter_or_digit(self) -> bool:
        """Whether the read holds a letter or digit (:func:`holds_letter_or_digit`)."""
        return holds_letter_or_digit(self.text)

    def to_json(self) -> dict:
        xs, ys = [p[0] for p in self.quad], [p[1] for p in self.quad]
        out = {"kind": self.kind, "text": self.text,
               "box": [round(min(xs), 1), round(min(ys), 1), round(max(xs), 1), round(max(ys), 1)],
               "quad": [[round(x, 1), round(y, 1)] for x, y in self.quad],
               "char_probs": [round(p, 3) for p in self.char_probs],
               "candidates": [{"text": c.text, "score": round(c.score, 4)} for c in self.candidates],
               "detection_score": round(self.detection_score, 3)}
        if self.kind == "lot":
            out.update(circled_factory=self.circled_factory, format=self.format, fields=dict(self.fields))
        return out
