"""Tracking markings across video frames and fusing their per-frame candidate reads into one read.

Each frame's reads are attached to the track whose last sighting is nearest (within ``gate`` of the marking's
size); a track's candidates are fused over its frames as a product of (probability + FLOOR): with the floor at
0.2 this sits between a product (agreement multiplies) and a sum of votes (one confident misread cannot veto a
read that most frames offer). The floor was chosen on rendered clips (bench/video.py, seed 7) and checked on
another seed. Headstamp candidates are compared as cyclic sequences.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from model.charset import SEPARATORS, normalise_glyphs
from model.consensus import Lattice

FLOOR = 0.2  # added to every frame's probabilities: near a sum of votes, so one confident misread cannot veto


@dataclass(frozen=True)
class Sighting:
    """One marking in one frame: where it was, and its candidate reads (key, probability)."""

    kind: str  # headstamp | lot | text
    time_s: float
    frame_index: int
    center: tuple[float, float]
    size_px: float  # rim radius, or half the line's length
    candidates: tuple[tuple[tuple[str, ...], float], ...]


@dataclass
class Track:
    kind: str
    sightings: list[Sighting] = field(default_factory=list)

    @property
    def last(self) -> Sighting:
        return self.sightings[-1]

    def predict(self, time_s: float) -> tuple[float, float]:
        """Where the marking should be at ``time_s``, moving as it did between its last two sightings."""
        if len(self.sightings) < 2:
            return self.last.center
        a, b = self.sightings[-2], self.sightings[-1]
        dt = b.time_s - a.time_s
        if dt <= 0:
            return b.center
        f = (time_s - b.time_s) / dt
        return (b.center[0] + f * (b.center[0] - a.center[0]), b.center[1] + f * (b.center[1] - a.center[1]))


@dataclass(frozen=True)
class FusedRead:
    kind: str
    best: tuple[str, ...]
    candidates: tuple[tuple[tuple[str, ...], float], ...]
    evidence: tuple[Sighting, ...]
    char_probs: tuple[tuple[float, ...], ...] = ()  # per segment of ``best``, when fused by character


def _shares_a_read(a: Sighting, b: Sighting) -> bool:
    return bool({k for k, _ in a.candidates[:3]} & {k for k, _ in b.candidates[:3]})


def track(sightings: Sequence[Sighting], *, gate: float = 0.6, max_gap_s: float = 3.0) -> list[Track]:
    """Greedy nearest-neighbour tracks over sightings given in time order. A sighting joins a track within
    ``gate`` sizes of its last position, or within a wider gate that grows with the time gap when the two
    share a candidate read (a fast pan)."""
    tracks: list[Track] = []
    for s in sorted(sightings, key=lambda x: (x.time_s, x.frame_index)):
        live = [t for t in tracks if t.kind == s.kind and s.time_s - t.last.time_s <= max_gap_s
                and t.last.frame_index != s.frame_index]
        best, best_d = None, math.inf
        for t in live:
            scale = max(1.0, min(t.last.size_px, s.size_px))
            d = min(math.dist(t.last.center, s.center), math.dist(t.predict(s.time_s), s.center)) / scale
            wide = 3 * gate * max(1.0, (s.time_s - t.last.time_s) / 0.5)
            if (d < gate or (d < wide and _shares_a_read(t.last, s))) and d < best_d:
                best, best_d = t, d
        if best is None:
            best = Track(s.kind)
            tracks.append(best)
        best.sightings.append(s)
    return tracks


def merge_tracks(tracks: list[Track], *, gate: float = 0.6) -> list[Track]:
    """Join tracks that follow each other in time, start near where the other ended and fuse to the same read
    (a marking lost for a frame or misread once)."""
    out: list[Track] = []
    best: dict[int, tuple[str, ...]] = {}  # each track's fused read, computed once (again when it grows)

    def fused(x: Track) -> tuple[str, ...]:
        if id(x) not in best:
            best[id(x)] = fuse(x).best
        return best[id(x)]

    for t in sorted(tracks, key=lambda x: x.sightings[0].time_s):
        first = t.sightings[0]
        for prev in out:
            last = prev.last
            if prev.kind != t.kind or last.time_s >= first.time_s:
                continue
            d = math.dist(last.center, first.center) / max(1.0, min(last.size_px, first.size_px))
            wide = 3 * gate * max(1.0, (first.time_s - last.time_s) / 0.5)
            if d < wide and fused(prev) == fused(t):
                prev.sightings.extend(t.sightings)
                best.pop(id(prev))
                break
        else:
            out.append(t)
    return out


def _read_logp(t: Track, keys: set[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
    """Whole-read fusion: log of the product over frames of (probability + FLOOR) for each read in ``keys``."""
    logp = {k: 0.0 for k in keys}
    for s in t.sightings:
        probs: dict[tuple[str, ...], float] = defaultdict(float)
        for k, p in s.candidates:  # several hypotheses can be one read (another seam, a star for a dot)
            probs[k] += p
        total = sum(probs.values()) or 1.0
        for k in keys:
            logp[k] += math.log(probs.get(k, 0.0) / total + FLOOR)
    return logp


def _normalised(logp: dict[tuple[str, ...], float]) -> list[tuple[tuple[str, ...], float]]:
    top_lp = max(logp.values())
    norm = sum(math.exp(v - top_lp) for v in logp.values())
    return sorted(((k, math.exp(v - top_lp) / norm) for k, v in logp.items()), key=lambda kv: -kv[1])


SEGMENT_BREAK = "|"  # joins a headstamp's segments into one string for character alignment


def _as_text(key: tuple[str, ...], pivot: str, cyclic: bool) -> str:
    """A read as one string; a headstamp's segments start where they best line up with the pivot."""
    if not cyclic:
        return SEGMENT_BREAK.join(key)
    turns = [SEGMENT_BREAK.join(key[i:] + key[:i]) for i in range(max(1, len(key)))]
    return min(turns, key=lambda x: Levenshtein.distance(x, pivot))


