"""Painted lot markings on fresh renders (never the evaluation set): lines found, lot lines read exactly.

    python bench/lots.py [--detector DIR] [--recognizer DIR] [--n 30] [--seed 606] [--faded] [--camouflage]
                         [--no-zoom] [--views BY ...] [--extend BY] [--extend-sure P] [--colour-axes N]
                         [--colour-retry-below P] [--no-pool] [--jitter H BY ...] [--jitter-below P]
                         [--close | --glyph-cut] [--blur F | --soft] [--varied] [--whole-circles] [--more-fonts]
                         [--faces stamp|held] [--tilt LO HI] [--rusty] [--width PX] [--deskew DEG]
                         [--deskew-min-turn DEG] [--n-best N] [--misreads]
                         [--craft | --cut]

Scenes per level from ``datasets.lots.render_marking``: markings filling the photo (as in close-ups), markings
set into a wider 960x540 or 640x480 frame (``in_frame``, as in video stills and scene photos), and markings whose
lot has a double-circled factory code. A line is found when a detection's centre lies within its half-height of
the true line and its length is within 30 %; it is framed tightly when the strongest detection on it is centred
within 10 % of its half-length, as long within 10 % and as high within 25 %; the other lines (nomenclature,
counts, weights) are read exactly when some read of the photo holds that text. Bundles default to the shipped
ones. ``--craft`` instead compares the lines found by our detector with those of EasyOCR's CRAFT text detector
(its offline English package's weights, its own word-to-line merging) on the same scenes. ``--cut`` reads
markings whose lot line runs off both sides of the photo (``tight_photo``: 8-20 % of it lost on the left, 5-15 %
on the right) with and without the look at the image set in a border: a lot read counts as found when it lies on
the true lot line, and as right in the middle when it holds the lot's fourth to sixth characters. ``--faded``
fades one end of every lot line (``datasets.lots.fade_end``); ``--views`` sets the reader's longer views of each
line (``LotReaderConfig.views``), ``--extend`` and ``--extend-sure`` its longer box whose read replaces a line's
when it only adds sure characters at the ends (``LotReaderConfig.extend_by``, ``extend_sure``); ``--colour-axes
1`` reads each line on its colours' first principal axis only (the reader's default also reads the second,
``LotReaderConfig.colour_axes``), ``--colour-retry-below P`` reads a line on the second only when its best read
on the first has a mean character probability under P; ``--no-pool`` keeps the likeliest look's reads under its
own posteriors instead of scoring every look's reads under their mixture (``LotReaderConfig.pool``), ``--jitter``
sets the (height factor, line heights more at each end) pairs of the boxes an unsure line is read in again
(``LotReaderConfig.jitter``; ``--jitter`` alone: none) and ``--jitter-below P`` which lines are unsure;
``--blur F`` puts every photo out of focus by F of its line height (``datasets.lots.blurred``), ``--soft`` softens
each as ``make_lot_data --soft`` does (``datasets.lots.soften_marking``, drawn from a stream of its own, so the
scenes are those of the plain run); ``--varied`` draws every scene's texts as ``make_lot_data --varied`` does (half the
nomenclature and other lines composed from parts, lots also in the factory/year form with a three-digit factory;
``datasets.lot_text``); ``--whole-circles`` draws the double circles of the circled scenes' lots whole,
round the first field and over the lines around it (``make_lot_data --whole-circle``; a circled lot drawn in the
other scenes keeps the default circle); ``--more-fonts`` draws every scene's lines from more typefaces
(``make_lot_data --more-fonts``: Liberation's and Roboto's too); ``--faces held`` draws them in bundled Google
faces of families no training draws (``datasets.fonts.HELD_OUT_FACES``; ``stamp``: ``STAMP_FACES``);
``--camouflage`` puts every marking on a surface in woodland camouflage
(``datasets.lots.camouflage``); ``--close`` crops every photo that the marking fills at its sides to its lines
(``datasets.lots.framed_close``: the lines whole, the longest reaching the photo's edge); ``--glyph-cut`` crops
it through its outermost glyphs instead (``datasets.lots.glyph_cut``: up to 0.4 of a glyph lost to the frame,
the lot still counted whole). ``--tilt LO HI`` turns every marking a further LO to HI degrees either way (a photo
taken askew: ``render_marking(tilt=...)``, drawn from a stream of its own, so the scenes are otherwise those of the
plain run); ``--rusty`` rusts every metal surface and the paint on it (``render_marking(rust=...)``, more by
level, from a stream of its own; wooden crates stay as they were); ``--width PX`` renders every marking PX
pixels wide (the renderer's smallest, 320, is a small photo; by default each scene draws one of 320-640, so
these are other scenes than the plain run's); ``--deskew 0`` reads each line at the angle
the detector gave it, where by default the reader looks again at each line it reads unsurely along the angle
its paint runs at (``LotReaderConfig.deskew_span``; ``--deskew-below P`` which lines are unsure, inf: every line
turned before it is read; ``--deskew-min-turn`` the least turn kept).
``--misreads`` lists each lot not read exactly after the table: the painted lot, the
lot read (or none) with its first candidates, and the other lines read.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets.fonts import FACE_SETS  # noqa: E402
from datasets.lot_text import GENERATORS, LotText  # noqa: E402
from datasets.lots import (  # noqa: E402
    LEVELS,
    WIDTHS,
    MarkingScene,
    blurred,
    draw_tilt,
    framed_close,
    glyph_cut,
    in_frame,
    render_marking,
    soften_marking,
    tight_photo,
)
from model.bundle import LINE_DETECTOR, LINE_RECOGNIZER, load_bundle  # noqa: E402
from model.detection.lines import LineBox, box_of_quad, frames  # noqa: E402
from model.lot_reader import LotReader, LotReaderConfig  # noqa: E402
from model.runtime import OnnxNet  # noqa: E402

SETTINGS = ("filling", "in frame", "circled")


def scene_for(setting: str, rng: np.random.Generator, level: str, *, faded: bool = False,
              camo: bool | None = None, close: bool = False, cut_glyphs: bool = False,
              varied: bool = False, whole_circle: bool = False, more_fonts: bool = False,
              tilt: float = 0.0, rust: np.random.Generator | None = None, width: int | None = None,
              faces: tuple[str, ...] = ()) -> MarkingScene:
    if setting == "circled":
        lot = LotText(GENERATORS["circled-factory-lot-year"](rng), True, "circled-factory-lot-year")
        scene = render_marking(rng, level=level, lot=lot, faded_end=faded, camo=camo, varied=varied,
                               whole_circle=whole_circle, more_fonts=more_fonts, tilt=tilt, rust=rust, width=width,
                               faces=faces)
    else:
        scene = render_marking(rng, level=level, faded_end=faded, camo=camo, varied=varied, more_fonts=more_fonts,
                               tilt=tilt, rust=rust, width=width, faces=faces)
    if setting == "in frame":
        return in_frame(scene, rng)
    if cut_glyphs:
        return glyph_cut(scene, rng)
    return framed_close(scene, rng) if close else scene


def other_read(text: str, reads) -> bool:
    """Whether a line other than the lot (nomenclature, count, weight) is among the reads, exactly."""
    return any(r.text == text for r in reads)


def found(truth_quad: np.ndarray, lines) -> bool:
    cx, cy, half_len, half_h, _ = box_of_quad(truth_quad)
    return any(ln.contains(cx, cy, across=1.0) and abs(ln.half_len / half_len - 1) < 0.3 for ln in lines)


def tight(truth_quad: np.ndarray, lines) -> bool:
    """Whether the line's strongest detection frames it closely enough to read it whole (``frames``)."""
    cx, cy, *_ = box_of_quad(truth_quad)
    on = [ln for ln in lines if ln.contains(cx, cy, across=1.0)]
    return bool(on) and frames(max(on, key=lambda b: b.score), truth_quad)


