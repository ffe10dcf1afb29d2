"""The headstamp reader: case heads found, each ring unwrapped both ways, strips recognised in batches, n-best
rescored with the headstamp lexicon, readings pooled into candidates. Owns no maths."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from model.bundle import DETECTOR, RECOGNIZER, WEIGHTS_DIR, load_bundle
from model.charset import cyclic_key
from model.detection.detector import CaseHeadDetector
from model.recognition.ctc import beam_search, shares, softmax, to_hypothesis
from model.recognition.grammar import HeadstampLexicon, aligned, rescore
from model.recognition.preprocess import strips_to_input
from model.rectify.polar import Band, seam_by_energy, segment_clocks, unwrap
from model.runtime import OnnxNet
from model.structures import Candidate, CaseHead, Ellipse, Hypothesis, Read


class Reading(NamedTuple):
    """One hypothesis of a head (segments clockwise), the strip posteriors it was read from, and whether that
    strip was the turned one."""

    hyp: Hypothesis
    probs: np.ndarray  # (T, C)
    turned: bool


@dataclass(frozen=True)
class ReaderConfig:
    beam: int = 8
    prune: float = 1e-2  # classes under this posterior at a frame are not expanded (speed; top-1 unchanged)
    # candidates kept: a damaged head's truth is often further down. Fresh crops (bench/fresh_heads.py --n 60, seeds
    # 4242 + 5151), truth among the candidates of 360: 5 kept 243, 10 kept 251 (worn 81 -> 85, obscured 45 -> 47);
    # fresh frames seed 31, worn 51 -> 54 of 103; exact reads the same
    n_best: int = 10
    max_heads: int = 12
    batch: int = 32
    both_ways: bool = True  # also read the strip turned 180 degrees and merge the two n-best lists
    sure: float = 0.9  # ... unless the first reading's top hypothesis is at least this probable (> 1: always)
    prior: bool = True  # rescore reads with the headstamp lexicon (model/recognition/grammar.py)
    expand: int = 3  # the top hypotheses whose unknown segments are tried as their lexicon neighbours
    unknown_cost: float = 2.0  # the prior's cost of a segment that is no known code, year or symbol (nats)
    count_cost: float = 2.0  # ... and of fewer than 2 or more than 4 codes
    rim_scales: tuple[float, ...] = ()  # look again at unsure heads with the rim scaled by each of these
    retry_below: float = 0.6  # ... when the best read holds less than this share of the candidates' mass
    # ... those readings' ``expand`` (0: seeds 4242 + 5151 exact 193 of 360 as with 3, 52 ms per crop against 60)
    rim_expand: int = 3


class HeadstampReader:
    """Reads every headstamp in an RGB image with the shipped recognizer bundle."""

    def __init__(self, recognizer: OnnxNet, detector: CaseHeadDetector, cfg: ReaderConfig = ReaderConfig()) -> None:
        self.net = recognizer
        self.detector = detector
        self.cfg = cfg
        man = recognizer.bundle.manifest
        self.band = Band(**man["band"])
        self.input_hw = (man["input"]["height_px"], man["input"]["width_px"])
        self.lexicon = (HeadstampLexicon.from_seeds(unknown_cost=cfg.unknown_cost, count_cost=cfg.count_cost)
                        if cfg.prior else None)

    @classmethod
    def from_bundles(cls, *, device: str = "cpu", threads: int = 0, cfg: ReaderConfig = ReaderConfig(),
                     recognizer: str | Path = RECOGNIZER, detector: str | Path = DETECTOR) -> HeadstampReader:
        """A reader of the named (or given folders') recognizer and case-head detector bundles, by default the
        shipped ones; when the shipped detector bundle is not installed, heads are found by the geometric
        detector (a detector named here that does not load is an error)."""
        det_net = None
        if detector != DETECTOR or (WEIGHTS_DIR / DETECTOR).is_dir():
            det_net = OnnxNet(load_bundle(detector), device=device, threads=threads)
        finder = CaseHeadDetector(det_net, max_heads=cfg.max_heads)
        return cls(OnnxNet(load_bundle(recognizer), device=device, threads=threads), finder, cfg)

    def read(self, rgb: np.ndarray) -> list[Read]:
        return self.read_batch([rgb])[0]

    def read_batch(self, images: list[np.ndarray]) -> list[list[Read]]:
        """Reads of several RGB images; their strips share recogniser batches."""
        grays = [cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) for rgb in images]
        heads = [self.detector(rgb, gray) for rgb, gray in zip(images, grays)]
        return self.read_heads_batch(grays, heads)

    def read_heads(self, gray: np.ndarray, heads: list[CaseHead]) -> list[Read]:
        return self.read_heads_batch([gray], [heads])[0]

    def read_heads_batch(self, grays: list[np.ndarray], heads: list[list[CaseHead]]) -> list[list[Read]]:
        """Unwrap each head both ways, recognise all strips in batches, merge the readings' n-best lists; heads
        whose best read is unsure are looked at again with the rim a little smaller and larger (``rim_scales``)
        and those readings join the pool."""
        flat = [(gray, h) for gray, hs in zip(grays, heads) for h in hs]
        if not flat:
            return [[] for _ in grays]
        seams = [seam_by_energy(gray, h.rim, band=self.band) for gray, h in flat]
        strips = [unwrap(gray, h.rim, seam_rad=seam, band=self.band) for (gray, h), seam in zip(flat, seams)]
        pools = self._look(strips, self.cfg.expand)
        unsure = [k for k, pool in enumerate(pools) if _top_share(pool) < self.cfg.retry_below] \
            if self.cfg.rim_scales else []
        more = [unwrap(flat[k][0], _scaled(flat[k][1].rim, scale), seam_rad=seams[k], band=self.band)
                for scale in self.cfg.rim_scales for k in unsure]
        for k, pool in zip(unsure * len(self.cfg.rim_scales), self._look(more, self.cfg.rim_expand)):
            pools[k] += pool
        reads = iter([self._read(h, seam, strip, pool)
                      for (_, h), seam, strip, pool in zip(flat, seams, strips, pools)])
        return [[next(reads) for _ in hs] for hs in heads]

    def _look(self, strips: list[np.ndarray], expand: int) -> list[list[Reading]]:
        """Each strip's hypotheses (clockwise), read as it is and, unless that reading is sure, turned 180
        degrees; with each, the posteriors it was read from and whether that was the turned strip (``expand``:
        as :func:`rescore`'s)."""
        ways = 2 if self.cfg.both_ways else 1
        both = [s for strip in strips for s in (strip, strip[::-1, ::-1])[:ways]]
        x = strips_to_input(both, height_px=self.input_hw[0], width_px=self.input_hw[1])
        logits = self.net.batched(x, self.cfg.batch)
        out = []
        for k in range(len(strips)):
            fwd = softmax(logits[ways * k])
            hyps, sure = self._decode(fwd, expand)
            pool = [Reading(h, fwd, False) for h in hyps]
            if ways == 2 and not sure:
                rev = softmax(logits[ways * k + 1])
                pool += [Reading(_reverse(h), rev, True) for h in self._decode(rev, expand)[0]]
            out.append([r for r in pool if r.hyp.segments])
        return out

    def _read(self, head: CaseHead, seam_rad: float, strip: np.ndarray,
              pool: list[Reading]) -> Read:
        if not pool:
            return Read("headstamp", head, Hypothesis((), (), (), -math.inf), ())
        cands = _candidates(pool, self.cfg.n_best)
        best, probs, turned = max((r for r in pool if r.hyp.segments == cands[0].segments),
                                  key=lambda r: r.hyp.score)
        if not best.char_probs:  # made by the lexicon's rescoring: align it to its strip
            best = _reverse(aligned(probs, _reverse(best))) if turned else aligned(probs, best)
        return Read("headstamp", head, best, cands, segment_clocks(strip, seam_rad, best.positions))

    def _decode(self, probs: np.ndarray, expand: int) -> tuple[list[Hypothesis], bool]:
        """n-best hypotheses of one strip's posteriors (strip order), rescored with the lexicon when there is
        one, and whether the beam search's top hypothesis was sure."""
        beams = beam_search(probs, beam=self.cfg.beam, prune=self.cfg.prune)
        hyps = [to_hypothesis(*b, probs.shape[0]) for b in beams]
        if self.lexicon is not None:
            hyps = rescore(probs, [h for h in hyps if h.segments], self.lexicon, expand=expand)
        return hyps, bool(beams) and beams[0][1] >= self.cfg.sure


def _candidates(pool: list[Reading], n_best: int) -> tuple[Candidate, ...]:
    """The pool's distinct reads with their share of its probability mass, best first. Reads that differ only in
    their separators (star, dot) or their starting segment are one read (``cyclic_key``), shown as its likeliest
    form."""
    scored = ((r.hyp.segments, r.hyp.score) for r in pool)
    return tuple(Candidate(s, p) for s, p in shares(scored, n_best, same=cyclic_key))


def _top_share(pool: list[Reading]) -> float:
    return _candidates(pool, 1)[0].score if pool else 0.0


def _scaled(rim: Ellipse, scale: float) -> Ellipse:
    return dataclasses.replace(rim, a_px=rim.a_px * scale, b_px=rim.b_px * scale)


def _reverse(h: Hypothesis) -> Hypothesis:
    """A reading of the turned strip, expressed clockwise: segments in reverse order, orientation flipped."""
    return Hypothesis(h.segments[::-1], h.char_probs[::-1], tuple(not t for t in h.turned[::-1]), h.score,
                      tuple(1.0 - p for p in h.positions[::-1]))
