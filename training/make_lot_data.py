"""Render painted-marking scenes into two shards: line strips for the lot recognizer and letterboxed images
with line quads for the line detector (one render feeds both).

    python -m training.make_lot_data --seed 21 --count 6000 --out cache/lots_21

``--circled 0.5`` makes half the lot lines circled-factory ones (the rarest and hardest format); ``--in-frame 0.5``
puts half the markings into wider photos or video frames on busy backgrounds (see ``datasets.lots.in_frame``).
Strips are cut as the reader cuts them, from the colours projected on their principal axis
(``model.rectify.lines.flatten_line_rgb``; the shards of seeds up to 44 were cut from luminance).
``--detected`` cuts the strips where the shipped line detector finds the lines (the reader's real input)
instead of round jittered true quads: a detection that frames a true line (``model.detection.lines.frames``)
gives that line's strip, turned to the true way up; one on no true line gives a strip with an empty target
(``--false`` of them are kept); one that frames a line only loosely is skipped, its right read unknown.
``--close 0.3`` crops 30 % of the photos at their sides to their lines (``datasets.lots.framed_close``: every line
whole, the longest reaching the photo's edge).
``--glyph-cut 0.5`` crops half the photos that are neither close-cropped nor in a wider frame through their
outermost glyphs (``datasets.lots.glyph_cut``: up to 0.4 of a glyph lost to the frame, the target still the whole
text), as a close-up taken a little too tight shows a line.
``--soft 0.5`` leaves half the photos out of focus or low in resolution, then re-compressed
(``datasets.lots.soften_marking``: a blur of 0.04-0.13 line heights, or lines shrunk to 7-14 pixels high and
enlarged back), as phone photos taken in a hurry and video stills show markings.
``--varied 0.5`` composes about half the nomenclature and other lines of half the scenes from parts (calibres,
designation prefixes and suffixes, counts and weights with any number) and lets their lots take the factory/year
form with a three-digit factory (``datasets.lot_text``), so that the recognizer reads characters, not listed words.
``--whole-circle 0.5`` draws half the scenes' double circles whole, round the first field and over the lines around
it, as stencilled on real munitions, where by default the circle is kept within its line's own band; either way
the line's quad holds the circle's band (from its outer arc, half a line height above and below the text).
``--more-fonts 0.5`` draws half the scenes' lines from more typefaces (``datasets.lots.MORE_FONT_NAMES``:
Liberation's sans, narrow, mono and serif and Roboto, whose 1 has no foot) where by default five DejaVu faces draw
them.
``--faded 0.3`` fades one end of the lot line in 30 % of the scenes (``datasets.lots.fade_end``); ``--loose 0.5``
also cuts half of the true lines from their jittered quad made 0-1 line heights longer at each end (strips with
plain or faded ground beyond the text, as a box longer than the line gives; their target is the line's text).
``--tilted 0.5`` turns half the markings a further 5-45 degrees either way (``--tilt-range LO HI``; a photo taken
askew, ``render_marking(tilt=...)``, drawn from a stream of its own), where by default lines lie within a few
degrees of level.
``--rusty 0.3`` rusts the metal surface and its paint in 30 % of the scenes (``render_marking(rust=...)``:
blooms where the paint has lifted, pitting and runs streaking down; wooden crates stay as they were), drawn from a
stream of its own.
``--small 0.5`` renders half the markings 320 pixels wide, the renderer's smallest photo (by default each draws one
of 320, 400, 480 and 640): blur, noise, JPEG blocks and lost resolution then cost a line more of its pixels, and
the shipped reader reads fewer of them (``bench/lots.py --width``). Which markings are small is drawn from a stream
of its own, but a small marking is another scene (its width is not drawn), and none is drawn when off.
``--stamp-faces 0.4`` draws 40 % of the scenes' lines in the bundled Google faces (``datasets.fonts.STAMP_FACES``:
condensed, mono, squared and slab designs; ``bench/lots.py --faces held`` reads lines in families none of this
draws), chosen from a stream of its own.
``--debian-faces 0.4`` draws 40 % of the scenes' lines in the faces bundled from Debian's font packages
(``datasets.fonts.DEBIAN_FACES``, 28 families, none held out), from a stream of its own and in place of
``--stamp-faces``' draw for that scene.
``--restyled 0.5`` restyles half the scenes' type (``datasets.glyphs.draw_style``: strokes grown or thinned, lines
widened or narrowed and slanted), drawn from a stream of its own: the scenes are otherwise those without it.
Each shard is written under a temporary name and then renamed, ``lines.npz`` last, so a trainer watching the
folder (``training.lot_recognizer --watch``) never reads half a shard.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from datasets.fonts import DEBIAN_FACES, STAMP_FACES
from datasets.glyphs import draw_style
from datasets.lot_text import GENERATORS, LotText
from datasets.lots import LEVELS, WIDTHS, draw_tilt, framed_close, glyph_cut, in_frame, render_marking, soften_marking
from model.detection.heads import letterbox
from model.detection.lines import LineBox, frames
from model.lot_reader import LotReader
from model.rectify.lines import flatten_line_rgb, quad_axes, quad_size, turn_quad
from training.watch import save_shard

DET_SIDE = 384
SMALL_WIDTH = min(WIDTHS)  # --small markings: the smallest photo the renderer draws
STRIP_H, STRIP_W = 32, 320


def target_text(text: str, circled_factory: bool) -> str:
    """A line's recognizer target: a circled factory code is written ``((10))``."""
    if not circled_factory:
        return text
    head, rest = text.split("-", 1)
    return f"(({head}))-{rest}"