def craft_detector(threads: int):
    """EasyOCR's CRAFT as a line finder: (RGB) -> LineBoxes from its merged boxes and free quads."""
    import easyocr
    import easyocr_en_models
    import torch

    torch.set_num_threads(threads)
    reader = easyocr.Reader(["en"], gpu=False, model_storage_directory=str(easyocr_en_models.model_dir()),
                            download_enabled=False, recognizer=False, verbose=False)

    def detect(rgb: np.ndarray) -> list[LineBox]:
        horizontal, free = reader.detect(rgb)
        quads = [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32) for x0, x1, y0, y1 in horizontal[0]]
        quads += [np.array(q, np.float32) for q in free[0]]
        return [LineBox(*box_of_quad(q), score=1.0) for q in quads]
    return detect


def compare_craft(reader: LotReader, a: argparse.Namespace) -> None:
    craft = craft_detector(a.threads)
    print("| scenes | level | lines found: ours | CRAFT | ms/image: ours | CRAFT |\n|---|---|---|---|---|---|")
    for setting in SETTINGS:
        for level in LEVELS:
            rng = np.random.default_rng([a.seed, SETTINGS.index(setting), LEVELS.index(level)])
            n_lines, hits, secs = 0, [0, 0], [0.0, 0.0]
            for _ in range(a.n):
                scene = scene_for(setting, rng, level, faded=a.faded, camo=a.camouflage or None, close=a.close,
                                  cut_glyphs=a.glyph_cut, varied=a.varied, whole_circle=a.whole_circles,
                                  more_fonts=a.more_fonts)
                n_lines += len(scene.lines)
                for k, detect in enumerate((reader.detect, craft)):
                    t0 = time.perf_counter()
                    lines = detect(scene.rgb)
                    secs[k] += time.perf_counter() - t0
                    hits[k] += sum(found(t.quad, lines) for t in scene.lines)
            print(f"| {setting} | {level} | {hits[0]}/{n_lines} | {hits[1]}/{n_lines} | {1000 * secs[0] / a.n:.0f} "
                  f"| {1000 * secs[1] / a.n:.0f} |")


