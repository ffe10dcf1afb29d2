"""Confusion-aware alignment of a read (characters with probabilities) against a registered text.

A noisy-channel view: how likely is the read, had the marking said ``truth``? Each read character was right
with its probability ``q``; when wrong, it lands on a look-alike more often than on anything else (the shares
come from the confusion kinds). Damage also drops characters and adds spurious ones. The best alignment
(Viterbi over the edit lattice) gives the log-likelihood and an explanation per character.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.matching.confusion import UNKNOWN, ConfusionTable, default_table, normalise_marking

P_DROPPED = 0.01  # a character of the marking missing from the read
P_INSERTED = 0.05  # share of a wrong read character that is spurious rather than substituted
DEFAULT_Q = 0.9  # per-character confidence when the read carries none
_Q_RANGE = (0.01, 0.999)


@dataclass(frozen=True)
class CharRead:
    """One read character and the reader's probability for it (``?`` for an unknown)."""

    char: str
    prob: float = DEFAULT_Q


@dataclass(frozen=True)
class Step:
    """One step of an alignment: what the read had, what the registered text has, and how they relate."""

    op: str  # match | confusion | substitution | unknown | inserted | dropped
    read: str
    truth: str
    prob: float
    kind: str = ""  # confusion kind (look-alike, script, damage, turned) where there is one


@dataclass(frozen=True)
class Alignment:
    logp: float
    steps: tuple[Step, ...]

    def explain(self) -> str:
        """Human summary: how many characters matched, and each departure."""
        notes = [_describe(s) for s in self.steps if s.op != "match"]
        n = sum(s.op == "match" for s in self.steps)
        total = sum(s.op != "inserted" for s in self.steps)
        head = f"{n}/{total} characters matched"
        return head + ("; " + "; ".join(notes) if notes else "")


def _describe(s: Step) -> str:
    if s.op == "unknown":
        return f"unknown read as '{s.truth}'"
    if s.op == "dropped":
        return f"'{s.truth}' missing from the read"
    if s.op == "inserted":
        return f"extra '{s.read}' in the read (p={s.prob:.2f})"
    why = s.kind or "unrelated"
    return f"'{s.read}' read for '{s.truth}' ({why}, p={s.prob:.2f})"


def chars_of(text: str, probs: tuple[float, ...] | None = None) -> tuple[CharRead, ...]:
    """Letters, digits and unknowns of ``text`` with their probabilities (separators dropped)."""
    t, _ = normalise_marking(text)
    keep = [i for i, c in enumerate(t) if c.isalnum() or c == UNKNOWN]
    if probs is not None and len(probs) == len(t):
        return tuple(CharRead(t[i], probs[i]) for i in keep)
    return tuple(CharRead(t[i]) for i in keep)


def _q(r: CharRead) -> float:
    return min(max(r.prob, _Q_RANGE[0]), _Q_RANGE[1])


def _sub(r: CharRead, t: str, table: ConfusionTable) -> tuple[float, str, str]:
    """Log-probability, op and confusion kind of reading ``r`` where the marking has ``t``."""
    if r.char == UNKNOWN:
        return math.log(0.1 if t.isdigit() else 1 / 26), "unknown", ""
    if r.char == t:
        return math.log(_q(r)), "match", ""
    kind = table.kind(r.char, t)
    return math.log((1 - _q(r)) * table.share(r.char, t)), ("confusion" if kind else "substitution"), kind or ""


def _insert_logp(r: CharRead) -> float:
    return math.log(P_INSERTED) if r.char == UNKNOWN else math.log((1 - _q(r)) * P_INSERTED)


def align(read: tuple[CharRead, ...], truth: str, table: ConfusionTable | None = None, *,
          band: int = 3) -> Alignment:
    """Best alignment of ``read`` to the letters and digits of ``truth`` (normalised like the read), within
    ``band`` characters of the diagonal (damage drops or adds a few characters, not many)."""
    table = table or default_table()
    t = [c.char for c in chars_of(truth)]
    n, m = len(read), len(t)
    if abs(n - m) > band:
        return Alignment(-math.inf, ())
    neg = -math.inf
    best = [[neg] * (m + 1) for _ in range(n + 1)]  # (n+1, m+1) log-likelihoods
    back = [[0] * (m + 1) for _ in range(n + 1)]  # 1 diagonal, 2 inserted (up), 3 dropped (left)
    best[0][0] = 0.0
    drop = math.log(P_DROPPED)
    ins = [_insert_logp(r) for r in read]
    sub = {(i, c): _sub(read[i], c, table)[0] for i in range(n) for c in set(t)}
    for i in range(n + 1):
        lo, hi = max(0, i - band), min(m, i + band)
        for j in range(lo, hi + 1):
            if i == 0 and j == 0:
                continue
            v, came = neg, 0
            if i and j and best[i - 1][j - 1] > neg:
                v, came = best[i - 1][j - 1] + sub[i - 1, t[j - 1]], 1
            if i and best[i - 1][j] + ins[i - 1] > v:
                v, came = best[i - 1][j] + ins[i - 1], 2
            if j and best[i][j - 1] + drop > v:
                v, came = best[i][j - 1] + drop, 3
            best[i][j], back[i][j] = v, came
    return Alignment(best[n][m], tuple(_trace(read, t, back, table)))


def _trace(read: tuple[CharRead, ...], t: list[str], back: list[list[int]], table: ConfusionTable) -> list[Step]:
    steps, i, j = [], len(read), len(t)
    while i or j:
        came = back[i][j]
        if came == 1:
            _, op, kind = _sub(read[i - 1], t[j - 1], table)
            steps.append(Step(op, read[i - 1].char, t[j - 1], read[i - 1].prob, kind))
            i, j = i - 1, j - 1
        elif came == 2:
            steps.append(Step("inserted", read[i - 1].char, "", read[i - 1].prob))
            i -= 1
        else:
            steps.append(Step("dropped", "", t[j - 1], 0.0))
            j -= 1
    return steps[::-1]
