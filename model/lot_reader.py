"""The painted-line reader: lines detected (with a magnified second look at small markings), flattened both
ways up, recognised, n-best rescored with the seeded lot formats, duplicates pooled, the lot line labelled.
Owns no maths."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from model.bundle import LINE_DETECTOR, LINE_RECOGNIZER, WEIGHTS_DIR, load_bundle
from model.charset import decode_line, encode_line
from model.detection.heads import letterbox
from model.detection.lines import LineBox, decode_lines, on_a_head, shared_ways
from model.matching.confusion import normalise_marking
from model.matching.formats import is_designation, is_other_line, parse_lot
from model.recognition.ctc import Beam, beam_search, shares, softmax
from model.recognition.forced import ctc_align
from model.recognition.lot_grammar import LotPrior, rescore_line
from model.recognition.preprocess import strips_to_input
from model.rectify.deskew import fit_line
from model.rectify.lines import flatten_line, flatten_line_colours, turn_quad
from model.runtime import OnnxNet
from model.structures import Ellipse, LineRead, TextCandidate, holds_letter_or_digit


class Look(NamedTuple):
    """A line read one way up on one colour axis: its beams (best first), quad and posteriors."""

    beams: list[Beam]
    quad: np.ndarray
    probs: np.ndarray

    @property
    def mean_char_prob(self) -> float:
        return float(np.mean(self.beams[0][2]))


@dataclass(frozen=True)
class LotReaderConfig:
    beam: int = 8
    prune: float = 1e-2
    n_best: int = 5
    max_lines: int = 12
    threshold: float = 0.3
    batch: int = 32
    zoom_gain: float = 1.5  # look again at the lines' region when that magnifies it at least this much
    # look again with the image set in a border of this share of each side, for lines the frame cuts (the
    # detector misses a line that runs off the image); lines of that look that reach the frame and that no
    # other line meets are added (0: no such look) ...
    frame_pad: float = 0.1
    frame_margin: float = 0.02  # (a line "reaches the frame" when it ends within this share of an image side)
    # ... when they read clearly (mean character probability): on busy video frames that look's false lines
    # read at 0.2-0.79, lines cut by the frame mostly above 0.83
    frame_readable: float = 0.8
    # each line also read in a box this many line heights longer at each end, the reads pooled (for a faded or
    # scraped end the detector leaves out). Off: with lot recognizer v10 it read renders with a faded lot end
    # far better (bench/lots.py --faded --views 0.5: 24 -> 71 of 270) but added characters at the ends of
    # evaluation-set lines (PG-7V -> PPG-7V); v12, trained on longer cuts too, was no better there
    views: tuple[float, ...] = ()
    # each line is also read in a box ``extend_by`` line heights longer at each end, and that read replaces the
    # line's own when it holds the line's read whole and every character it adds reads at least ``extend_sure``
    # (a faded end the detector left out, where the views above would pool in ground read as characters)
    extend_by: float = 0.0
    extend_sure: float = 0.9
    # each line is read on its colours' first ``colour_axes`` principal axes (colour bundles only), the likeliest
    # read kept: the first axis follows whatever varies most, on camouflage the surface's blotches, and paint
    # that differs from them in another direction (yellow on tan-and-green) shows on the second. A line is read
    # on a further axis only while its best read so far has a mean character probability under
    # ``colour_retry_below`` (inf: every line on every axis, in one batch). Fresh renders, lot lines read
    # exactly of 270 (bench/lots.py, seeds 606 / 707): one axis 154 / 143; two, retried under 0.5 157 / 144,
    # under 0.8 159 / 147, always 160 / 150
    colour_axes: int = 2
    colour_retry_below: float = math.inf
    # a line's reads from all its looks (each colour axis; the jittered boxes below) are pooled and scored under
    # the mixture of the looks' posteriors (False: the likeliest look's reads under its own posteriors alone).
    # Fresh renders, lots exact of 270 (bench/lots.py, line detector v5, lot recognizer v10), the colour axes
    # pooled: seed 606 153 -> 156, 707 163 -> 163, all camouflage 143 -> 145
    pool: bool = True
    # ... and each line read unsurely (its likeliest look's mean character probability under ``jitter_below``)
    # is also read in boxes scaled by each of these (height factor, line heights more at each end), those looks
    # joining its pool (its reported box and alignment stay its own): the recognizer's read hinges less on the
    # detector's exact box. Lots exact of 270, seeds 606 / 707, all camouflage, faded ends, cropped photos:
    # nothing pooled 153 / 163 / 143 / 93 / 161; the axes pooled 156 / 163 / 145 / 94 / -; with heights 1.2 and
    # 0.85 for lines under 0.95 168 / 164 / 149 / 100 / 179 (lot reading ~150 -> ~240 ms per image, 2 threads),
    # for every line 170 / 165 / 152 / 104 / 182 (~340 ms); 1.2, 0.85 and 1.45 on seed 606 170, 1.35 and 0.8 164
    jitter: tuple[tuple[float, float], ...] = ((1.2, 0.0), (0.85, 0.0))
    jitter_below: float = 0.95
    # a line both weakly detected and unreadable (mean character probability) is not reported: on renders this
    # drops 39 % of false lines (noisy backgrounds, case-head rims) and 1.5 % of true ones (see also is_noise)
    weak_detection: float = 0.4
    unreadable: float = 0.5
    # the lines of one marking (parallel and near each other) are read one way up, the one their reads favour
    # together (model.detection.lines.shared_ways): a line of digits that read alike both ways up (60-06-08 and,
    # turned, 80-90-09) follows its marking's nomenclature line (False: each line its own likelier way). Fresh
    # renders, eight bench/lots.py runs of 270: lots exact 1,329 against 1,324, n-best 1,555 / 1,549, other lines
    # 2,228 / 2,225
    shared_ways: bool = True
    # each line's angle refined from its paint (model.rectify.deskew.fit_line): the turn within ``deskew_span``
    # degrees either way at which its rows' profile spreads most, kept where it is at least ``deskew_min_turn``
    # degrees, its spread over ``deskew_gain`` plus ``deskew_gain_per_deg`` a degree times the box's own, and the
    # line so turned rises at its ends by at most ``deskew_rise`` of the box's half-height (0 span: as detected).
    # Of line detector v10's boxes on true lines (dev seed 9001, 90 markings a row: filling, in frame, circled),
    # those more than 5 degrees off: level 4 % (refined 4 %), turned 10-30 degrees 41 % (11 %), 30-45 98 % (26 %)
    deskew_span: float = 40.0
    deskew_gain: float = 1.1
    deskew_gain_per_deg: float = 0.03
    deskew_min_turn: float = 3.0
    deskew_rise: float = 2.0
    # ... only for lines read unsurely, their best read's mean character probability under ``deskew_below``: the
    # turned box replaces the line's where it reads likelier (inf: every line turned before it is read). Fresh
    # renders, lots exact (bench/lots.py --n 30, line detector v10, lot recognizer v29), eight level runs of 2,160:
    # as detected 1,357, every line turned 1,339, unsure lines 1,361; tilted 10-30 (606 + 707) and 30-45
    # (606): 251, 338, 327 of 810; confirmation (seeds 1414, 2525, 3636, 4747; 5858 at 10-30, 6969 at 30-45) as
    # detected 650 / 124 / 10, unsure lines 652 / 141 / 50. Line detector v11 (stop 49), seed 606 at 10-30 and
    # 30-45: as detected 154 and 112 of 270, unsure lines 161 and 126
    deskew_below: float = 0.95
    lot_prior: LotPrior | None = LotPrior()  # rescore reads with the seeded lot formats (None: the beam's order)


class LotReader:
    """Reads every painted line in an RGB image and picks out the lot line (the one that parses as a lot)."""

    def __init__(self, detector: OnnxNet, recognizer: OnnxNet, cfg: LotReaderConfig = LotReaderConfig()) -> None:
        self.detector, self.net, self.cfg = detector, recognizer, cfg
        self.side = detector.bundle.manifest["input"]["side_px"]
        inp = recognizer.bundle.manifest["input"]
        self.input_hw = (inp["height_px"], inp["width_px"])
        # bundles up to v8 were trained on luminance strips; later ones on colour projected on its principal axis
        self.colour = inp.get("strip") == "colour"

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
        the detector looks again at that part, larger: its finer boxes are kept, with the first look's lines
        that the closer one missed."""
        lines = self._detect(rgb)
        crop = zoom_window(lines, rgb.shape[1], rgb.shape[0], min_gain=self.cfg.zoom_gain)
        if crop is None:
            return lines
        x0, y0, x1, y1 = crop
        finer = self._detect(rgb[y0:y1, x0:x1])
        return closer_look([dataclasses.replace(ln, cx=ln.cx + x0, cy=ln.cy + y0) for ln in finer], lines)

    def cut_lines(self, rgb: np.ndarray, lines: list[LineBox]) -> list[LineBox]:
        """Lines the frame cuts that ``lines`` lack: found in the image set in a border, where a line that
        runs off the image ends on plain ground; those that reach the frame and that no line of ``lines``
        meets."""
        if self.cfg.frame_pad <= 0:
            return []
        h, w = rgb.shape[:2]
        big, (dx, dy) = in_border(rgb, self.cfg.frame_pad)
        moved = [dataclasses.replace(ln, cx=ln.cx - dx, cy=ln.cy - dy) for ln in self._detect(big)]
        return [ln for ln in moved if reaches_frame(ln, w, h, margin=self.cfg.frame_margin)
                and not any(ln.meets(other) for other in lines)]

    def deskewed(self, rgb: np.ndarray, line: LineBox) -> LineBox:
        """``line`` turned to the angle its paint runs at (``cfg.deskew_span``; itself where that is off)."""
        if self.cfg.deskew_span <= 0:
            return line
        fit = fit_line(rgb, line.quad(), span_deg=self.cfg.deskew_span, min_gain=self.cfg.deskew_gain,
                       gain_per_deg=self.cfg.deskew_gain_per_deg, min_turn_deg=self.cfg.deskew_min_turn,
                       rise=self.cfg.deskew_rise)
        return dataclasses.replace(line, angle_rad=line.angle_rad + fit.turn) if fit.turn else line

    def _turn_unsure(self, rgb: np.ndarray, lines: list[LineBox], best: list[Look | None], seen: list[list[Look]],
                     ways: list[int], n: int) -> None:
        """The first ``n`` lines, where read unsurely (``cfg.deskew_below``), looked at again turned to their
        paint's angle: the turned box, its look and pool replace the line's where it reads likelier (in place)."""
        todo = [(i, turned) for i, ln in enumerate(lines[:n])
                if (best[i] is None or best[i].mean_char_prob < self.cfg.deskew_below)
                and (turned := self.deskewed(rgb, ln)) is not ln]
        looks = self._looks(rgb, [t for _, t in todo], [ways[i] for i, _ in todo]) if todo else ([], [], [])
        for (i, turned), b, pool in zip(todo, *looks[:2]):
            if b is not None and (best[i] is None or b.mean_char_prob > best[i].mean_char_prob):
                lines[i], best[i], seen[i] = turned, b, pool

    def _detect(self, rgb: np.ndarray) -> list[LineBox]:
        x, box = letterbox(rgb, self.side)
        out = self.detector(x[None])[0]
        return decode_lines(out, box, threshold=self.cfg.threshold, max_lines=self.cfg.max_lines)

    def read(self, rgb: np.ndarray, heads: Sequence[Ellipse] = ()) -> list[LineRead]:
        """Every painted line's read; lines lying wholly on one of the case heads ``heads`` (rims) are the
        headstamp's text, read as such, and are left unread here."""
        lines = self.detect(rgb)
        cut = self.cut_lines(rgb, lines)
        up_front = self.cfg.deskew_below == math.inf
        lines, cut = ([self.deskewed(rgb, ln) if up_front else ln for ln in group if not on_a_head(ln.quad(), heads)]
                      for group in (lines, cut))
        n_first, lines = len(lines), lines + cut
        n_base = len(lines)
        views = [ln.lengthened(by) for by in self.cfg.views for ln in lines]
        first_look = [k < n_first for k in range(len(lines))] * (1 + len(self.cfg.views))
        lines = lines + views
        if not lines:
            return []
        best, seen, ways = self._looks(rgb, lines)
        if self.cfg.extend_by > 0:
            longer = [ln.lengthened(self.cfg.extend_by) for ln in lines]
            for k, (ln, b, pool) in enumerate(zip(longer, *self._looks(rgb, longer, ways)[:2])):
                if best[k] is not None and b is not None and extends(best[k].beams[0], b.beams[0],
                                                                     sure=self.cfg.extend_sure):
                    lines[k], best[k], seen[k] = ln, b, pool
        if not up_front:
            self._turn_unsure(rgb, lines, best, seen, ways, n_base)
        unsure = [i for i, b in enumerate(best[:n_base])  # jittered looks count only in a pool
                  if self.cfg.pool and b is not None and b.mean_char_prob < self.cfg.jitter_below]
        jittered = [dataclasses.replace(lines[i], half_h=lines[i].half_h * hs).lengthened(by)
                    for hs, by in self.cfg.jitter for i in unsure]
        again = unsure * len(self.cfg.jitter)
        for i, pool in zip(again, self._looks(rgb, jittered, [ways[i] for i in again])[1]):
            seen[i] += pool
        reads = [None if b is None else self._line(ln, b, pool if self.cfg.pool else [b])
                 for ln, b, pool in zip(lines, best, seen)]
        kept = [(ln, r) for ln, r, first in zip(lines, reads, first_look) if r is not None and not self._noise(r)
                and (first or r.mean_char_prob >= self.cfg.frame_readable)]
        return _label_lot(_merge_duplicates([ln for ln, _ in kept], [r for _, r in kept]))

    def _looks(self, rgb: np.ndarray, lines: list[LineBox], ways: list[int] | None = None
               ) -> tuple[list[Look | None], list[list[Look]], list[int]]:
        """Per line, its likeliest look the way up it is read (None when it reads as nothing), its pool (on each
        colour axis, the look of the way up that read likelier), and that way up: each line flattened both ways up
        on each colour axis (a further axis only while the best read so far is unsure, ``colour_retry_below``);
        the way up is ``ways``' when given, else the one its marking favours (``shared_ways``, when
        ``cfg.shared_ways``) or its own likelier one."""
        if not lines:
            return [], [], []
        h, w = self.input_hw
        quads = [(q, turn_quad(q)) for q in (ln.quad() for ln in lines)]  # both ways up: angle known mod 180 deg
        if self.colour:
            axes = [[flatten_line_colours(rgb, q, height_px=h, width_px=w, axes=self.cfg.colour_axes) for q in pair]
                    for pair in quads]  # [line][way][axis]
        else:
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            axes = [[[flatten_line(gray, q, height_px=h, width_px=w)] for q in pair] for pair in quads]
        # lines read unsurely look again on the next colour axis; when every line is to, all axes in one batch
        n_axes, retry = len(axes[0][0]), self.cfg.colour_retry_below
        rounds = [list(range(n_axes))] if retry == math.inf else [[k] for k in range(n_axes)]
        best: list[list[Look | None]] = [[None, None] for _ in lines]  # [line][way]
        seen: list[list[Look]] = [[] for _ in lines]  # per axis, the look of the way up that read likelier
        for ks in rounds:
            todo = [(i, k) for i, b in enumerate(best) if (top := _likeliest(b)) is None
                    or top.mean_char_prob < retry for k in ks]
            looks = self._both_ways([quads[i] for i, _ in todo], [[way[k] for way in axes[i]] for i, k in todo])
            for (i, _), pair in zip(todo, looks):
                if (b := _likeliest(pair)) is not None:
                    seen[i].append(b)
                for way, b in enumerate(pair):
                    if b is not None and (best[i][way] is None or b.beams[0][1] > best[i][way].beams[0][1]):
                        best[i][way] = b
        if ways is None:
            lean = [_lean(b) for b in best]
            ways = shared_ways(lines, lean) if self.cfg.shared_ways else [int(x < 0) for x in lean]
        # a line that reads nothing its marking's way up keeps its own way's read
        ways = [way if b[way] is not None else 1 - way for way, b in zip(ways, best)]
        return [b[way] for way, b in zip(ways, best)], seen, ways

    def _noise(self, line: LineRead) -> bool:
        return is_noise(line, weak_detection=self.cfg.weak_detection, unreadable=self.cfg.unreadable)

    def _both_ways(self, quads: list[tuple[np.ndarray, np.ndarray]],
                   strips: list[list[np.ndarray]]) -> list[tuple[Look | None, Look | None]]:
        """Each line's strips (one per way up) recognised in one batch; per line its :meth:`_ways`."""
        h, w = self.input_hw
        x = strips_to_input([s for per in strips for s in per], height_px=h, width_px=w)
        logits = self.net.batched(x, self.cfg.batch)
        return [self._ways(pair, logits[2 * k: 2 * k + 2]) for k, pair in enumerate(quads)]

    def _ways(self, quads: tuple[np.ndarray, np.ndarray], logits: np.ndarray) -> tuple[Look | None, Look | None]:
        """The beams, quad and posteriors of each way up, None for a way whose reads are all empty (the recognizer
        reads an upside-down line as nothing)."""
        out = []
        for quad, lg in zip(quads, logits):
            probs = softmax(lg)
            beams = [b for b in beam_search(probs, beam=self.cfg.beam, prune=self.cfg.prune) if b[0]]
            out.append(Look(beams, quad, probs) if beams else None)
        return out[0], out[1]

    def _line(self, ln: LineBox, look: Look, pooled: tuple[Look, ...] | list[Look] = ()) -> LineRead:
        """A line's read from the beams of its chosen look (and of the ``pooled`` looks, scored under their
        posteriors' mixture), rescored with the lot prior."""
        beams, quad, probs = look
        if self.cfg.lot_prior is None:
            ranked = [(decode_line(k), math.log(max(p, 1e-30))) for k, p, *_ in beams]
        else:
            others = [lk for lk in pooled if lk is not look]
            texts = [decode_line(k) for lk in [look, *others] for k, *_ in lk.beams]
            ranked = rescore_line([probs] + [lk.probs for lk in others], texts, self.cfg.lot_prior) or \
                [(decode_line(beams[0][0]), 0.0)]
        cands = tuple(TextCandidate(t, p) for t, p in
                      shares(((normalise_marking(raw)[0], score) for raw, score in ranked), self.cfg.n_best))
        raw = ranked[0][0]
        if raw == decode_line(beams[0][0]):
            char_probs = beams[0][2]
        else:  # a read the prior preferred: its characters' probabilities from its best alignment
            char_probs = ctc_align(probs, encode_line(raw))[0]
        text, circled = normalise_marking(raw)
        return LineRead("text", tuple((float(x), float(y)) for x, y in quad), text, tuple(char_probs), cands,
                        circled, detection_score=ln.score)


