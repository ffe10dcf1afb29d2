"""Wires the stages: detection -> rectification -> recognition -> candidate reads. Owns no maths."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from model.bundle import WEIGHTS_DIR, load_bundle
from model.charset import decode_line, encode_line
from model.detection.detector import CaseHeadDetector
from model.detection.heads import letterbox
from model.detection.lines import LineBox, box_of_quad, decode_lines
from model.matching.confusion import normalise_marking
from model.matching.formats import parse_lot
from model.recognition.ctc import beam_search, softmax, to_hypothesis
from model.recognition.forced import ctc_align
from model.recognition.grammar import HeadstampLexicon, aligned, rescore
from model.recognition.lot_grammar import LotPrior, rescore_line
from model.recognition.preprocess import strips_to_input
from model.rectify.lines import flatten_line, turn_quad
from model.rectify.polar import Band, seam_by_energy, segment_clocks, unwrap
from model.runtime import OnnxNet
from model.structures import Candidate, CaseHead, Ellipse, Hypothesis, LineRead, Read, TextCandidate

RECOGNIZER = "headstamp_recognizer"
DETECTOR = "case_head_detector"
LINE_DETECTOR = "line_detector"
LINE_RECOGNIZER = "lot_recognizer"


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
    n_best: int = 5
    max_heads: int = 12
    batch: int = 32
    both_ways: bool = True  # also read the strip turned 180 degrees and merge the two n-best lists
    sure: float = 0.9  # ... unless the first reading's top hypothesis is at least this probable (> 1: always)
    prior: bool = True  # rescore reads with the headstamp lexicon (model/recognition/grammar.py)
    unknown_cost: float = 2.0  # the prior's cost of a segment that is no known code, year or symbol (nats)
    count_cost: float = 2.0  # ... and of fewer than 2 or more than 4 codes
    rim_scales: tuple[float, ...] = ()  # look again at unsure heads with the rim scaled by each of these
    retry_below: float = 0.6  # ... when the best read holds less than this share of the candidates' mass


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
        """Unwrap each head both ways, recognise all strips in batches, merge the readings' n-best lists; heads
        whose best read is unsure are looked at again with the rim a little smaller and larger (``rim_scales``)
        and those readings join the pool."""
        flat = [(gray, h) for gray, hs in zip(grays, heads) for h in hs]
        if not flat:
            return [[] for _ in grays]
        seams = [seam_by_energy(gray, h.rim, band=self.band) for gray, h in flat]
        strips = [unwrap(gray, h.rim, seam_rad=seam, band=self.band) for (gray, h), seam in zip(flat, seams)]
        pools = self._look(strips)
        unsure = [k for k, pool in enumerate(pools) if _top_share(pool) < self.cfg.retry_below]
        for scale in self.cfg.rim_scales if unsure else ():
            more = [unwrap(flat[k][0], _scaled(flat[k][1].rim, scale), seam_rad=seams[k], band=self.band)
                    for k in unsure]
            for k, pool in zip(unsure, self._look(more)):
                pools[k] += pool
        reads = iter([self._read(h, seam, strip, pool)
                      for (_, h), seam, strip, pool in zip(flat, seams, strips, pools)])
        return [[next(reads) for _ in hs] for hs in heads]

    def _look(self, strips: list[np.ndarray]) -> list[list[Reading]]:
        """Each strip's hypotheses (clockwise), read as it is and, unless that reading is sure, turned 180
        degrees; with each, the posteriors it was read from and whether that was the turned strip."""
        ways = 2 if self.cfg.both_ways else 1
        both = [s for strip in strips for s in (strip, strip[::-1, ::-1])[:ways]]
        x = strips_to_input(both, height_px=self.input_hw[0], width_px=self.input_hw[1])
        logits = self.net.batched(x, self.cfg.batch)
        out = []
        for k in range(len(strips)):
            fwd = softmax(logits[ways * k])
            hyps, sure = self._decode(fwd)
            pool = [Reading(h, fwd, False) for h in hyps]
            if ways == 2 and not sure:
                rev = softmax(logits[ways * k + 1])
                pool += [Reading(_reverse(h), rev, True) for h in self._decode(rev)[0]]
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

    def _decode(self, probs: np.ndarray) -> tuple[list[Hypothesis], bool]:
        """n-best hypotheses of one strip's posteriors (strip order), rescored with the lexicon when there is
        one, and whether the beam search's top hypothesis was sure."""
        beams = beam_search(probs, beam=self.cfg.beam, prune=self.cfg.prune)
        hyps = [to_hypothesis(*b, probs.shape[0]) for b in beams]
        if self.lexicon is not None:
            hyps = rescore(probs, [h for h in hyps if h.segments], self.lexicon)
        return hyps, bool(beams) and beams[0][1] >= self.cfg.sure