Segments = tuple[str, ...]


def _as_read(text: str, probs: tuple[float, ...], cyclic: bool) -> tuple[Segments, tuple[tuple[float, ...], ...]]:
    """Back from one string to segments (rotated as :func:`cyclic_key` does), with per-character probabilities."""
    segs: list[tuple[str, tuple[float, ...]]] = []
    start = 0
    for k, c in enumerate(text + SEGMENT_BREAK):
        if c == SEGMENT_BREAK:
            seg = text[start:k]
            if seg and (not cyclic or not set(seg) <= SEPARATORS):
                segs.append((normalise_glyphs(seg) if cyclic else seg, probs[start:k]))
            start = k + 1
    if cyclic and segs:
        segs = min((segs[i:] + segs[:i] for i in range(len(segs))), key=lambda r: tuple(x for x, _ in r))
    return tuple(x for x, _ in segs), tuple(p for _, p in segs)


def fuse(t: Track, *, top: int = 5, method: str = "both") -> FusedRead:
    """Fusion of a track's reads. ``reads``: whole candidate reads ranked by the product over frames of
    (probability + FLOOR). ``chars``: every frame's candidates aligned character by character to the best
    whole read and fused place by place (:mod:`model.consensus`), so the fused read may combine characters that
    no single frame read together. ``both``: reads from either, scored by the geometric mean of the two."""
    seen = {k for s in t.sightings for k, _ in s.candidates}
    if not seen:
        return FusedRead(t.kind, (), (), tuple(t.sightings))
    seen_logp = _read_logp(t, seen)
    ranked = _normalised(seen_logp)
    if method == "reads":
        return FusedRead(t.kind, ranked[0][0], tuple(ranked[:top]), tuple(t.sightings))
    cyclic = t.kind == "headstamp"
    pivot = SEGMENT_BREAK.join(ranked[0][0])
    frames = [[(_as_text(k, pivot, cyclic), p) for k, p in s.candidates] for s in t.sightings]
    lattice = Lattice.fuse(pivot, frames, floor=FLOOR)
    found: dict[tuple[str, ...], tuple[float, tuple[tuple[float, ...], ...]]] = {}
    for c in lattice.best(top=2 * top):
        key, probs = _as_read(c.text, c.char_probs, cyclic)
        if key:
            found.setdefault(key, (c.score, probs))
    if method == "both":
        by_reads = {**seen_logp, **_read_logp(t, set(found) - seen)}
        logp = {k: 0.5 * lp + 0.5 * math.log(max(1e-12, lattice.score(_as_text(k, pivot, cyclic))))
                for k, lp in by_reads.items()}
        cands = _normalised(logp)[:top]
    else:
        z = sum(score for score, _ in found.values()) or 1.0
        cands = sorted(((k, score / z) for k, (score, _) in found.items()), key=lambda kv: -kv[1])[:top]
    best = cands[0][0]
    probs = found[best][1] if best in found else ()
    return FusedRead(t.kind, best, tuple(cands), tuple(t.sightings), probs)
