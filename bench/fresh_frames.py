"""Headstamps in fresh video stills (never the evaluation set): heads found and read exactly, per level.

    python bench/fresh_frames.py [--recognizer DIR] [--n 25] [--seed 31] [--soften F] [--more-fonts]
        [--faces stamp|held] [--thorough] [--set FIELD=VALUE ...] [--misreads]

960 x 540 frames from ``datasets.scenes.render_frame`` (1-6 heads of radius 35-95 px, some partly occluded),
read by the case-head detector and the recognizer (default: the shipped bundles; ``--detector DIR``). As
``shared/eval/score.py`` scores frames, a head counts as found when a read's centre lies within 0.6 of its rim
radius of the true centre, and as read when such a read's segments equal the stamped ones clockwise from any
start (separators aside, Cyrillic and Persian folded as the matcher does); "in n-best" credits a truth among
that read's candidates. ``--more-fonts``: every head stamped in ``datasets.headstamp.MORE_STAMP_FONTS`` (Roboto,
whose 1 has no foot). ``--faces``: every head stamped in one set of bundled Google faces (``datasets.fonts.FACE_SETS``;
``held``: families no training draws).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fresh_heads import with_fields  # noqa: E402
from datasets.degrade import soften  # noqa: E402
from datasets.fonts import FACE_SETS  # noqa: E402
from datasets.scenes import LEVELS, render_frame  # noqa: E402
from model.bundle import DETECTOR, RECOGNIZER  # noqa: E402
from model.charset import cyclic_key  # noqa: E402
from model.headstamp_reader import HeadstampReader, ReaderConfig  # noqa: E402
from model.pipeline import THOROUGH  # noqa: E402
from model.structures import Read  # noqa: E402


def near(reads: list[Read], cx: float, cy: float, radius: float) -> list[Read]:
    """The reads whose rim centre lies within 0.6 of ``radius`` of (cx, cy), nearest first."""
    dist = [(math.hypot(r.head.rim.cx - cx, r.head.rim.cy - cy), i) for i, r in enumerate(reads)]
    return [reads[i] for d, i in sorted(dist) if d <= 0.6 * radius]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--recognizer", default=RECOGNIZER)
    ap.add_argument("--detector", default=DETECTOR, help="case-head detector bundle (name or folder)")
    ap.add_argument("--n", type=int, default=25, help="frames per level")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--levels", nargs="+", default=["clean", "worn"], choices=LEVELS)
    ap.add_argument("--thorough", action="store_true", help="read as marktrace --thorough does")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="numeric ReaderConfig fields to change, e.g. retry_below=0.5 unknown_cost=3")
    ap.add_argument("--soften", type=float, default=1.0, metavar="F",
                    help="shrink each frame by F and enlarge it back, as a video codec or digital zoom loses "
                         "resolution (datasets.degrade.soften)")
    ap.add_argument("--misreads", action="store_true", help="also list each found head not read exactly")
    ap.add_argument("--more-fonts", action="store_true",
                    help="every head stamped in datasets.headstamp.MORE_STAMP_FONTS (Roboto; the [train] extra)")
    ap.add_argument("--faces", choices=sorted(FACE_SETS),
                    help="every head stamped in one set of bundled Google faces (held: families never trained on)")
    a = ap.parse_args()
    cfg = THOROUGH[0] if a.thorough else ReaderConfig()
    cfg = with_fields(cfg, a.set)
    reader = HeadstampReader.from_bundles(threads=a.threads, cfg=cfg, recognizer=a.recognizer,
                                          detector=a.detector)
    print(f"recognizer {a.recognizer}, detector {a.detector}{' (thorough)' if a.thorough else ''}, "
          f"{' '.join(a.set) or 'default reader'}, {a.n} frames per level, seed {a.seed}, "
          f"softened by {a.soften}{', Roboto' if a.more_fonts else ''}{f', {a.faces} faces' if a.faces else ''}\n")
    print("| level | heads | found | read exactly | in n-best | ms/frame |\n|---|---|---|---|---|---|")
    missed: list[tuple[str, list[str], tuple[str, ...]]] = []
    for level in a.levels:
        rng = np.random.default_rng([a.seed, LEVELS.index(level)])
        heads = found = exact = nbest = 0
        secs = 0.0
        for _ in range(a.n):
            scene = render_frame(rng, level=level, more_fonts=a.more_fonts,
                                 faces=FACE_SETS.get(a.faces, ()))
            rgb = soften(scene.rgb, a.soften)
            t0 = time.perf_counter()
            reads = reader.read(rgb)
            secs += time.perf_counter() - t0
            for truth in scene.heads:
                heads += 1
                close = near(reads, truth.rim.cx, truth.rim.cy, truth.rim.radius_px)
                if not close:
                    continue
                found += 1
                want = cyclic_key(truth.clockwise_labels())
                hit = cyclic_key(close[0].best.segments) == want
                exact += hit
                nbest += any(cyclic_key(c.segments) == want for c in close[0].candidates)
                if a.misreads and not hit:
                    missed.append((level, truth.clockwise_labels(), close[0].best.segments))
        print(f"| {level} | {heads} | {found} | {exact} | {nbest} | {1000 * secs / a.n:.0f} |")
    for level, stamped, read in missed:
        print(f"{level}: stamped {' / '.join(stamped)}; read {' / '.join(read) or 'nothing'}")


if __name__ == "__main__":
    main()
