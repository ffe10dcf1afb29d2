"""Headstamps on fresh renders (never the evaluation set): crops read exactly and within the n-best, per level.

    python bench/fresh_heads.py [--recognizer DIR] [--n 40] [--seed 4242] [--persian] [--glyph-h LO HI] [--more-fonts]
        [--faces stamp|held] [--thorough]

Single-head crops from ``datasets.scenes.render_crop`` (the shipped case-head detector finds the head); a read
is exact when its segments equal the stamped ones clockwise from any start (star and cross separators aside,
Cyrillic and Persian folded as the matcher does). The recognizer and the detector (``--detector DIR``) default to
the shipped bundles. ``--persian``:
every head Iranian-style (code and Solar Hijri year in Persian digits). ``--glyph-h``: glyph heights drawn from
[LO, HI] of the rim radius instead of the renderer's range (to see how a recognizer reads small stamps).
``--more-fonts``: every head stamped in ``datasets.headstamp.MORE_STAMP_FONTS`` (Roboto, whose 1 has no foot).
``--faces``: every head stamped in the bundled Google faces, ``stamp`` (``datasets.fonts.STAMP_FACES``, which
training may draw) or ``held`` (``HELD_OUT_FACES``, families no training draws: glyph shapes a reader never saw).
``--thorough``: read as ``marktrace --thorough`` does (``model.pipeline.THOROUGH``). ``--set FIELD=VALUE``:
numeric ``ReaderConfig`` fields changed (for trying a reader setting).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets.fonts import FACE_SETS  # noqa: E402
from datasets.headstamp import GLYPH_H, NEAR_RIM, TextPlacement  # noqa: E402
from datasets.sampler import persian_layout  # noqa: E402
from datasets.scenes import LEVELS, render_crop  # noqa: E402
from model.bundle import DETECTOR, RECOGNIZER  # noqa: E402
from model.charset import cyclic_key  # noqa: E402
from model.headstamp_reader import HeadstampReader, ReaderConfig  # noqa: E402
from model.pipeline import THOROUGH  # noqa: E402


def with_fields(cfg: ReaderConfig, pairs: list[str]) -> ReaderConfig:
    """``cfg`` with the numeric fields named in ``FIELD=VALUE`` pairs changed."""
    numeric = {f.name: int if f.type == "int" else float for f in dataclasses.fields(cfg) if f.type in ("int", "float")}
    changes = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in numeric:
            raise SystemExit(f"--set: ReaderConfig has no numeric field {name!r}")
        changes[name] = numeric[name](value)
    return dataclasses.replace(cfg, **changes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--recognizer", default=RECOGNIZER)
    ap.add_argument("--detector", default=DETECTOR, help="case-head detector bundle (name or folder)")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--persian", action="store_true", help="Iranian-style heads only")
    ap.add_argument("--thorough", action="store_true", help="read as marktrace --thorough does")
    ap.add_argument("--rim-scales", type=float, nargs="*", metavar="S",
                    help="with --thorough: the rim scales of the second look (default: THOROUGH's)")
    ap.add_argument("--retry-below", type=float,
                    help="with --thorough: the best read's share under which a head is looked at again")
    ap.add_argument("--misreads", action="store_true", help="also list each crop not read exactly: stamped, read")
    ap.add_argument("--glyph-h", type=float, nargs=2, metavar=("LO", "HI"),
                    help=f"glyph height range, share of the rim radius (renderer: {GLYPH_H})")
    ap.add_argument("--near-rim", action="store_true",
                    help="stamps placed as datasets.headstamp.NEAR_RIM (band out to the rim, text anywhere across it)")
    ap.add_argument("--more-fonts", action="store_true",
                    help="every head stamped in datasets.headstamp.MORE_STAMP_FONTS (Roboto; the [train] extra)")
    ap.add_argument("--faces", choices=sorted(FACE_SETS),
                    help="every head stamped in one set of bundled Google faces (held: families never trained on)")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="numeric ReaderConfig fields to change, e.g. retry_below=0.5 unknown_cost=3")
    a = ap.parse_args()
    text = NEAR_RIM if a.near_rim else TextPlacement()
    glyph_h = tuple(a.glyph_h) if a.glyph_h else GLYPH_H
    cfg = THOROUGH[0] if a.thorough else ReaderConfig()
    if a.thorough and a.rim_scales is not None:
        cfg = dataclasses.replace(cfg, rim_scales=tuple(a.rim_scales))
    if a.thorough and a.retry_below is not None:
        cfg = dataclasses.replace(cfg, retry_below=a.retry_below)
    cfg = with_fields(cfg, a.set)
    reader = HeadstampReader.from_bundles(threads=a.threads, cfg=cfg, recognizer=a.recognizer,
                                          detector=a.detector)
    mode = f" (thorough, rim scales {cfg.rim_scales} under {cfg.retry_below})" if a.thorough else ""
    print(f"recognizer {a.recognizer}, detector {a.detector}{mode}, {a.n} "
          f"{'Persian-digit ' if a.persian else ''}crops per level, seed {a.seed}, "
          f"glyphs {glyph_h} of the rim radius, text {text}, {'Roboto, ' if a.more_fonts else ''}"
          f"{f'{a.faces} faces, ' if a.faces else ''}"
          f"{' '.join(a.set) or 'default reader'}\n")
    print("| level | exact | in n-best | ms/crop |\n|---|---|---|---|")
    missed: list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]] = []
    for level in LEVELS:
        rng = np.random.default_rng([a.seed, LEVELS.index(level)])
        exact = nbest = 0
        secs = 0.0
        for _ in range(a.n):
            segments = persian_layout(rng) if a.persian else None
            scene = render_crop(rng, level=level, size_px=int(rng.choice([128, 160, 224, 288])), segments=segments,
                                glyph_h=glyph_h, text=text, more_fonts=a.more_fonts,
                                faces=FACE_SETS.get(a.faces, ()))
            want = cyclic_key(scene.heads[0].clockwise_labels())
            t0 = time.perf_counter()
            reads = reader.read(scene.rgb)
            secs += time.perf_counter() - t0
            hit = any(cyclic_key(r.best.segments) == want for r in reads)
            exact += hit
            if a.misreads and not hit:
                missed.append((level, scene.heads[0].clockwise_labels(), [r.best.segments for r in reads]))
            nbest += any(cyclic_key(c.segments) == want for r in reads for c in r.candidates)
        print(f"| {level} | {exact}/{a.n} | {nbest}/{a.n} | {1000 * secs / a.n:.0f} |")
    for level, stamped, read in missed:
        print(f"{level}: stamped {' / '.join(stamped)}; read {'; '.join(' / '.join(r) for r in read) or 'nothing'}")


if __name__ == "__main__":
    main()