def _candidates(pool: list[Reading], n_best: int) -> tuple[Candidate, ...]:
    """The pool's distinct reads with their share of its probability mass, best first."""
    top = max(r.hyp.score for r in pool)
    mass: dict[tuple[str, ...], float] = {}
    for r in pool:
        h = r.hyp
        mass[h.segments] = mass.get(h.segments, 0.0) + math.exp(h.score - top)
    total = sum(mass.values())
    ranked = sorted(mass.items(), key=lambda kv: kv[1], reverse=True)[:n_best]
    return tuple(Candidate(s, p / total) for s, p in ranked)


def _top_share(pool: list[Reading]) -> float:
    return _candidates(pool, 1)[0].score if pool else 0.0


def _scaled(rim: Ellipse, scale: float) -> Ellipse:
    return dataclasses.replace(rim, a_px=rim.a_px * scale, b_px=rim.b_px * scale)


def _reverse(h: Hypothesis) -> Hypothesis:
    """A reading of the turned strip, expressed clockwise: segments in reverse order, orientation flipped."""
    return Hypothesis(h.segments[::-1], h.char_probs[::-1], tuple(not t for t in h.turned[::-1]), h.score,
                      tuple(1.0 - p for p in h.positions[::-1]))


@dataclass(frozen=True)
class LotReaderConfig:
    beam: int = 8
    prune: float = 1e-2
    n_best: int = 5
    max_lines: int = 12
    threshold: float = 0.3
    batch: int = 32
    zoom_gain: float = 1.5  # look again at the lines' region when that magnifies it at least this much
    # a line both weakly detected and unreadable (mean character probability) is not reported: on renders this
    # drops 39 % of false lines (noisy backgrounds, case-head rims) and 1.5 % of true ones
    weak_detection: float = 0.4
    unreadable: float = 0.5
    lot_prior: LotPrior | None = LotPrior()  # rescore reads with the seeded lot formats (None: the beam's order)


class LotReader:
    """Reads every painted line in an RGB image and picks out the lot line (the one that parses as a lot)."""

    def __init__(self, detector: OnnxNet, recognizer: OnnxNet, cfg: LotReaderConfig = LotReaderConfig()) -> None:
        self.detector, self.net, self.cfg = detector, recognizer, cfg
        self.side = detector.bundle.manifest["input"]["side_px"]
        inp = recognizer.bundle.manifest["input"]
        self.input_hw = (inp["height_px"], inp["width_px"])

    @classmethod
    def from_bundles(cls, *, device: str = "cpu", threads: int = 0,
                     cfg: LotReaderConfig = LotReaderConfig()) -> LotReader | None:
        """The shipped lot reader, or None when its bundles are not installed."""
        if not all((WEIGHTS_DIR / n).is_dir() for n in (LINE_DETECTOR, LINE_RECOGNIZER)):
            return None
        return cls(OnnxNet(load_bundle(LINE_DETECTOR), device=device, threads=threads),
                   OnnxNet(load_bundle(LINE_RECOGNIZER), device=device, threads=threads), cfg)

    def detect(self, rgb: np.ndarray) -> list[LineBox]:
        """Lines in the whole image; when they occupy a small part of it (a marking in a wide video frame),
        the detector looks again at that part, larger, and its finer boxes are kept."""
        lines = self._detect(rgb)
        crop = zoom_window(lines, rgb.shape[1], rgb.shape[0], min_gain=self.cfg.zoom_gain)
        if crop is None:
            return lines
        x0, y0, x1, y1 = crop
        finer = self._detect(rgb[y0:y1, x0:x1])
        return [dataclasses.replace(ln, cx=ln.cx + x0, cy=ln.cy + y0) for ln in finer] or lines

    def _detect(self, rgb: np.ndarray) -> list[LineBox]:
        x, box = letterbox(rgb, self.side)
        out = self.detector(x[None])[0]
        return decode_lines(out, box, threshold=self.cfg.threshold, max_lines=self.cfg.max_lines)

    def read(self, rgb: np.ndarray) -> list[LineRead]:
        lines = self.detect(rgb)
        if not lines:
            return []
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        h, w = self.input_hw
        quads = [(q, turn_quad(q)) for q in (ln.quad() for ln in lines)]  # both ways up: angle known mod 180 deg
        strips = [flatten_line(gray, q, height_px=h, width_px=w) for pair in quads for q in pair]
        x = strips_to_input(strips, height_px=h, width_px=w)
        logits = self.net.batched(x, self.cfg.batch)
        reads = [self._line(ln, quads[k], logits[2 * k], logits[2 * k + 1]) for k, ln in enumerate(lines)]
        kept = [(ln, r) for ln, r in zip(lines, reads) if not self._noise(r)]
        return _label_lot(_merge_duplicates([ln for ln, _ in kept], [r for _, r in kept]))

    def _noise(self, line: LineRead) -> bool:
        return line.detection_score < self.cfg.weak_detection and _mean_prob(line) < self.cfg.unreadable

    def _line(self, ln: LineBox, quads: tuple[np.ndarray, np.ndarray], up: np.ndarray, down: np.ndarray) -> LineRead:
        best = None
        for logits, quad in zip((up, down), quads):
            probs = softmax(logits)
            beams = beam_search(probs, beam=self.cfg.beam, prune=self.cfg.prune)
            if beams and (best is None or beams[0][1] > best[0][0][1]):
                best = (beams, quad, probs)
        beams, quad, probs = best
        if self.cfg.lot_prior is None:
            ranked = [(decode_line(k), math.log(max(p, 1e-30))) for k, p, *_ in beams]
        else:
            ranked = rescore_line(probs, [decode_line(k) for k, *_ in beams], self.cfg.lot_prior) or \
                [(decode_line(beams[0][0]), 0.0)]
        top = ranked[0][1]
        mass: dict[str, float] = {}
        for raw, score in ranked:
            key = normalise_marking(raw)[0]
            mass[key] = mass.get(key, 0.0) + math.exp(score - top)
        total = sum(mass.values())
        cands = tuple(TextCandidate(t, m / total) for t, m in sorted(mass.items(), key=lambda kv: -kv[1])
                      [: self.cfg.n_best])
        raw = ranked[0][0]
        if raw == decode_line(beams[0][0]):
            char_probs = beams[0][2]
        else:  # a read the prior preferred: its characters' probabilities from its best alignment
            char_probs = ctc_align(probs, encode_line(raw))[0]
        text, circled = normalise_marking(raw)
        return LineRead("text", tuple((float(x), float(y)) for x, y in quad), text, tuple(char_probs), cands,
                        circled, detection_score=ln.score)


