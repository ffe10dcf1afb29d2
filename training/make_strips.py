"""Render recognizer training strips into a shard.

    python -m training.make_strips --seed 1 --count 20000 --out cache/strips_1.npz [--size 48 384]
        [--outer 1.02] [--near-rim] [--soft 0.35] [--more-fonts 0.5]
        [--stamp-faces 0.5] [--debian-faces 0.4] [--restyled 0.6]

The shard records the band's outer radius (``band_outer``); the recognizer trained on it unwraps the same band.
``masks`` holds where each strip is stamped, undamaged, at a quarter of its resolution (``--aux-weight``).
The shard is written under a temporary name and then renamed, so a trainer watching the folder
(``training.recognizer --watch``) never reads half a shard.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from datasets.headstamp import NEAR_RIM, TextPlacement
from datasets.strips import make_strip
from model.rectify.polar import Band
from training.watch import save_shard


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--persian", type=float, default=0.0,
                    help="share of strips forced to Iranian-style heads in Persian digits (besides the usual 10 %%)")
    ap.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), default=(Band.height_px, Band.width_px),
                    help="strip height and width in pixels")
    ap.add_argument("--outer", type=float, default=Band.outer,
                    help="the unwrapped band's outer radius, a share of the rim radius")
    ap.add_argument("--near-rim", action="store_true",
                    help="stamps placed as datasets.headstamp.NEAR_RIM (text band out to 0.88-0.96 rim radii, half "
                         "the heads' text anywhere across it) instead of about the middle of a band ending at 0.9")
    ap.add_argument("--soft", type=float, default=0.0,
                    help="share of strips whose crop loses resolution as a video still does "
                         "(datasets.strips.soft_scale)")
    ap.add_argument("--more-fonts", type=float, default=0.0,
                    help="share of strips stamped in datasets.headstamp.MORE_STAMP_FONTS (Roboto, from the [train] "
                         "extra), whose 1 has no foot")
    ap.add_argument("--stamp-faces", type=float, default=0.0,
                    help="share of strips stamped in datasets.fonts.STAMP_FACES (bundled Google faces: condensed, "
                         "mono, slab and squared designs)")
    ap.add_argument("--debian-faces", type=float, default=0.0,
                    help="share of strips stamped in datasets.fonts.DEBIAN_FACES (28 more families bundled from "
                         "Debian's font packages), drawn after --stamp-faces and taking its place")
    ap.add_argument("--restyled", type=float, default=0.0,
                    help="share of strips stamped in type restyled per head (datasets.glyphs: strokes thickened or "
                         "thinned, glyphs widened or narrowed and slanted, punches askew)")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    band = Band(outer=a.outer, height_px=a.size[0], width_px=a.size[1])
    text = NEAR_RIM if a.near_rim else TextPlacement()
    samples = [make_strip(rng, band, persian=a.persian, text=text, soft=a.soft,
                          more_fonts=a.more_fonts, stamp_faces=a.stamp_faces, restyled=a.restyled,
                          debian_faces=a.debian_faces)
               for _ in range(a.count)]
    pixels = np.stack([s.pixels for s in samples])  # (N, H, W) uint8
    lengths = np.array([len(s.classes) for s in samples], np.int32)
    flat = np.array([c for s in samples for c in s.classes], np.int32)
    spans = np.array([sp for s in samples for sp in s.spans], np.float32).reshape(-1, 2)  # (sum segments, 2)
    masks = np.stack([s.mask for s in samples])  # (N, H/4, W/4) uint8: where each strip is stamped
    save_shard(a.out, pixels=pixels, lengths=lengths, classes=flat, spans=spans, masks=masks,
               texts=np.array([s.text for s in samples]), band_outer=np.float32(band.outer))


if __name__ == "__main__":
    main()
