"""CTC prefix beam search into n-best hypotheses with per-character probabilities, and segment splitting.

Prefix beam search after Hannun et al., "First-Pass Large Vocabulary Continuous Speech Recognition using
Bi-Directional Recurrent DNNs" (2014). A character's probability is the highest posterior it had at any frame
where the best alignment of its prefix emitted it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from model.charset import BLANK, SEP_INDEX, class_glyph
from model.structures import Hypothesis


@dataclass
class _Beam:
    p_blank: float  # probability of the prefix ending in blank
    p_char: float  # probability of the prefix ending in its last class
    char_probs: tuple[float, ...]

    @property
    def total(self) -> float:
        return self.p_blank + self.p_char


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (T, C) logits."""
    z = logits - logits.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


Beam = tuple[tuple[int, ...], float, tuple[float, ...]]


def beam_search(probs: np.ndarray, *, beam: int = 8, prune: float = 1e-3) -> list[Beam]:
    """(T, C) posteriors -> up to ``beam`` (classes, probability, per-class probability), best first."""
    beams: dict[tuple[int, ...], _Beam] = {(): _Beam(1.0, 0.0, ())}
    for t in range(probs.shape[0]):
        row = probs[t]
        active = np.flatnonzero(row > prune)
        nxt: dict[tuple[int, ...], _Beam] = {}
        for prefix, b in beams.items():
            for c in active:
                p = float(row[c])
                if c == BLANK:
                    _add(nxt, prefix, b.char_probs, blank=b.total * p)
                    continue
                last = prefix[-1] if prefix else None
                if c == last:  # a repeat continues the same character; a new one needs a blank between
                    probs_same = b.char_probs[:-1] + (max(b.char_probs[-1], p),)
                    _add(nxt, prefix, probs_same, char=b.p_char * p)
                    _add(nxt, prefix + (int(c),), b.char_probs + (p,), char=b.p_blank * p)
                else:
                    _add(nxt, prefix + (int(c),), b.char_probs + (p,), char=b.total * p)
        ranked = sorted(nxt.items(), key=lambda kv: kv[1].total, reverse=True)[:beam]
        norm = sum(b.total for _, b in ranked) or 1.0
        beams = {k: _Beam(b.p_blank / norm, b.p_char / norm, b.char_probs) for k, b in ranked}
    out = sorted(beams.items(), key=lambda kv: kv[1].total, reverse=True)
    return [(k, b.total, b.char_probs) for k, b in out]


def _add(beams: dict, prefix: tuple[int, ...], char_probs: tuple[float, ...], *, blank: float = 0.0,
         char: float = 0.0) -> None:
    b = beams.get(prefix)
    if b is None:
        beams[prefix] = _Beam(blank, char, char_probs)
        return
    b.p_blank += blank
    b.p_char += char
    if len(char_probs) == len(b.char_probs):
        b.char_probs = tuple(max(x, y) for x, y in zip(b.char_probs, char_probs))


def to_hypothesis(classes: tuple[int, ...], prob: float, char_probs: tuple[float, ...]) -> Hypothesis:
    """Split a class sequence at separators into segments in strip order.

    A segment whose glyphs are mostly turned was stamped tops-inward: its glyphs are reversed back into reading
    order. Empty segments are dropped.
    """
    segments: list[str] = []
    seg_probs: list[tuple[float, ...]] = []
    turned: list[bool] = []
    cur: list[tuple[str, bool, float]] = []

    def flush() -> None:
        if not cur:
            return
        is_turned = sum(t for _, t, _ in cur) * 2 > len(cur)
        ordered = list(reversed(cur)) if is_turned else cur
        segments.append("".join(g for g, _, _ in ordered))
        seg_probs.append(tuple(p for _, _, p in ordered))
        turned.append(is_turned)
        cur.clear()

    for c, p in zip(classes, char_probs):
        if c == SEP_INDEX:
            flush()
            continue
        glyph, is_turned = class_glyph(c)
        cur.append((glyph, is_turned, p))
    flush()
    return Hypothesis(tuple(segments), tuple(seg_probs), tuple(turned), math.log(max(prob, 1e-30)))
