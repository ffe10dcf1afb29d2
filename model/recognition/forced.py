"""CTC scoring of given class sequences: the likelihood of each under a strip's posteriors, and the best
alignment of one. Pure numpy; the forward pass runs in scaled probability space (Graves et al., "Connectionist
Temporal Classification", 2006, section 4.1), batched over sequences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.charset import BLANK

_RESCALE_EVERY = 4  # frames between rescalings of the forward variables


def _extended(labels: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blank-interleaved label arrays (N, S) padded with blanks, their lengths, and where a skip over a blank
    is allowed (a state's label differs from the one two before)."""
    s_max = 2 * max((len(lab) for lab in labels), default=0) + 1
    ext = np.full((len(labels), s_max), BLANK, np.int64)
    for n, lab in enumerate(labels):
        ext[n, 1:2 * len(lab):2] = lab
    skip = np.zeros_like(ext, dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != BLANK) & (ext[:, 2:] != ext[:, :-2])
    return ext, np.array([2 * len(lab) + 1 for lab in labels]), skip


def blank_runs_collapsed(probs: np.ndarray, *, sure: float = 0.999) -> np.ndarray:
    """The frames that matter for scoring: of each run of frames where blank is at least ``sure``, only the
    first is kept (after it every path sits on a blank state, so the rest change the scores by under
    ``1 - sure`` each, alike for every sequence)."""
    blank = probs[:, BLANK] >= sure
    keep = ~blank
    keep[0] = True
    keep[1:] |= blank[1:] & ~blank[:-1]
    return probs[keep]


def ctc_log_likelihood(probs: np.ndarray, labels: Sequence[Sequence[int]]) -> np.ndarray:
    """log P(labels | posteriors) for each class sequence, given (T, C) per-frame posteriors; -inf where a
    sequence cannot be emitted in T frames."""
    if not labels:
        return np.zeros(0)
    ext, lengths, skip = _extended(labels)
    n, s = ext.shape
    p = probs[:, ext]  # (T, N, S)
    jump = skip.astype(np.float64)
    alpha = np.zeros((n, s + 2))  # two leading zero states: a state's two predecessors are always there
    alpha[:, 2] = p[0, :, 0]
    if s > 1:
        alpha[:, 3] = p[0, :, 1]
    log_scale = np.zeros(n)
    for t in range(1, p.shape[0]):
        nxt = alpha[:, 2:] + alpha[:, 1:-1]
        nxt += alpha[:, :-2] * jump
        nxt *= p[t]
        alpha[:, 2:] = nxt
        if t % _RESCALE_EVERY == 0:  # posteriors are >= ~1e-45 (float32), so a few frames cannot underflow
            _rescale(alpha, log_scale)
    _rescale(alpha, log_scale)
    rows = np.arange(n)
    end = alpha[rows, lengths + 1] + np.where(lengths > 1, alpha[rows, lengths], 0.0)
    with np.errstate(divide="ignore"):
        return np.log(end) + log_scale


def _rescale(alpha: np.ndarray, log_scale: np.ndarray) -> None:
    """Divide each row by its sum (rows that are all zero stay), adding the log of the sums to ``log_scale``."""
    c = alpha.sum(1)
    c[c <= 0] = 1.0
    alpha /= c[:, None]
    log_scale += np.log(c)


def ctc_align(probs: np.ndarray, labels: Sequence[int]) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """The most probable alignment of one class sequence: for each class, its highest posterior over the frames
    aligned to it and the frame where that was. Empty tuples when the sequence cannot be emitted."""
    if not labels:
        return (), ()
    ext, _, skip = _extended([labels])
    ext, skip = ext[0], skip[0]
    t_len, s = probs.shape[0], len(ext)
    logp = np.log(np.maximum(probs[:, ext], 1e-30))
    delta = np.full(s + 2, -np.inf)  # two leading impossible states: a state's two predecessors are always there
    delta[2] = logp[0, 0]
    if s > 1:
        delta[3] = logp[0, 1]
    jump_cost = np.where(skip, 0.0, -np.inf)
    back = np.zeros((t_len, s), np.int64)
    idx = np.arange(s)
    for t in range(1, t_len):
        moves = np.stack((delta[2:], delta[1:-1], delta[:-2] + jump_cost))  # stay, step, jump
        choice = moves.argmax(0)
        back[t] = idx - choice
        delta[2:] = moves[choice, idx] + logp[t]
    delta = delta[2:]
    state = s - 1 if s == 1 or delta[s - 1] >= delta[s - 2] else s - 2
    if not np.isfinite(delta[state]):
        return (), ()
    best = np.zeros(s)
    frame = np.zeros(s, np.int64)
    for t in range(t_len - 1, -1, -1):
        q = probs[t, ext[state]]
        if q >= best[state]:
            best[state], frame[state] = q, t
        state = back[t, state]
    odd = slice(1, s, 2)
    return tuple(float(x) for x in best[odd]), tuple(int(f) for f in frame[odd])