def _likeliest(pair: Sequence[Look | None]) -> Look | None:
    """The look of a line's two ways up whose likeliest read is likelier (None when neither reads anything)."""
    looks = [b for b in pair if b is not None]
    return max(looks, key=lambda b: b.beams[0][1]) if looks else None


def _lean(pair: Sequence[Look | None], floor: float = 1e-4) -> float:
    """A line's evidence for its way 0 over way 1: the log ratio of their likeliest reads' probabilities (a way
    that reads nothing counts as ``floor``)."""
    p0, p1 = (max(b.beams[0][1], floor) if b is not None else floor for b in pair)
    return math.log(p0) - math.log(p1)


def is_noise(line: LineRead, *, weak_detection: float, unreadable: float) -> bool:
    """Whether a read line is not worth reporting: weakly detected and unreadable (mean character probability
    under ``unreadable``), or its best read holds no letter or digit (a lone ``-`` or ``()``: on 360 fresh
    renders, 180 video frames with no painted line and 180 markings, all six such reads were false lines on the
    frames' backgrounds)."""
    weak = line.detection_score < weak_detection and line.mean_char_prob < unreadable
    return weak or not line.has_letter_or_digit


def extends(short: Beam, longer: Beam, *, sure: float) -> bool:
    """Whether a longer box's read holds a line's read whole and adds characters only at its ends, each at
    least ``sure`` (beams as from :func:`beam_search`: classes first, per-class probabilities third)."""
    a, b = short[0], longer[0]
    if not a or len(b) <= len(a):
        return False
    for i in range(len(b) - len(a) + 1):
        if b[i:i + len(a)] == a:
            added = longer[2][:i] + longer[2][i + len(a):]
            return min(added) >= sure
    return False


