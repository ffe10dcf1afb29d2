"""Tracking markings across video frames and fusing their per-frame candidate reads into one read.

Each frame's reads are attached to the track whose last sighting is nearest (within ``gate`` of the marking's
size); a track's candidates are fused over its frames as a product of (probability + FLOOR): with the floor at
0.2 this sits between a product (agreement multiplies) and a sum of votes (one confident misread cannot veto a
read that most frames offer). The floor was chosen on rendered clips (bench/video.py, seed 7) and checked on
another seed. Headstamp candidates are compared as cyclic sequences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from model.charset import normalise_glyphs

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


SEPARATORS = frozenset("*+.★")  # star and dot separators: often confused with each other, carry no code


def cyclic_key(segments: Sequence[str]) -> tuple[str, ...]:
    """Segments normalised, separator-only segments dropped, rotated to their smallest rotation, so reads from
    different seams (and with a star read as a cross) agree. The NATO ⊕ is kept: it is a code."""
    segs = [normalise_glyphs(s) for s in segments if s and not set(s) <= SEPARATORS]
    if not segs:
        return ()
    return min(tuple(segs[i:] + segs[:i]) for i in range(len(segs)))


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
    for t in sorted(tracks, key=lambda x: x.sightings[0].time_s):
        first = t.sightings[0]
        for prev in out:
            last = prev.last
            if prev.kind != t.kind or last.time_s >= first.time_s:
                continue
            d = math.dist(last.center, first.center) / max(1.0, min(last.size_px, first.size_px))
            wide = 3 * gate * max(1.0, (first.time_s - last.time_s) / 0.5)
            if d < wide and fuse(prev).best == fuse(t).best:
                prev.sightings.extend(t.sightings)
                break
        else:
            out.append(t)
    return out


def fuse(t: Track, *, top: int = 5) -> FusedRead:
    """Fusion of a track's candidates: each candidate scores the product over frames of (probability + FLOOR)."""
    keys = {k for s in t.sightings for k, _ in s.candidates}
    logp = {k: 0.0 for k in keys}
    for s in t.sightings:
        probs = dict(s.candidates)
        total = sum(probs.values()) or 1.0
        for k in keys:
            logp[k] += math.log(probs.get(k, 0.0) / total + FLOOR)
    if not logp:
        return FusedRead(t.kind, (), (), tuple(t.sightings))
    top_lp = max(logp.values())
    norm = sum(math.exp(v - top_lp) for v in logp.values())
    ranked = sorted(((k, math.exp(v - top_lp) / norm) for k, v in logp.items()), key=lambda kv: -kv[1])
    return FusedRead(t.kind, ranked[0][0], tuple(ranked[:top]), tuple(t.sightings))
