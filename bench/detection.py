"""Case-head detection on freshly rendered crops and frames (not the evaluation set): recall, false positives
and the rim's errors (centre and radius as shares of the true radius, axis ratio, and the major axis's angle on
heads tilted to an axis ratio under 0.9) for the geometric detector and, when its bundle is given, the learned
one. ``--no-geometric`` leaves the geometric detector out.

    python bench/detection.py [--bundle model/weights/case_head_detector ...] [--max-side 512] [--n 20] [--seed 99]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets.scenes import LEVELS, render_crop, render_frame  # noqa: E402
from model.bundle import load_bundle  # noqa: E402
from model.detection.detector import CaseHeadDetector  # noqa: E402
from model.runtime import OnnxNet  # noqa: E402
from model.structures import Ellipse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bundle", type=Path, nargs="*", default=[])
    ap.add_argument("--max-side", type=int, nargs="*", default=[],
                    help="also run bundles trained at several sides with these largest input sides")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=99)
    ap.add_argument("--no-geometric", action="store_true")
    a = ap.parse_args()
    detectors = {} if a.no_geometric else {"geometric": CaseHeadDetector(None)}
    for path in a.bundle:
        net = OnnxNet(load_bundle(path))
        detectors[path.name] = CaseHeadDetector(net)
        if "min_side_px" in net.bundle.manifest["input"]:
            for side in a.max_side:
                detectors[f"{path.name} (max side {side})"] = CaseHeadDetector(net, max_side_px=side)
    print("| detector | scene | level | found | false pos. | centre err | radius err | ratio err | angle err, tilted "
          "| ms/image |\n|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("crop", "frame"):
        for level in LEVELS:
            rng = np.random.default_rng(a.seed)
            scenes = [render_crop(rng, level=level) if kind == "crop" else render_frame(rng, level=level)
                      for _ in range(a.n if kind == "crop" else max(1, a.n // 3))]
            for name, det in detectors.items():
                hit = tot = fp = 0
                errs: list[tuple[float, float, float, float]] = []
                t0 = time.perf_counter()
                for s in scenes:
                    heads = det(s.rgb, cv2.cvtColor(s.rgb, cv2.COLOR_RGB2GRAY))
                    used = set()
                    for h in s.heads:
                        tot += 1
                        d = [math.hypot(x.rim.cx - h.rim.cx, x.rim.cy - h.rim.cy) / h.rim.a_px for x in heads]
                        if d and min(d) < 0.15:
                            k = int(np.argmin(d))
                            used.add(k)
                            hit += 1
                            errs.append(rim_errors(heads[k].rim, h.rim))
                    fp += len(heads) - len(used)
                ms = (time.perf_counter() - t0) / len(scenes) * 1000
                e = np.array(errs).reshape(-1, 4)
                means = [f"{v:.3f}" for v in e[:, :3].mean(axis=0)] if len(e) else ["-"] * 3
                tilted = e[~np.isnan(e[:, 3]), 3]
                angle = f"{np.degrees(np.median(tilted)):.1f} deg ({len(tilted)})" if len(tilted) else "-"
                print(f"| {name} | {kind} | {level} | {hit}/{tot} | {fp} | {' | '.join(means)} | {angle} | {ms:.0f} |")


def rim_errors(found: Ellipse, truth: Ellipse) -> tuple[float, float, float, float]:
    """Centre distance and |radius error| as shares of the true radius, |axis ratio error|, and the major axis's
    angle error in radians (NaN unless the true head is tilted to an axis ratio under 0.9)."""
    centre = math.hypot(found.cx - truth.cx, found.cy - truth.cy) / truth.a_px
    ratio = abs(found.b_px / found.a_px - truth.b_px / truth.a_px)
    turn = (found.angle_rad - truth.angle_rad) % math.pi
    angle = min(turn, math.pi - turn) if truth.b_px / truth.a_px < 0.9 else math.nan
    return centre, abs(found.a_px / truth.a_px - 1), ratio, angle


if __name__ == "__main__":
    main()