def in_border(rgb: np.ndarray, frac: float) -> tuple[np.ndarray, tuple[int, int]]:
    """The image set in a border of ``frac`` of its width and height on each side, in its edges' median
    colour, so that a line cut by the frame ends on plain ground; and the image's offset (dx, dy) in it."""
    h, w = rgb.shape[:2]
    dx, dy = round(frac * w), round(frac * h)
    edges = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])  # (2W + 2H, 3)
    colour = [float(c) for c in np.median(edges, axis=0)]
    return cv2.copyMakeBorder(rgb, dy, dy, dx, dx, cv2.BORDER_CONSTANT, value=colour), (dx, dy)


def reaches_frame(line: LineBox, width: int, height: int, *, margin: float) -> bool:
    """Whether a line's box ends within ``margin`` of a side of the image (or beyond it)."""
    q = line.quad()
    return bool(q[:, 0].min() < margin * width or q[:, 0].max() > (1 - margin) * width
                or q[:, 1].min() < margin * height or q[:, 1].max() > (1 - margin) * height)


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


def closer_look(finer: list[LineBox], first: list[LineBox]) -> list[LineBox]:
    """The magnified look's lines, then every first-look line that none of them meets (one the closer look
    lost, such as a faint lot line between two strong ones)."""
    return finer + [ln for ln in first if not any(ln.meets(f) for f in finer)]


