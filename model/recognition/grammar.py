"""What a headstamp may say, as a prior over reads: its segments are maker codes (seeds/headstamp_codes.csv),
calibres as stamped (seeds/calibres.csv), two-digit years, Iranian Solar Hijri years, and separator symbols;
a headstamp has 2 to 4 such codes. Reads are rescored as CTC likelihood (the recognizer's own evidence for the
exact class sequence) plus this prior, and a read whose segment fits none of these is also tried with the
known codes a few edits away. Unknown codes stay possible, only less likely: the seeds do not list every maker.
A calibre's point is a dot a fraction of a glyph wide, the first thing wear, blur or a coarse strip loses: a read
of a calibre without its points (``762``, scored as an unknown code) is reported as the calibre (``7.62``), so that
its probability mass joins the calibre's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein

from model.charset import SYMBOL_SEGMENTS, encode_strip, normalise_glyphs
from model.recognition.ctc import segment_centre
from model.recognition.forced import blank_runs_collapsed, ctc_align, ctc_log_likelihood
from model.reference import seed_rows
from model.structures import Hypothesis


@dataclass(frozen=True)
class HeadstampLexicon:
    """Known segment texts (normalised glyphs) and the prior's costs, in nats."""

    codes: frozenset[str]  # maker codes and calibres
    unknown_cost: float = 2.0  # per segment that is no known code, year or symbol
    count_cost: float = 2.0  # when the codes (symbols aside) are fewer than 2 or more than 4

    @classmethod
    def from_seeds(cls, **costs: float) -> HeadstampLexicon:
        codes = {r["code"] for r in seed_rows("headstamp_codes.csv")}
        codes |= {r["stamped"] for r in seed_rows("calibres.csv") if " " not in r["stamped"]}
        return cls(frozenset(normalise_glyphs(c) for c in codes), **costs)

    @functools.cached_property
    def vocabulary(self) -> tuple[str, ...]:
        """Every known segment text but symbols: codes, two-digit years, Solar Hijri years 1300-1409."""
        years = [f"{y:02d}" for y in range(100)] + [str(y) for y in range(1300, 1410)]
        return tuple(sorted(self.codes | set(years)))

    @functools.cached_property
    def undotted(self) -> dict[str, str]:
        """Known codes with points (calibres such as ``7.62``) by their text without them, where that text is
        no known code itself."""
        return {c.replace(".", ""): c for c in self.codes if "." in c and c.replace(".", "") not in self.codes}

    def known(self, segment: str) -> bool:
        return _known(self.codes, segment)

    def log_prior(self, segments: Iterable[str]) -> float:
        segs = list(segments)
        codes = sum(s not in SYMBOL_SEGMENTS for s in segs)
        cost = self.unknown_cost * sum(not self.known(s) for s in segs)
        return -(cost + (self.count_cost if not 2 <= codes <= 4 else 0.0))

    def neighbours(self, segment: str) -> tuple[str, ...]:
        """Known texts one edit away (two for segments of three or more glyphs) that keep one of its glyphs: a lone
        glyph is one edit from every one-glyph code, so '1' may be a year short of a digit but not maker '3'."""
        return _neighbours(self.vocabulary, normalise_glyphs(segment))


@functools.lru_cache(maxsize=4096)
def _known(codes: frozenset[str], segment: str) -> bool:
    s = normalise_glyphs(segment)
    return (s in SYMBOL_SEGMENTS or s in codes or (len(s) == 2 and s.isdigit())
            or (len(s) == 4 and s.isdigit() and s[:2] in ("13", "14")))


@functools.lru_cache(maxsize=4096)
def _neighbours(vocabulary: tuple[str, ...], s: str) -> tuple[str, ...]:
    limit = 2 if len(s) >= 3 else 1
    return tuple(v for v in vocabulary if v != s and Levenshtein.distance(v, s, score_cutoff=limit) <= limit
                 and set(v) & set(s))


def _classes(h: Hypothesis) -> tuple[int, ...]:
    return _strip_classes(h.segments, h.turned)


