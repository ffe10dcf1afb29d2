"""CTC prefix beam search into n-best hypotheses with per-character probabilities, and segment splitting.

Prefix beam search after Hannun et al., "First-Pass Large Vocabulary Continuous Speech Recognition using
Bi-Directional Recurrent DNNs" (2014). A character's probability is the highest posterior it had at any frame
where the best alignment of its prefix emitted it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from model.charset import BLANK, SEP_INDEX, class_glyph
from model.structures import Hypothesis


@dataclass
class _Beam:
    p_blank: float  # probability of the prefix ending in blank
    p_char: float  # probability of the prefix ending in its last class
    char_probs: tuple[float, ...]
    char_frames: tuple[int, ...]  # frame where each character peaked

    @property
    def total(self) -> float:
        return self.p_blank + self.p_char


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (T, C) logits."""
    z = logits - logits.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


Beam = tuple[tuple[int, ...], float, tuple[float, ...], tuple[int, ...]]
K = TypeVar("K", bound=Hashable)


def shares(scored: Iterable[tuple[K, float]], n: int) -> list[tuple[K, float]]:
    """Reads with log scores (one read may come several times) -> the ``n`` likeliest distinct reads with their
    share of the whole probability mass, best first."""
    scored = list(scored)
    top = max(score for _, score in scored)
    mass: dict[K, float] = {}
    for key, score in scored:
        mass[key] = mass.get(key, 0.0) + math.exp(score - top)
    total = sum(mass.values())
    return [(key, m / total) for key, m in sorted(mass.items(), key=lambda kv: -kv[1])[:n]]


def beam_search(probs: np.ndarray, *, beam: int = 8, prune: float = 1e-3) -> list[Beam]:
    """(T, C) posteriors -> up to ``beam`` (classes, probability, per-class probability, per-class frame),
    best first."""
    beams: dict[tuple[int, ...], _Beam] = {(): _Beam(1.0, 0.0, (), ())}
    for t in range(probs.shape[0]):
        row = probs[t]
        active = np.flatnonzero(row > prune)
        if len(active) == 1 and active[0] == BLANK:  # only blank: every prefix now ends in blank, ranks kept
            for b in beams.values():  # (totals already sum to 1, so renormalising leaves them as they are)
                b.p_blank, b.p_char = b.total, 0.0
            continue
        classes = [(int(c), float(row[c])) for c in active]
        nxt: dict[tuple[int, ...], _Beam] = {}
        for prefix, b in beams.items():
            for c, p in classes:
                if c == BLANK:
                    _add(nxt, prefix, b.char_probs, b.char_frames, blank=b.total * p)
                    continue
                last = prefix[-1] if prefix else None
                grown = (prefix + (c,), b.char_probs + (p,), b.char_frames + (t,))
                if c == last:  # a repeat continues the same character; a new one needs a blank between
                    probs_same = b.char_probs[:-1] + (max(b.char_probs[-1], p),)
                    frames_same = b.char_frames[:-1] + ((t,) if p > b.char_probs[-1] else b.char_frames[-1:])
                    _add(nxt, prefix, probs_same, frames_same, char=b.p_char * p)
                    _add(nxt, *grown, char=b.p_blank * p)
                else:
                    _add(nxt, *grown, char=b.total * p)
        ranked = sorted(nxt.items(), key=lambda kv: kv[1].total, reverse=True)[:beam]
        norm = sum(b.total for _, b in ranked) or 1.0
        for _, b in ranked:
            b.p_blank /= norm
            b.p_char /= norm
        beams = dict(ranked)
    out = sorted(beams.items(), key=lambda kv: kv[1].total, reverse=True)
    return [(k, b.total, b.char_probs, b.char_frames) for k, b in out]


def _add(beams: dict, prefix: tuple[int, ...], char_probs: tuple[float, ...], char_frames: tuple[int, ...], *,
         blank: float = 0.0, char: float = 0.0) -> None:
    b = beams.get(prefix)
    if b is None:
        beams[prefix] = _Beam(blank, char, char_probs, char_frames)
        return
    b.p_blank += blank
    b.p_char += char
    if len(char_probs) == len(b.char_probs):
        b.char_probs = tuple(max(x, y) for x, y in zip(b.char_probs, char_probs))


def segment_centre(frames: list[int], n_frames: int) -> float:
    """A segment's centre as a fraction of the strip from its characters' frames. The seam is cut in a gap
    between segments, so no glyph lies at the strip's ends: a character on the first or last frame was emitted
    there by the recurrent layer holding it back, and the centre comes from the segment's other characters."""
    inner = [f for f in frames if 0 < f < n_frames - 1] or frames
    return (sum(inner) / len(inner) + 0.5) / n_frames if inner else 0.0


def to_hypothesis(classes: tuple[int, ...], prob: float, char_probs: tuple[float, ...],
                  char_frames: tuple[int, ...] = (), n_frames: int = 0) -> Hypothesis:
    """Split a class sequence at separators into segments in strip order.

    A segment whose glyphs are mostly turned was stamped tops-inward: its glyphs are reversed back into reading
    order. Empty segments are dropped. With the characters' frames and the frame count, each segment also gets
    its centre as a fraction of the strip's length.
    """
    segments: list[str] = []
    seg_probs: list[tuple[float, ...]] = []
    turned: list[bool] = []
    positions: list[float] = []
    cur: list[tuple[str, bool, float, int]] = []

    def flush() -> None:
        if not cur:
            return
        is_turned = sum(t for _, t, _, _ in cur) * 2 > len(cur)
        ordered = list(reversed(cur)) if is_turned else cur
        segments.append("".join(g for g, _, _, _ in ordered))
        seg_probs.append(tuple(p for _, _, p, _ in ordered))
        turned.append(is_turned)
        if n_frames:
            positions.append(segment_centre([f for _, _, _, f in cur], n_frames))
        cur.clear()

    frames = char_frames or (0,) * len(classes)
    for c, p, f in zip(classes, char_probs, frames):
        if c == SEP_INDEX:
            flush()
            continue
        glyph, is_turned = class_glyph(c)
        cur.append((glyph, is_turned, p, f))
    flush()
    return Hypothesis(tuple(segments), tuple(seg_probs), tuple(turned), math.log(max(prob, 1e-30)),
                      tuple(positions))
