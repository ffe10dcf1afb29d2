"""Case-head detection on freshly rendered crops and frames (not the evaluation set): recall, false positives
and radius error for the geometric detector and, when its bundle is given, the learned one.

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bundle", type=Path, nargs="*", default=[])
    ap.add_argument("--max-side", type=int, nargs="*", default=[],
                    help="also run bundles trained at several sides with these largest input sides")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=99)
    a = ap.parse_args()
    detectors = {"geometric": CaseHeadDetector(None)}
    for path in a.bundle:
        net = OnnxNet(load_bundle(path))
        detectors[path.name] = CaseHeadDetector(net)
        if "min_side_px" in net.bundle.manifest["input"]:
            for side in a.max_side:
                detectors[f"{path.name} (max side {side})"] = CaseHeadDetector(net, max_side_px=side)
    print("| detector | scene | level | found | false pos. | radius err | ms/image |\n|---|---|---|---|---|---|---|")
    for kind in ("crop", "frame"):
        for level in LEVELS:
            rng = np.random.default_rng(a.seed)
            scenes = [render_crop(rng, level=level) if kind == "crop" else render_frame(rng, level=level)
                      for _ in range(a.n if kind == "crop" else max(1, a.n // 3))]
            for name, det in detectors.items():
                hit = tot = fp = 0
                errs: list[float] = []
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
                            errs.append(abs(heads[k].rim.a_px / h.rim.a_px - 1))
                    fp += len(heads) - len(used)
                ms = (time.perf_counter() - t0) / len(scenes) * 1000
                err = f"{np.mean(errs):.3f}" if errs else "-"
                print(f"| {name} | {kind} | {level} | {hit}/{tot} | {fp} | {err} | {ms:.0f} |")


if __name__ == "__main__":
    main()