@functools.lru_cache(maxsize=8192)
def _strip_classes(segments: tuple[str, ...], turned: tuple[bool, ...]) -> tuple[int, ...]:
    return tuple(encode_strip(list(zip(segments, turned))))


def rescore(probs: np.ndarray, hyps: list[Hypothesis], lexicon: HeadstampLexicon, *,
            expand: int = 3) -> list[Hypothesis]:
    """Hypotheses of one strip (strip order, as decoded from ``probs``) rescored as CTC log-likelihood plus the
    lexicon's log prior, best first, calibres read without their points given them (a read may then come
    twice). The top ``expand`` hypotheses' unknown segments are also tried as each
    neighbouring known text (same orientation), then the best two per segment together. A hypothesis made here
    has no per-character probabilities or positions until :func:`aligned` gives it them."""
    probs = blank_runs_collapsed(probs)
    pool: dict[tuple[tuple[str, ...], tuple[bool, ...]], Hypothesis] = {}
    for h in hyps:
        pool.setdefault(_key(h), h)
    _score(probs, pool, lexicon)
    top = sorted(pool.values(), key=lambda h: -h.score)[:expand]
    subs = [{i: [_with(h, i, v) for v in lexicon.neighbours(s)]
             for i, s in enumerate(h.segments) if not lexicon.known(s)} for h in top]
    _extend(probs, pool, lexicon, [x for per in subs for xs in per.values() for x in xs])
    combos = []
    for h, per in zip(top, subs):
        if len(per) < 2:
            continue
        mixed = [h]
        for i, xs in per.items():
            best = sorted((pool[_key(x)] for x in xs), key=lambda x: -x.score)[:2]
            mixed += [_with(m, i, b.segments[i]) for m in mixed for b in best]
        combos += mixed
    _extend(probs, pool, lexicon, combos)
    return sorted((_dotted(h, lexicon) for h in pool.values()), key=lambda h: -h.score)


def _dotted(h: Hypothesis, lexicon: HeadstampLexicon) -> Hypothesis:
    """A hypothesis with its calibres read without their points given them (score unchanged; per-character
    probabilities dropped, for :func:`aligned` to give the dotted read its own)."""
    segs = tuple(lexicon.undotted.get(normalise_glyphs(s), s) for s in h.segments)
    return h if segs == h.segments else Hypothesis(segs, (), h.turned, h.score)


def _key(h: Hypothesis) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    return h.segments, h.turned


def _extend(probs: np.ndarray, pool: dict, lexicon: HeadstampLexicon, hyps: list[Hypothesis]) -> None:
    """Score the hypotheses not yet in the pool, in one batch, and add them."""
    fresh = {_key(x): x for x in hyps if _key(x) not in pool}
    _score(probs, fresh, lexicon)
    pool.update(fresh)


def _with(h: Hypothesis, i: int, text: str) -> Hypothesis:
    segs = h.segments[:i] + (text,) + h.segments[i + 1:]
    return Hypothesis(segs, (), h.turned, -np.inf)


def _score(probs: np.ndarray, pool: dict, lexicon: HeadstampLexicon) -> None:
    keys = list(pool)
    lls = ctc_log_likelihood(probs, [_classes(pool[k]) for k in keys])
    for k, ll in zip(keys, lls):
        h = pool[k]
        pool[k] = Hypothesis(h.segments, h.char_probs, h.turned, float(ll) + lexicon.log_prior(h.segments),
                             h.positions)


def aligned(probs: np.ndarray, h: Hypothesis) -> Hypothesis:
    """A hypothesis (strip order) with per-character probabilities and segment centres from its best
    alignment to ``probs`` (centres by :func:`segment_centre`)."""
    char_probs, frames = ctc_align(probs, _classes(h))
    n = probs.shape[0]
    seg_probs, positions, k = [], [], 0
    for text, turned in zip(h.segments, h.turned):
        m = len(text)
        ps, fs = char_probs[k:k + m], frames[k:k + m]
        seg_probs.append(tuple(reversed(ps)) if turned else tuple(ps))
        positions.append(segment_centre(fs, n))
        k += m + 1  # and the separator
    return Hypothesis(h.segments, tuple(seg_probs), h.turned, h.score, tuple(positions))
