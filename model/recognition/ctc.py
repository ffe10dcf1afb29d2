"""CTC prefix beam search into n-best hypotheses with per-character probabilities, and segment splitting.

Prefix beam search after Hannun et al., "First-Pass Large Vocabulary Continuous Speech Recognition using
Bi-Directional Recurrent DNNs" (2014). A character's probability is the highest posterior it had at any frame
where the best alignment of its prefix emitted it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

import numpy as np

from model.charset import BLANK, SEP_INDEX, class_glyph
from model.structures import Hypothesis


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (T, C) logits."""
    z = logits - logits.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


Beam = tuple[tuple[int, ...], float, tuple[float, ...], tuple[int, ...]]
K = TypeVar("K", bound=Hashable)


def shares(scored: Iterable[tuple[K, float]], n: int,
           same: Callable[[K], Hashable] | None = None) -> list[tuple[K, float]]:
    """Reads with log scores (one read may come several times) -> the ``n`` likeliest distinct reads with their
    share of the whole probability mass, best first. With ``same``, reads of one ``same(read)`` are one read:
    their mass is summed and the likeliest of them stands for it."""
    scored = list(scored)
    top = max(score for _, score in scored)
    mass: dict[K, float] = {}
    for key, score in scored:
        mass[key] = mass.get(key, 0.0) + math.exp(score - top)
    total = sum(mass.values())
    if same is not None:
        pooled: dict[Hashable, tuple[K, float]] = {}
        for key, m in sorted(mass.items(), key=lambda kv: -kv[1]):
            group = same(key)
            first, acc = pooled.get(group, (key, 0.0))
            pooled[group] = (first, acc + m)
        mass = dict(pooled.values())
    return [(key, m / total) for key, m in sorted(mass.items(), key=lambda kv: -kv[1])[:n]]


def beam_search(probs: np.ndarray, *, beam: int = 8, prune: float = 1e-3) -> list[Beam]:
    """(T, C) posteriors -> up to ``beam`` (classes, probability, per-class probability, per-class frame),
    best first; prefixes of probability zero (a repeat with no blank between) are dropped. Classes under
    ``prune`` at a frame are not expanded, and a run of frames where only blank passes is taken in one step."""
    # a beam: [p ending in blank, p ending in its last class, per-class probabilities, per-class frames]
    beams: dict[tuple[int, ...], list] = {(): [1.0, 0.0, (), ()]}
    active = probs > prune
    only_blank = (active.sum(1) == 1) & active[:, BLANK]
    settled = False  # every prefix already ends in blank after an only-blank frame
    for t in range(probs.shape[0]):
        if only_blank[t]:  # every prefix now ends in blank, ranks kept (totals already sum to 1)
            if not settled:
                for b in beams.values():
                    b[0], b[1] = b[0] + b[1], 0.0
                settled = True
            continue
        settled = False
        row = probs[t]
        classes = [(int(c), float(row[c])) for c in np.flatnonzero(active[t])]
        nxt: dict[tuple[int, ...], list] = {}
        for prefix, (pb, pc, cp, cf) in beams.items():
            total = pb + pc
            last = prefix[-1] if prefix else -1
            for c, p in classes:
                if c == BLANK:
                    _add(nxt, prefix, cp, cf, total * p, 0.0)
                elif c == last:  # a repeat continues the same character; a new one needs a blank between
                    if p > cp[-1]:
                        _add(nxt, prefix, cp[:-1] + (p,), cf[:-1] + (t,), 0.0, pc * p)
                    else:
                        _add(nxt, prefix, cp, cf, 0.0, pc * p)
                    if pb > 0.0:
                        _add(nxt, prefix + (c,), cp + (p,), cf + (t,), 0.0, pb * p)
                else:
                    _add(nxt, prefix + (c,), cp + (p,), cf + (t,), 0.0, total * p)
        ranked = [kv for kv in sorted(nxt.items(), key=lambda kv: kv[1][0] + kv[1][1], reverse=True)[:beam]
                  if kv[1][0] + kv[1][1] > 0.0] or list(nxt.items())[:1]
        norm = sum(b[0] + b[1] for _, b in ranked) or 1.0
        for _, b in ranked:
            b[0] /= norm
            b[1] /= norm
        beams = dict(ranked)
    out = sorted(beams.items(), key=lambda kv: kv[1][0] + kv[1][1], reverse=True)
    return [(k, b[0] + b[1], b[2], b[3]) for k, b in out]


def _add(beams: dict, prefix: tuple[int, ...], char_probs: tuple[float, ...], char_frames: tuple[int, ...],
         blank: float, char: float) -> None:
    b = beams.get(prefix)
    if b is None:
        beams[prefix] = [blank, char, char_probs, char_frames]
        return
    b[0] += blank
    b[1] += char
    if len(char_probs) == len(b[2]):
        b[2] = tuple(max(x, y) for x, y in zip(b[2], char_probs))


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
