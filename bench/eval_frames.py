"""Where our headstamp detections sit against the evaluation frames' labelled heads (a diagnostic, not tuning).

    marktrace batch ../shared/eval/public-v1 --out p.jsonl
    python bench/eval_frames.py ../shared/eval/public-v1 p.jsonl

``score.py`` credits a frame headstamp only when a prediction's centre lies within 0.6 of the labelled radius of
the labelled centre. For each frame cell this prints how many labelled heads have a prediction that close, how
many have one only within 1.5 radii (a head found but its label displaced, or a neighbour), how many none, the
median distance from a labelled centre to the nearest predicted one, and each frame's mean offset (prediction
minus label, pixels): a shift common to a frame's heads is in its labels, not in the detector.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np


def nearest(centre: list[float], predicted: list[list[float]]) -> tuple[float, np.ndarray]:
    """Distance from a labelled centre to the nearest predicted one, and that offset (predicted - labelled)."""
    if not predicted:
        return math.inf, np.zeros(2)
    d = np.asarray(predicted, float) - np.asarray(centre, float)
    k = int(np.argmin(np.hypot(d[:, 0], d[:, 1])))
    return float(np.hypot(*d[k])), d[k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("pred", type=Path)
    a = ap.parse_args()
    preds = {}
    for line in a.pred.read_text().splitlines():
        d = json.loads(line)
        preds[d["file"]] = [m["center"] for m in d.get("markings", []) if m.get("kind") == "headstamp"]
    cells: dict[str, list[float]] = defaultdict(list)
    shifts: list[tuple[str, np.ndarray, int]] = []
    for line in (a.set_dir / "labels.jsonl").read_text().splitlines():
        d = json.loads(line)
        if not Path(d["file"]).name.startswith("frame_"):
            continue
        cell = Path(d["file"]).name.rsplit("_", 1)[0]
        offsets = []
        for m in d["markings"]:
            if m.get("kind") != "headstamp":
                continue
            dist, off = nearest(m["center"], preds.get(d["file"], []))
            cells[cell].append(dist / m["radius"])
            if dist <= 1.5 * m["radius"]:
                offsets.append(off)
        if offsets:
            shifts.append((Path(d["file"]).name, np.mean(offsets, axis=0), len(offsets)))
    print("| cell | labelled heads | a prediction within 0.6 r | within 1.5 r only | none | median distance (r) |")
    print("|---|---|---|---|---|---|")
    for cell, ds in sorted(cells.items()):
        x = np.asarray(ds)
        close = int((x <= 0.6).sum())
        print(f"| {cell} | {len(x)} | {close} | {int((x <= 1.5).sum()) - close} | {int((x > 1.5).sum())} "
              f"| {float(np.median(x)):.2f} |")
    print("\n| frame | heads matched within 1.5 r | mean offset x, y (px) |\n|---|---|---|")
    for name, off, n in shifts:
        print(f"| {name} | {n} | {off[0]:+.0f}, {off[1]:+.0f} |")


if __name__ == "__main__":
    main()