def zoom_window(lines: list[LineBox], width: int, height: int, *, min_gain: float,
                margin: float = 2.0) -> tuple[int, int, int, int] | None:
    """The region (x0, y0, x1, y1) around every line, with ``margin`` line heights to spare, when letterboxing
    it instead of the whole image magnifies it at least ``min_gain`` times; otherwise None."""
    if not lines:
        return None
    xs, ys = [], []
    for ln in lines:
        q = ln.quad()
        pad = margin * ln.half_h
        xs += [float(q[:, 0].min()) - pad, float(q[:, 0].max()) + pad]
        ys += [float(q[:, 1].min()) - pad, float(q[:, 1].max()) + pad]
    x0, y0 = max(0, int(min(xs))), max(0, int(min(ys)))
    x1, y1 = min(width, int(math.ceil(max(xs)))), min(height, int(math.ceil(max(ys))))
    if x1 - x0 < 8 or y1 - y0 < 8 or max(width, height) / max(x1 - x0, y1 - y0) < min_gain:
        return None
    return x0, y0, x1, y1


def _merge_duplicates(lines: list[LineBox], reads: list[LineRead]) -> list[LineRead]:
    """One read per painted line: detections centred on the same line are pooled, their candidates' mass summed
    by text; the line keeps the geometry and character probabilities of the member that read the winner."""
    groups: list[list[int]] = []
    for k in sorted(range(len(reads)), key=lambda k: -lines[k].score):
        for g in groups:
            if any(lines[j].contains(lines[k].cx, lines[k].cy) or lines[k].contains(lines[j].cx, lines[j].cy)
                   for j in g):
                g.append(k)
                break
        else:
            groups.append([k])
    out = []
    for g in groups:
        mass: dict[str, float] = {}
        for k in g:
            for c in reads[k].candidates:
                mass[c.text] = mass.get(c.text, 0.0) + c.score / len(g)
        ranked = sorted(mass.items(), key=lambda kv: -kv[1])[:5]
        cands = tuple(TextCandidate(t, m) for t, m in ranked)
        owner = next((k for k in g if reads[k].text == ranked[0][0]), None)
        if owner is None:  # the pooled winner was nobody's first read: no per-character probabilities for it
            out.append(dataclasses.replace(reads[g[0]], text=ranked[0][0], char_probs=(), candidates=cands))
        else:
            out.append(dataclasses.replace(reads[owner], candidates=cands))
    return out


def _label_lot(reads: list[LineRead]) -> list[LineRead]:
    """Mark the line most like a lot: one that fits a seeded lot format, else the one richest in digits with
    a separator."""
    def rank(r: LineRead) -> tuple:
        digits = sum(c.isdigit() for c in r.text)
        return (parse_lot(r.text).format is not None, digits >= 3 and any(c in r.text for c in "-/ "), digits)

    if not reads:
        return reads
    best = max(range(len(reads)), key=lambda k: rank(reads[k]))
    if sum(c.isdigit() for c in reads[best].text) < 2:
        return reads
    r = reads[best]
    parsed = parse_lot(r.text, circled_factory=r.circled_factory)
    lot = dataclasses.replace(r, kind="lot", format=parsed.format, fields=tuple(parsed.fields.items()))
    return [lot if k == best else x for k, x in enumerate(reads)]


