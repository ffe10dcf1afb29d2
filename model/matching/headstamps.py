"""Match a headstamp read to maker codes, whatever the clock position or orientation of each segment.

Headstamp databases record each clock position as its own code and search regardless of orientation
(MARKINGS.md A), so matching is cyclic: every segment of every candidate read is compared with every maker code,
and a segment read upside down (``68`` for ``89``) is compared turned as well. The remaining two-digit segment is
the year; four Persian digits are a Solar Hijri year (Gregorian = SH + 621 or 622).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from model.charset import SYMBOL_SEGMENTS
from model.matching.align import Alignment, CharRead, align, chars_of
from model.matching.confusion import normalise_marking

P_NO_CODE = 0.1  # prior that the maker code is not in the table
P_TURNED = 0.05  # a segment read in the wrong orientation
_TURN = str.maketrans("69", "96")


@dataclass(frozen=True)
class SegmentsCandidate:
    segments: tuple[str, ...]
    score: float = 1.0


@dataclass(frozen=True)
class HeadstampMatch:
    code: str
    maker: str
    country: str | None
    verified: bool
    source: str
    score: float  # posterior probability that this maker code is on the head
    segment: str  # the read segment that matched
    year: str | None  # the year as stamped, with its Gregorian reading where it is unambiguous
    alignment: Alignment


    def to_json(self) -> dict:
        return {"code": self.code, "maker": self.maker, "country": self.country, "verified": self.verified,
                "source": self.source, "score": round(self.score, 4), "segment": self.segment, "year": self.year,
                "explanation": self.alignment.explain()}


def year_of(segments: Sequence[str], code_segment: str) -> str | None:
    """The year among the other segments: two digits (``83``), or a Solar Hijri year (``1382 SH = 2003``)."""
    for s in segments:
        if s == code_segment:
            continue
        t, _ = normalise_marking(s)
        if t.isdigit() and len(t) == 2:
            return t
        if t.isdigit() and len(t) == 4 and t.startswith(("13", "14")):
            return f"{t} SH = {int(t) + 621}/{int(t) + 622}"
    return None


def _turned(seg: tuple[CharRead, ...]) -> tuple[CharRead, ...]:
    """The segment as it reads when turned 180 degrees (reversed, 6 and 9 swapped)."""
    return tuple(CharRead(c.char.translate(_TURN), c.prob) for c in reversed(seg))


class HeadstampMatcher:
    """Candidate segment reads in, maker codes (from the registry's table) ranked out."""

    def __init__(self, codes: Sequence[dict]) -> None:
        self.codes = list(codes)

    def match(self, candidates: Sequence[SegmentsCandidate], *, top: int = 3) -> list[HeadstampMatch]:
        cands = [c for c in candidates if c.segments][:8]
        if not cands or not self.codes:
            return []
        total = sum(max(c.score, 1e-9) for c in cands)
        best: dict[str, tuple[float, str, Alignment, str | None]] = {}
        mass: dict[str, float] = {}
        none_mass = 0.0
        for c in cands:
            w = max(c.score, 1e-9) / total
            segs = [s for s in c.segments if s not in SYMBOL_SEGMENTS and normalise_marking(s)[0]]
            reads = [chars_of(s) for s in segs]
            none_mass += w * P_NO_CODE * max((math.exp(sum(math.log(ch.prob) for ch in r)) for r in reads),
                                             default=1.0)
            for code in self.codes:
                lp, seg, al = max(((a.logp + extra, s, a) for s, r in zip(segs, reads)
                                   for a, extra in ((align(r, code["code"]), 0.0),
                                                    (align(_turned(r), code["code"]), math.log(P_TURNED)))),
                                  key=lambda t: t[0], default=(-math.inf, "", None))
                if al is None:
                    continue
                mass[code["code"]] = mass.get(code["code"], 0.0) + w * math.exp(lp)
                if code["code"] not in best or lp > best[code["code"]][0]:
                    best[code["code"]] = (lp, seg, al, year_of(c.segments, seg))
        norm = sum(mass.values()) + none_mass
        ranked = sorted(mass, key=lambda k: -mass[k])[:top]
        by_code = {r["code"]: r for r in self.codes}
        out = []
        for k in ranked:
            r, (_, seg, al, year) = by_code[k], best[k]
            out.append(HeadstampMatch(k, r["maker"], r.get("country"), bool(r["verified"]), r["source"],
                                      mass[k] / norm if norm else 0.0, seg, year, al))
        return out
