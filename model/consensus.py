"""Character-level consensus over several frames' n-best reads (in the manner of ROVER voting).

Every frame's candidates are aligned, character by character, to a pivot read. A frame's n-best then gives,
for each pivot position, a distribution over what stands there (a character, or nothing), and for each gap
between positions a distribution over what is inserted there: the candidates' probabilities summed over the
characters they put there. Frames are fused position by position as a product of (probability + floor), the
same rule as whole-read fusion, so a character readable in some frames and a different character readable in
others can both be right in the fused read even when no single frame read the whole marking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

Dist = dict[str, float]  # what stands at one place ("" = nothing) -> probability


@dataclass(frozen=True)
class Alignment:
    """A read aligned to a pivot: what stands at each pivot position, and what is inserted in each of the
    ``len(pivot) + 1`` gaps (before position 0, between positions, after the last)."""

    at: tuple[str, ...]
    inserted: tuple[str, ...]


def align(pivot: str, read: str) -> Alignment:
    """Minimum-edit alignment of ``read`` to ``pivot`` (unit costs; ties prefer substitution)."""
    n, m = len(pivot), len(read)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j - 1] + (pivot[i - 1] != read[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
    at, inserted = [""] * n, [""] * (n + 1)
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i][j] == d[i - 1][j - 1] + (pivot[i - 1] != read[j - 1]):
            at[i - 1] = read[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and d[i][j] == d[i - 1][j] + 1:
            i -= 1  # pivot character deleted in the read
        else:
            inserted[i] = read[j - 1] + inserted[i]
            j -= 1
    return Alignment(tuple(at), tuple(inserted))


def marginals(pivot: str, candidates: Sequence[tuple[str, float]]) -> tuple[list[Dist], list[Dist]]:
    """One frame's n-best as per-position and per-gap distributions over the pivot (probabilities
    renormalised over the frame's candidates)."""
    total = sum(p for _, p in candidates) or 1.0
    at: list[Dist] = [defaultdict(float) for _ in pivot]
    gaps: list[Dist] = [defaultdict(float) for _ in range(len(pivot) + 1)]
    for text, p in candidates:
        a = align(pivot, text)
        for k, c in enumerate(a.at):
            at[k][c] += p / total
        for k, s in enumerate(a.inserted):
            gaps[k][s] += p / total
    return [dict(x) for x in at], [dict(x) for x in gaps]


def fuse_dists(dists: Sequence[Dist], floor: float) -> Dist:
    """Product over frames of (probability + floor), normalised over every outcome any frame offered."""
    keys = {k for d in dists for k in d}
    score = {k: 1.0 for k in keys}
    for d in dists:
        for k in keys:
            score[k] *= d.get(k, 0.0) + floor
    z = sum(score.values()) or 1.0
    return {k: v / z for k, v in score.items()}


@dataclass(frozen=True)
class Consensus:
    text: str
    score: float  # product of the chosen outcomes' fused probabilities
    char_probs: tuple[float, ...]  # fused probability of each character of ``text``


@dataclass(frozen=True)
class Lattice:
    """Fused outcomes along a pivot read: gap 0, position 0, gap 1, ..., position n-1, gap n."""

    pivot: str
    places: tuple[Dist, ...]

    @classmethod
    def fuse(cls, pivot: str, frames: Sequence[Sequence[tuple[str, float]]], *, floor: float) -> Lattice:
        per_frame = [marginals(pivot, c) for c in frames if c]
        places: list[Dist] = []
        for k in range(len(pivot) + 1):
            places.append(fuse_dists([g[k] for _, g in per_frame], floor) if per_frame else {"": 1.0})
            if k < len(pivot):
                places.append(fuse_dists([a[k] for a, _ in per_frame], floor) if per_frame else {pivot[k]: 1.0})
        return cls(pivot, tuple(places))

    def score(self, text: str, *, unseen: float = 1e-3) -> float:
        """Probability of ``text`` under the lattice (its alignment to the pivot; outcomes no frame offered
        count ``unseen``)."""
        a = align(self.pivot, text)
        outcomes = [x for k in range(len(self.pivot)) for x in (a.inserted[k], a.at[k])] + [a.inserted[-1]]
        out = 1.0
        for dist, x in zip(self.places, outcomes):
            out *= dist.get(x, unseen)
        return out

    def best(self, *, top: int = 5, beam: int = 16, min_prob: float = 0.02) -> list[Consensus]:
        """The ``top`` best reads: a beam over the places, each choosing one of its fused outcomes."""
        hyps: list[tuple[float, str, tuple[float, ...]]] = [(1.0, "", ())]
        for dist in self.places:
            options = [(x, p) for x, p in dist.items() if p >= min_prob] or [max(dist.items(), key=lambda kv: kv[1])]
            grown = [(score * p, text + x, probs + (p,) * len(x)) for score, text, probs in hyps for x, p in options]
            hyps = sorted(grown, key=lambda h: -h[0])[:beam]
        found: dict[str, Consensus] = {}
        for score, text, probs in hyps:
            found.setdefault(text, Consensus(text, score, probs))
        return sorted(found.values(), key=lambda c: -c.score)[:top]