def _merge_duplicates(lines: list[LineBox], reads: list[LineRead]) -> list[LineRead]:
    """One read per painted line: detections centred on the same line are pooled, their candidates' mass summed
    by text (a candidate holding no letter or digit, never reported alone (:func:`is_noise`), does not compete);
    the line keeps the geometry and character probabilities of the member that read the winner."""
    groups: list[list[int]] = []
    for k in sorted(range(len(reads)), key=lambda k: -lines[k].score):
        for g in groups:
            if any(lines[j].meets(lines[k]) for j in g):
                g.append(k)
                break
        else:
            groups.append([k])
    out = []
    for g in groups:
        mass: dict[str, float] = {}
        for k in g:
            for c in reads[k].candidates:
                if holds_letter_or_digit(c.text):
                    mass[c.text] = mass.get(c.text, 0.0) + c.score / len(g)
        if not mass:  # only bare candidates: the first member's read as it stands
            out.append(reads[g[0]])
            continue
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
    a separator; never an item designation or calibre (``9M111M``, ``60MM HE``), nor a date, hazard division,
    UN number, count or weight (``22.7.79``, ``1.2E``, ``UN 0182``, ``6 PCS``)."""
    def rank(r: LineRead) -> tuple:
        digits = sum(c.isdigit() for c in r.text)
        return (parse_lot(r.text).format is not None, not (is_designation(r.text) or is_other_line(r.text)),
                digits >= 3 and any(c in r.text for c in "-/ "), digits)

    if not reads:
        return reads
    best = max(range(len(reads)), key=lambda k: rank(reads[k]))
    if sum(c.isdigit() for c in reads[best].text) < 2 or rank(reads[best])[:2] == (False, False):
        return reads
    r = reads[best]
    parsed = parse_lot(r.text, circled_factory=r.circled_factory)
    lot = dataclasses.replace(r, kind="lot", format=parsed.format, fields=tuple(parsed.fields.items()))
    return [lot if k == best else x for k, x in enumerate(reads)]
