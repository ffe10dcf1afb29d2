"""Rank registered lots for a marking's candidate reads.

Retrieval uses the registry's deletion-key index over skeletons (look-alikes folded, separators dropped), so a
read within one edit of a lot, plus any number of look-alike swaps, finds it without a scan; unknowns (``?``)
expand over the alphabet. Ranking aligns every candidate read against every retrieved lot (``align.py``) and
sums over candidates weighted by their probabilities; a lot registered in another format than the one the
best read fits, or with the other circled flag, is charged for it. The score is a posterior over the retrieved
lots plus "not in the registry", so it can be read as a probability (the benchmark checks its calibration).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from model.matching.align import DEFAULT_Q, Alignment, align, chars_of
from model.matching.confusion import UNKNOWN, default_table, deletion_keys, normalise_marking, skeleton
from model.matching.formats import parse_lot
from model.matching.store import LotRecord, Registry
from model.structures import LineRead

P_UNREGISTERED = 0.05  # prior that a marking's lot is not in the registry
P_CIRCLE_MISMATCH = 0.2  # the read's circled flag disagrees with the lot's
P_FORMAT_MISMATCH = 0.5  # the best read fits a lot format and the lot is registered in another one
MAX_UNKNOWN_EXPANSIONS = 2
RERANK = 24  # lots kept after the fast edit-distance prefilter


@dataclass(frozen=True)
class ReadCandidate:
    """One candidate read of a marking: text, its probability, optional per-character probabilities."""

    text: str
    score: float = 1.0
    char_probs: tuple[float, ...] | None = None


@dataclass(frozen=True)
class LotMatch:
    lot: LotRecord
    score: float  # posterior probability that the marking is this lot
    read: str  # the candidate read that explains the lot best
    alignment: Alignment

    @property
    def explanation(self) -> str:
        return f"read {self.read!r}: {self.alignment.explain()}"

    def to_json(self) -> dict:
        lot = self.lot
        return {"lot_id": lot.id, "lot": lot.display, "circled_factory": lot.circled_factory,
                "nomenclature": lot.nomenclature, "item": lot.item, "marking_kind": lot.marking_kind,
                "format": lot.format, "fields": {k: v for k, v in (("factory", lot.factory_code),
                                                                   ("lot", lot.lot_number), ("year", lot.year)) if v},
                "country": lot.country, "exporter": lot.exporter, "consignee": lot.consignee,
                "export_date": lot.export_date, "contract_notes": lot.contract_notes, "source": lot.source,
                "score": round(self.score, 4), "explanation": self.explanation}


def line_candidates(read: LineRead) -> list[ReadCandidate]:
    """A lot line's n-best as matcher input; the best read carries its per-character probabilities."""
    cands = [ReadCandidate(c.text, c.score) for c in read.candidates]
    if cands and len(read.char_probs) == len(read.text):
        cands[0] = ReadCandidate(read.text, read.candidates[0].score, read.char_probs)
    return cands


def _alphabet() -> str:
    table = default_table()
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(sorted({table.representative.get(c, c) for c in chars}))


def query_keys(key: str) -> set[str] | None:
    """Index keys that reach every lot within one edit of ``key`` (``?`` = any character); None when the
    key has too many unknowns to expand."""
    unknown = key.count(UNKNOWN)
    if unknown == 0:
        return deletion_keys(key)
    if unknown > MAX_UNKNOWN_EXPANSIONS:
        return None
    first = key.index(UNKNOWN)
    if unknown == 1:  # the unknown position dropped, or filled and then one more edit allowed
        keys = {key[:first] + key[first + 1:]}
        for c in _alphabet():
            keys |= deletion_keys(key[:first] + c + key[first + 1:])
        return keys
    second = key.index(UNKNOWN, first + 1)
    return {(key[:first] + c + key[first + 1:second] + key[second + 1:]) for c in _alphabet()}