class MarkingReader:
    """Headstamps and, when its bundles are installed, painted lot lines: every marking in an image."""

    def __init__(self, headstamps: HeadstampReader, lots: LotReader | None = None) -> None:
        self.headstamps, self.lots = headstamps, lots

    @classmethod
    def from_bundles(cls, *, device: str = "cpu", threads: int = 0) -> MarkingReader:
        return cls(HeadstampReader.from_bundles(device=device, threads=threads),
                   LotReader.from_bundles(device=device, threads=threads))

    def read(self, rgb: np.ndarray) -> list[Read | LineRead]:
        return self.read_batch([rgb])[0]

    def read_batch(self, images: list[np.ndarray]) -> list[list[Read | LineRead]]:
        out: list[list[Read | LineRead]] = [list(r) for r in self.headstamps.read_batch(images)]
        if self.lots is not None:
            for reads, rgb in zip(out, images):
                heads = [r.head.rim for r in reads if isinstance(r, Read)]
                lines = [ln for ln in self.lots.read(rgb) if not _on_a_head(ln, heads)]
                painted = {id(r) for ln in lines for r in _painted_heads(reads, ln)}
                reads[:] = [r for r in reads if id(r) not in painted]
                reads.extend(lines)
        return out

    @property
    def nets(self) -> list[OnnxNet]:
        nets = [self.headstamps.net] + ([self.headstamps.detector.net] if self.headstamps.detector.net else [])
        return nets + ([self.lots.detector, self.lots.net] if self.lots else [])


def circle_in_line(rim: Ellipse, quad: tuple[tuple[float, float], ...] | np.ndarray) -> bool:
    """Whether a detected 'case head' is painted text instead: a circled factory code or a big stencilled
    letter. Its centre lies on a text line, it is at most about three times the line's height (headstamp text
    is far smaller than its rim), and the line runs on past it."""
    line = LineBox(*box_of_quad(np.asarray(quad, np.float32)), score=0.0)
    r = max(rim.a_px, rim.b_px)
    return line.contains(rim.cx, rim.cy, across=1.0) and r < 3.0 * line.half_h and line.half_len > r + line.half_h


def _painted_heads(reads: list[Read], line: LineRead) -> list[Read]:
    """The 'case heads' that are part of a painted line (:func:`_painted_over`). When several sit on one line,
    the line must also be confidently read: a false line across a row of cases in a frame (read at about 0.5
    per character) must not take them all."""
    on_line = [r for r in reads if circle_in_line(r.head.rim, line.quad)]
    if len(on_line) > 1 and not _confident(line):
        return []
    return [r for r in on_line if _painted_over(r, line)]


def _painted_over(head: Read, line: LineRead, *, unsure: float = 0.5, lost: float = 0.25) -> bool:
    """Whether a 'case head' is part of a painted line (a circled code, a big letter): it sits on the line as
    :func:`circle_in_line` says, and the line is confidently read, or the line is clearly detected and the
    head's own best read has under ``unsure`` of its candidates' mass, or that read has under ``lost`` (painted
    text read as a headstamp reads as nothing in particular)."""
    if not circle_in_line(head.head.rim, line.quad):
        return False
    share = head.candidates[0].score if head.candidates else 0.0
    if _confident(line) or share < lost:
        return True
    return line.detection_score >= CLEAR_DETECTION and share < unsure


CLEAR_DETECTION = 0.4  # a line detected at least this strongly is no false line on a busy background (~0.35)


def _mean_prob(line: LineRead) -> float:
    """A line read's mean character probability (0 for an empty read)."""
    return float(np.mean(line.char_probs)) if line.char_probs else 0.0


def _confident(line: LineRead, *, detection: float = CLEAR_DETECTION, mean_prob: float = 0.75) -> bool:
    """A line sure enough to overrule a case head under it: false lines on busy backgrounds (measured on
    rendered video frames) score about 0.35 as detections and read at about 0.6 per character."""
    return line.detection_score >= detection and bool(line.char_probs) and _mean_prob(line) >= mean_prob


def _on_a_head(line: LineRead, rims: list) -> bool:
    """Whether a painted-line detection lies wholly on a case head (its text is the headstamp's, read as such);
    a line that runs past the rim, such as a lot whose factory code is circled, is kept."""
    return any(all(math.hypot(x - r.cx, y - r.cy) < r.a_px for x, y in line.quad) for r in rims)
