"""Wires the stages: detection -> rectification -> recognition -> candidate reads. Owns no maths."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from model.bundle import WEIGHTS_DIR, load_bundle
from model.detection.detector import CaseHeadDetector
from model.recognition.ctc import beam_search, softmax, to_hypothesis
from model.recognition.preprocess import strips_to_input
from model.rectify.polar import Band, seam_by_energy, unwrap
from model.runtime import OnnxNet
from model.structures import Candidate, CaseHead, Hypothesis, Read

RECOGNIZER = "headstamp_recognizer"
DETECTOR = "case_head_detector"


@dataclass(frozen=True)
class ReaderConfig:
    beam: int = 8
    prune: float = 1e-2  # classes under this posterior at a frame are not expanded (speed; top-1 unchanged)
    n_best: int = 5
    max_heads: int = 12
    batch: int = 32


class HeadstampReader:
    """Reads every headstamp in an RGB image with the shipped recognizer bundle."""

    def __init__(self, recognizer: OnnxNet, detector: CaseHeadDetector, cfg: ReaderConfig = ReaderConfig()) -> None:
        self.net = recognizer
        self.detector = detector
        self.cfg = cfg
        man = recognizer.bundle.manifest
        self.band = Band(**man["band"])
        self.input_hw = (man["input"]["height_px"], man["input"]["width_px"])

    @classmethod
    def from_bundles(cls, *, device: str = "cpu", threads: int = 0,
                     cfg: ReaderConfig = ReaderConfig()) -> HeadstampReader:
        det_net = None
        if (WEIGHTS_DIR / DETECTOR).is_dir():
            det_net = OnnxNet(load_bundle(DETECTOR), device=device, threads=threads)
        detector = CaseHeadDetector(det_net, max_heads=cfg.max_heads)
        return cls(OnnxNet(load_bundle(RECOGNIZER), device=device, threads=threads), detector, cfg)

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
        """Unwrap each head both ways, recognise all strips in batches, merge the two readings' n-best lists."""
        strips = []
        for gray, hs in zip(grays, heads):
            for h in hs:
                strip = unwrap(gray, h.rim, seam_rad=seam_by_energy(gray, h.rim, band=self.band), band=self.band)
                strips += [strip, strip[::-1, ::-1]]  # clockwise, and turned 180 degrees (counter-clockwise)
        if not strips:
            return [[] for _ in grays]
        x = strips_to_input(strips, height_px=self.input_hw[0], width_px=self.input_hw[1])
        logits = np.concatenate([self.net(x[i:i + self.cfg.batch]) for i in range(0, len(x), self.cfg.batch)])
        out, k = [], 0
        for hs in heads:
            out.append([self._merge(h, logits[2 * (k + j)], logits[2 * (k + j) + 1]) for j, h in enumerate(hs)])
            k += len(hs)
        return out

    def _merge(self, head: CaseHead, fwd: np.ndarray, rev: np.ndarray) -> Read:
        cfg = self.cfg
        hyps = [to_hypothesis(*b) for b in beam_search(softmax(fwd), beam=cfg.beam, prune=cfg.prune)]
        hyps += [_reverse(to_hypothesis(*b)) for b in beam_search(softmax(rev), beam=cfg.beam, prune=cfg.prune)]
        hyps = [h for h in hyps if h.segments]
        if not hyps:
            empty = Hypothesis((), (), (), -math.inf)
            return Read("headstamp", head, empty, ())
        best = max(hyps, key=lambda h: h.score)
        mass: dict[tuple[str, ...], float] = {}
        for h in hyps:
            mass[h.segments] = mass.get(h.segments, 0.0) + math.exp(h.score) / 2
        total = sum(mass.values()) or 1.0
        ranked = sorted(mass.items(), key=lambda kv: kv[1], reverse=True)[: self.cfg.n_best]
        cands = tuple(Candidate(s, p / total) for s, p in ranked)
        best_segments = cands[0].segments
        best = max((h for h in hyps if h.segments == best_segments), key=lambda h: h.score)
        return Read("headstamp", head, best, cands)


def _reverse(h: Hypothesis) -> Hypothesis:
    """A reading of the turned strip, expressed clockwise: segments in reverse order, orientation flipped."""
    return Hypothesis(h.segments[::-1], h.char_probs[::-1], tuple(not t for t in h.turned[::-1]), h.score)