def damage_variants(key: str, *, limit: int = 16) -> set[str]:
    """``key`` with damage-confusable characters (8/3, 6/5, 0/C, ...) swapped for their partners, in every
    combination up to ``limit`` keys: damage confusions are not folded into skeletons (that would blur 3 and 8
    for every lot), so the query reaches across them instead."""
    table = default_table()
    partners: dict[str, set[str]] = {}
    for pair, kind in table.kinds.items():
        if kind == "damage":
            a, b = tuple(pair)
            partners.setdefault(table.representative.get(a, a), set()).add(table.representative.get(b, b))
            partners.setdefault(table.representative.get(b, b), set()).add(table.representative.get(a, a))
    out = {key}
    for i, c in enumerate(key):
        for p in partners.get(c, ()):
            out |= {v[:i] + p + v[i + 1:] for v in out if len(out) < limit}
    return out


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))


class LotMatcher:
    """Candidate reads in, ranked registered lots out."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def match(self, candidates: Sequence[ReadCandidate], *, circled: bool | None = None,
              top: int = 5) -> list[LotMatch]:
        """Lots ranked by posterior probability given the candidate reads (strongest first)."""
        cands = sorted((c for c in candidates if c.text.strip()), key=lambda c: -c.score)[:8]
        if not cands:
            return []
        total = sum(max(c.score, 1e-9) for c in cands)
        weights = [math.log(max(c.score, 1e-9) / total) for c in cands]
        reads = [chars_of(c.text, c.char_probs) for c in cands]
        if circled is None:
            circled = any(normalise_marking(c.text)[1] for c in cands)
        lots = self._retrieve(cands)
        read_format = parse_lot(cands[0].text, circled_factory=circled).format
        scored = []
        for lot in lots:
            per_read = [align(r, lot.lot_text) for r in reads]
            terms = [w + a.logp for w, a in zip(weights, per_read)]
            logp = _logsumexp(terms)
            if circled != lot.circled_factory and (circled or lot.circled_factory):
                logp += math.log(P_CIRCLE_MISMATCH)
            if read_format and lot.format and read_format != lot.format:
                logp += math.log(P_FORMAT_MISMATCH)
            k = max(range(len(terms)), key=terms.__getitem__)
            scored.append((logp, lot, cands[k].text, per_read[k]))
        exact = [w + sum(math.log(min(max(ch.prob, 0.01), 0.999)) if ch.char != UNKNOWN else math.log(0.1)
                         for ch in r) for w, r in zip(weights, reads)]
        none = math.log(P_UNREGISTERED) + _logsumexp(exact)
        norm = _logsumexp([s[0] for s in scored] + [none])
        scored.sort(key=lambda s: -s[0])
        return [LotMatch(lot, math.exp(lp - norm), read, al) for lp, lot, read, al in scored[:top]]

    def search(self, query: str, *, top: int = 10) -> list[LotMatch]:
        """A typed query: each character as typed, probably right (0.8); ``?`` for unknown characters."""
        probs = tuple(0.8 if c != UNKNOWN else DEFAULT_Q for c in normalise_marking(query)[0])
        return self.match([ReadCandidate(query, 1.0, probs)], top=top)

    def _retrieve(self, cands: Sequence[ReadCandidate]) -> list[LotRecord]:
        keys: set[str] = set()
        for c in cands:
            for k in damage_variants(skeleton(c.text)):
                expanded = query_keys(k)
                if expanded is None:
                    expanded = deletion_keys(k.replace(UNKNOWN, ""))  # too many unknowns: drop them all
                keys |= expanded
        ids = self.registry.lot_ids_by_keys(keys)
        lots = self.registry.lots_by_ids(ids)
        if len(lots) <= RERANK:
            return lots
        probes = [skeleton(c.text) for c in cands]
        dist = {lot.id: min(Levenshtein.distance(p, lot.skeleton) for p in probes) for lot in lots}
        return sorted(lots, key=lambda lot: dist[lot.id])[:RERANK]