def jitter_quad(quad: np.ndarray, rng: np.random.Generator, *, length_sd: float = 0.05) -> np.ndarray:
    """A quad as an imperfect detector would report it: corners off by ~8 % of the line height, and the line
    up to ~12 % too long or too short (the shipped line detector's length error on renders is 5-10 % at the
    10th and 90th percentiles)."""
    _, h = quad_size(quad)
    q = np.asarray(quad, np.float32)
    centre = q.mean(0)
    along, _ = quad_axes(q)
    stretch = float(np.clip(rng.normal(1.0, length_sd), 0.88, 1.12)) if length_sd else 1.0
    q = q + np.outer((q - centre) @ along * (stretch - 1), along)
    return (q + rng.normal(0, 0.08 * h, q.shape)).astype(np.float32)


def detected_quads(lines: list[LineBox], truths: list[tuple[np.ndarray, str]], rng: np.random.Generator, *,
                   false_share: float) -> list[tuple[np.ndarray, str]]:
    """(quad, target) for the detections: the text of the true line a detection frames, its quad turned to that
    line's way up; an empty target for a detection lying on no true line (kept with probability
    ``false_share``); loosely framed lines are left out."""
    out = []
    for ln in lines:
        quad = ln.quad()
        hit = next(((q, t) for q, t in truths if frames(ln, q)), None)
        if hit is not None:
            if float(quad_axes(quad)[0] @ quad_axes(hit[0])[0]) < 0:
                quad = turn_quad(quad)
            out.append((quad, hit[1]))
            continue
        on_truth = any(ln.meets(LineBox.of_quad(q), across=1.0) for q, _ in truths)
        if not on_truth and rng.random() < false_share:
            out.append((quad, ""))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=6000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--circled", type=float, default=0.0, help="share of scenes forced to a circled factory code")
    ap.add_argument("--in-frame", type=float, default=0.0, help="share of markings set into a wider frame")
    ap.add_argument("--lines-only", action="store_true", help="skip the detector shard (recognizer data only)")
    ap.add_argument("--detected", action="store_true", help="cut strips where the shipped line detector finds them")
    ap.add_argument("--false", type=float, default=0.3, help="share of false detections kept (with --detected)")
    ap.add_argument("--faded", type=float, default=0.0, help="share of scenes with one end of the lot line faded")
    ap.add_argument("--close", type=float, default=0.0,
                    help="share of photos cropped at the sides to their lines")
    ap.add_argument("--glyph-cut", type=float, default=0.0,
                    help="share of the photos not in a wider frame cropped through their outermost glyphs")
    ap.add_argument("--loose", type=float, default=0.0, help="share of true lines also cut from a longer quad")
    ap.add_argument("--soft", type=float, default=0.0,
                    help="share of photos out of focus or low in resolution (datasets.lots.soften_marking)")
    ap.add_argument("--varied", type=float, default=0.0,
                    help="share of scenes whose nomenclature and other lines are partly composed from parts "
                         "(render_marking(varied=True))")
    ap.add_argument("--more-fonts", type=float, default=0.0,
                    help="share of scenes whose lines are drawn from more typefaces "
                         "(render_marking(more_fonts=True))")
    ap.add_argument("--whole-circle", type=float, default=0.0,
                    help="share of scenes whose circled factory code's double circle is drawn whole, over the "
                         "lines around it (render_marking(whole_circle=True))")
    ap.add_argument("--tilted", type=float, default=0.0, help="share of markings turned further (a photo askew)")
    ap.add_argument("--tilt-range", type=float, nargs=2, default=(5.0, 45.0), metavar=("LO", "HI"),
                    help="degrees either way a --tilted marking is turned")
    ap.add_argument("--rusty", type=float, default=0.0, help="share of scenes whose metal surface is rusted")
    ap.add_argument("--small", type=float, default=0.0, help="share of markings rendered 320 pixels wide")
    ap.add_argument("--stamp-faces", type=float, default=0.0,
                    help="share of scenes whose lines are drawn in the bundled Google faces "
                         "(datasets.fonts.STAMP_FACES)")
    ap.add_argument("--debian-faces", type=float, default=0.0,
                    help="share of scenes whose lines are drawn in datasets.fonts.DEBIAN_FACES (in place of "
                         "--stamp-faces' draw)")
    ap.add_argument("--restyled", type=float, default=0.0,
                    help="share of scenes whose type is restyled (datasets.glyphs: strokes grown or thinned, lines "
                         "widened or narrowed and slanted)")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    soft_rng = np.random.default_rng([a.seed, 1])
    tilt_rng = np.random.default_rng([a.seed, 2])
    rust_rng = np.random.default_rng([a.seed, 3])
    small_rng = np.random.default_rng([a.seed, 4])
    faces_rng = np.random.default_rng([a.seed, 5])
    style_rng = np.random.default_rng([a.seed, 6])
    debian_rng = np.random.default_rng([a.seed, 7])
    reader = LotReader.from_bundles(threads=1) if a.detected else None
    strips, texts, det_pixels, det_quads = [], [], [], []
    for _ in range(a.count):
        level = str(rng.choice(LEVELS, p=[0.4, 0.35, 0.25]))
        lot = None
        if rng.random() < a.circled:
            lot = LotText(GENERATORS["circled-factory-lot-year"](rng), True, "circled-factory-lot-year")
        faded = a.faded > 0 and rng.random() < a.faded  # (no draw when off: older seeds' shards stay the same)
        varied = a.varied > 0 and rng.random() < a.varied  # (no draw when off, as above)
        whole = a.whole_circle > 0 and rng.random() < a.whole_circle  # (no draw when off, as above)
        fonts = a.more_fonts > 0 and rng.random() < a.more_fonts  # (no draw when off, as above)
        tilted = tilt_rng.random() < a.tilted  # a stream of its own, as --soft's
        tilt = draw_tilt(tilt_rng, *a.tilt_range) if tilted else 0.0
        rusty = rust_rng.random() < a.rusty  # a stream of its own, as --soft's
        small = small_rng.random() < a.small  # a stream of its own, as --soft's
        faces = STAMP_FACES if faces_rng.random() < a.stamp_faces else ()  # a stream of its own, as --soft's
        faces = DEBIAN_FACES if debian_rng.random() < a.debian_faces else faces  # its own stream, as above
        style = draw_style(style_rng) if style_rng.random() < a.restyled else None  # its own, as --soft's
        scene = render_marking(rng, level=level, lot=lot, faded_end=faded, varied=varied, whole_circle=whole,
                               more_fonts=fonts, tilt=tilt, rust=rust_rng if rusty else None,
                               width=SMALL_WIDTH if small else None, faces=faces, style=style)
        if a.close > 0 and rng.random() < a.close:  # (no draw when off: older seeds' shards stay the same)
            scene = framed_close(scene, rng)
        elif rng.random() < a.in_frame:
            scene = in_frame(scene, rng)
        elif a.glyph_cut > 0 and rng.random() < a.glyph_cut:  # (no draw when off, as above)
            scene = glyph_cut(scene, rng)
        if soft_rng.random() < a.soft:  # a stream of its own: the same scenes with or without --soft
            scene = soften_marking(scene, soft_rng)
        truths = [(line.quad, target_text(line.text, line.circled_factory)) for line in scene.lines]
        if reader is not None:
            cuts = detected_quads(reader.detect(scene.rgb), truths, rng, false_share=a.false)
        else:
            cuts = [(jitter_quad(q, rng), t) for q, t in truths]
        cuts += [(LineBox.of_quad(jitter_quad(q, rng)).lengthened(float(rng.uniform(0, 1))).quad(), t)
                 for q, t in truths if a.loose > 0 and rng.random() < a.loose]
        for quad, text in cuts:
            strips.append(flatten_line_rgb(scene.rgb, quad, height_px=STRIP_H, width_px=STRIP_W))
            texts.append(text)
        if a.lines_only:
            continue
        x, box = letterbox(scene.rgb, DET_SIDE)
        det_pixels.append(((x.transpose(1, 2, 0) + 0.5) * 255).round().astype(np.uint8))
        det_quads.append([(line.quad * box.scale + [box.pad_x, box.pad_y]).round(2).tolist() for line in scene.lines])
    if not a.lines_only:
        save_shard(a.out / "scenes.npz", pixels=np.stack(det_pixels), quads=json.dumps(det_quads))
    save_shard(a.out / "lines.npz", pixels=np.stack(strips), texts=np.array(texts))  # last: a watcher's signal


if __name__ == "__main__":
    main()