def compare_cut(reader: LotReader, a: argparse.Namespace) -> None:
    plain = LotReader(reader.detector, reader.net, dataclasses.replace(reader.cfg, frame_pad=0.0))
    print("| level | lot found: plain look | with the border look | middle right: plain | border |\n"
          "|---|---|---|---|---|")
    for level in LEVELS:
        rng = np.random.default_rng([a.seed, LEVELS.index(level)])
        hits, middle = [0, 0], [0, 0]
        for _ in range(a.n):
            scene = render_marking(rng, level=level)
            cut = tight_photo(scene, rng)
            cx, cy, *_ = box_of_quad(cut.lot.quad)
            for k, r in enumerate((plain, reader)):
                lot = next((x for x in r.read(cut.rgb) if x.kind == "lot"), None)
                on = lot is not None and LineBox.of_quad(np.array(lot.quad)).contains(cx, cy, across=1.0)
                hits[k] += on
                middle[k] += on and cut.lot.text[3:6] in lot.text
        print(f"| {level} | {hits[0]}/{a.n} | {hits[1]}/{a.n} | {middle[0]}/{a.n} | {middle[1]}/{a.n} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--detector", default=LINE_DETECTOR)
    ap.add_argument("--recognizer", default=LINE_RECOGNIZER)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--seed", type=int, default=606)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-zoom", action="store_true", help="no second, magnified look at small markings")
    ap.add_argument("--views", type=float, nargs="*", default=list(LotReaderConfig.views),
                    help="also read each line in boxes these many line heights longer at each end")
    ap.add_argument("--extend", type=float, default=LotReaderConfig.extend_by,
                    help="read each line also in a box this many line heights longer at each end, kept when it "
                         "only adds sure characters at the ends")
    ap.add_argument("--extend-sure", type=float, default=LotReaderConfig.extend_sure)
    ap.add_argument("--colour-axes", type=int, default=LotReaderConfig.colour_axes,
                    help="read each line on this many principal colour axes (LotReaderConfig.colour_axes)")
    ap.add_argument("--colour-retry-below", type=float, default=LotReaderConfig.colour_retry_below,
                    help="read a line on the next colour axis when its best read's mean character probability "
                         "is under this")
    ap.add_argument("--pool", action=argparse.BooleanOptionalAction, default=LotReaderConfig.pool,
                    help="score each line's reads under the mixture of its looks (LotReaderConfig.pool)")
    ap.add_argument("--jitter", type=float, nargs="*", default=[x for pair in LotReaderConfig.jitter for x in pair],
                    help="pairs: height factor, line heights more at each end (LotReaderConfig.jitter)")
    ap.add_argument("--jitter-below", type=float, default=LotReaderConfig.jitter_below,
                    help="jittered boxes only for lines whose best read's mean character probability is under this")
    ap.add_argument("--shared-ways", action=argparse.BooleanOptionalAction, default=LotReaderConfig.shared_ways,
                    help="read a marking's lines one way up, the one they favour together "
                         "(LotReaderConfig.shared_ways)")
    ap.add_argument("--deskew", type=float, default=LotReaderConfig.deskew_span,
                    help="refine each line's angle from its paint within this many degrees (0: as detected; "
                         "LotReaderConfig.deskew_span)")
    ap.add_argument("--deskew-min-turn", type=float, default=LotReaderConfig.deskew_min_turn,
                    help="keep a refined angle only when it turns the box at least this many degrees")
    ap.add_argument("--deskew-below", type=float, default=LotReaderConfig.deskew_below,
                    help="refine only lines read unsurely, under this mean character probability "
                         "(LotReaderConfig.deskew_below; inf: every line before it is read)")
    ap.add_argument("--n-best", type=int, default=LotReaderConfig.n_best,
                    help="candidates kept per line (LotReaderConfig.n_best)")
    ap.add_argument("--misreads", action="store_true",
                    help="also list each lot not read exactly: its text, the lot read and the lot line's candidates")
    ap.add_argument("--craft", action="store_true", help="compare line finding with EasyOCR's CRAFT")
    ap.add_argument("--cut", action="store_true", help="lot lines cut by the frame, with and without the border look")
    ap.add_argument("--faded", action="store_true", help="one end of every lot line faded (datasets.lots.fade_end)")
    cropping = ap.add_mutually_exclusive_group()
    cropping.add_argument("--glyph-cut", action="store_true",
                          help="photos not in a wider frame cropped through their outermost glyphs "
                               "(datasets.lots.glyph_cut)")
    cropping.add_argument("--close", action="store_true", help="photos filled by the marking cropped to its lines")
    ap.add_argument("--varied", action="store_true",
                    help="every scene's texts drawn as make_lot_data --varied draws them (datasets.lot_text)")
    ap.add_argument("--whole-circles", action="store_true",
                    help="the circled scenes' double circles drawn whole, over the lines around them "
                         "(make_lot_data --whole-circle)")
    ap.add_argument("--more-fonts", action="store_true",
                    help="lines drawn from more typefaces (make_lot_data --more-fonts)")
    ap.add_argument("--faces", choices=sorted(FACE_SETS),
                    help="every line drawn in one set of bundled Google faces (datasets.fonts.FACE_SETS; held: "
                         "families no training draws)")
    ap.add_argument("--camouflage", action="store_true", help="every surface in woodland camouflage")
    ap.add_argument("--tilt", type=float, nargs=2, metavar=("LO", "HI"),
                    help="every marking turned a further LO to HI degrees either way (datasets.lots.draw_tilt)")
    ap.add_argument("--rusty", action="store_true",
                    help="every metal surface rusted (datasets.lots.rust_layer; wood is not)")
    ap.add_argument("--width", type=int, choices=WIDTHS,
                    help="every marking rendered this many pixels wide (by default one of these, drawn per scene)")
    softness = ap.add_mutually_exclusive_group()
    softness.add_argument("--blur", type=float, default=0.0,
                          help="every photo out of focus by this share of its line height (datasets.lots.blurred)")
    softness.add_argument("--soft", action="store_true",
                          help="every photo softened as make_lot_data --soft does (datasets.lots.soften_marking)")
    a = ap.parse_args()
    cfg = LotReaderConfig(zoom_gain=math.inf if a.no_zoom else LotReaderConfig.zoom_gain,
                          views=tuple(a.views), extend_by=a.extend, extend_sure=a.extend_sure,
                          colour_axes=a.colour_axes,
                          colour_retry_below=a.colour_retry_below, pool=a.pool, jitter_below=a.jitter_below,
                          jitter=tuple(zip(a.jitter[::2], a.jitter[1::2])), n_best=a.n_best,
                          shared_ways=a.shared_ways, deskew_span=a.deskew,
                          deskew_min_turn=a.deskew_min_turn, deskew_below=a.deskew_below)
    reader = LotReader(OnnxNet(load_bundle(a.detector), threads=a.threads),
                       OnnxNet(load_bundle(a.recognizer), threads=a.threads), cfg)
    print(f"detector {a.detector}, recognizer {a.recognizer}, zoom {'off' if a.no_zoom else 'on'}, "
          f"longer views {cfg.views}, extended by {cfg.extend_by} (sure {cfg.extend_sure}), "
          f"colour axes {cfg.colour_axes} (retry below {cfg.colour_retry_below}, pooled {cfg.pool}), "
          f"jittered boxes {cfg.jitter} (below {cfg.jitter_below}), {cfg.n_best} candidates per line, "
          f"{'a marking read one way up' if cfg.shared_ways else 'each line its own way up'}, "
          f"angles refined within {cfg.deskew_span} degrees (turns from {cfg.deskew_min_turn}, "
          f"lines read under {cfg.deskew_below}), "
          f"{a.n} markings per cell, seed {a.seed}{', lot lines with a faded end' if a.faded else ''}"
          f"{', every surface camouflaged' if a.camouflage else ''}"
          f"{', photos cropped to their lines' if a.close else ''}"
          f"{', photos cropped through their outermost glyphs' if a.glyph_cut else ''}"
          f"{', every photo softened' if a.soft else ''}{f', blurred by {a.blur} line heights' if a.blur else ''}"
          f"{', nomenclature and other lines partly composed (varied)' if a.varied else ''}"
          f"{', double circles drawn whole' if a.whole_circles else ''}"
          f"{', lines drawn from more typefaces' if a.more_fonts else ''}"
          f"{f', lines drawn in the {a.faces} faces' if a.faces else ''}"
          f"{f', turned a further {a.tilt[0]:g}-{a.tilt[1]:g} degrees' if a.tilt else ''}"
          f"{', metal surfaces rusted' if a.rusty else ''}"
          f"{f', markings rendered {a.width} pixels wide' if a.width else ''}\n")
    if a.craft:
        compare_craft(reader, a)
        return
    if a.cut:
        compare_cut(reader, a)
        return
    print("| scenes | level | lines found | framed tightly | lot exact | lot in n-best | circled flag right "
          "| other lines exact | ms/image (read) |")
    print("|---|---|---|---|---|---|---|---|---|")
    missed: list[str] = []
    for setting in SETTINGS:
        for level in LEVELS:
            cell = [a.seed, SETTINGS.index(setting), LEVELS.index(level)]  # the scenes' stream, then one each
            rng, soft_rng, tilt_rng, rust_rng = (np.random.default_rng(cell + more) for more in ([], [1], [2], [3]))
            n_lines = hit_lines = tight_lines = exact = nbest = flag = n_other = other_exact = 0
            secs = 0.0
            for _ in range(a.n):
                scene = scene_for(setting, rng, level, faded=a.faded, camo=a.camouflage or None, close=a.close,
                                  cut_glyphs=a.glyph_cut, varied=a.varied, whole_circle=a.whole_circles,
                                  more_fonts=a.more_fonts, tilt=draw_tilt(tilt_rng, *a.tilt) if a.tilt else 0.0,
                                  rust=rust_rng if a.rusty else None, width=a.width,
                                  faces=FACE_SETS.get(a.faces, ()))
                scene = soften_marking(scene, soft_rng) if a.soft else blurred(scene, a.blur)
                t0 = time.perf_counter()
                reads = reader.read(scene.rgb)
                secs += time.perf_counter() - t0
                lines = reader.detect(scene.rgb)
                n_lines += len(scene.lines)
                hit_lines += sum(found(t.quad, lines) for t in scene.lines)
                tight_lines += sum(tight(t.quad, lines) for t in scene.lines)
                lot = next((r for r in reads if r.kind == "lot"), None)
                truth = scene.lot
                exact += lot is not None and lot.text == truth.text
                if a.misreads and (lot is None or lot.text != truth.text):
                    cands = ", ".join(c.text for c in lot.candidates[:4]) if lot is not None else ""
                    missed.append(f"{setting} {level}: painted {truth.text}; read "
                                  f"{lot.text if lot is not None else 'no lot'} ({cands}); "
                                  f"lines {' | '.join(r.text for r in reads if r.kind != 'lot')}")
                nbest += any(truth.text == c.text for r in reads for c in r.candidates)
                flag += lot is not None and lot.text == truth.text and lot.circled_factory == truth.circled_factory
                others = [t.text for t in scene.lines if t is not truth]
                n_other += len(others)
                other_exact += sum(other_read(t, reads) for t in others)
            print(f"| {setting} | {level} | {hit_lines}/{n_lines} | {tight_lines}/{n_lines} | {exact}/{a.n} "
                  f"| {nbest}/{a.n} | {flag}/{a.n} | {other_exact}/{n_other} "
                  f"| {1000 * secs / a.n:.0f} |")
    if missed:
        print("\n" + "\n".join(missed))


if __name__ == "__main__":
    main()
