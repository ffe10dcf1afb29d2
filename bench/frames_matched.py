"""Frame headstamps of a predictions file scored twice: as ../shared/eval/score.py scores them (a read counts only
when its centre lies within 0.6 radii of the labelled centre) and with each labelled head paired to a predicted
head by the one-to-one assignment of least total centre distance, however far (a diagnostic for labels whose
centres are off the heads in the image; reads are compared exactly as the scorer compares them).

    python bench/frames_matched.py ../shared/eval/public-v1 preds.jsonl

Prints per frame cell: heads, official acc / top-k, paired acc / top-k, and how many labelled centres lie more
than 0.6 radii from every predicted head.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.headstamps import load_scorer  # noqa: E402


def read_jsonl(path: Path) -> dict[str, list[dict]]:
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {r["file"]: r.get("markings", []) for r in rows}


def distances(truths: list[dict], preds: list[dict]) -> np.ndarray:
    """(len(truths), len(preds)) centre distances in labelled radii."""
    return np.array([[np.hypot(p["center"][0] - t["center"][0], p["center"][1] - t["center"][1]) / t["radius"]
                      for p in preds] for t in truths]).reshape(len(truths), len(preds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("preds", type=Path)
    a = ap.parse_args()
    sc = load_scorer(a.set_dir)
    official = sc.score(str(a.set_dir), str(a.preds))
    truth, preds = read_jsonl(a.set_dir / "labels.jsonl"), read_jsonl(a.preds)
    paired: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # acc, top-k, heads, labels off every head
    for file, marks in truth.items():
        cell = file.split("/")[-1].rsplit("_", 1)[0]
        if not cell.startswith("frame"):
            continue
        ts = [m for m in marks if m["kind"] == "headstamp"]
        ps = [m for m in preds.get(file, []) if m.get("kind") == "headstamp" and "center" in m]
        row = paired[cell]
        row[2] += len(ts)
        if not ps:
            continue
        d = distances(ts, ps)
        row[3] += int((d.min(axis=1) > 0.6).sum())
        for i, j in zip(*linear_sum_assignment(d)):
            want = sc.norm_segments(ts[i]["segments"])
            ok = sc.cyclic_equal(sc.norm_segments(ps[j].get("segments", [])), want)
            row[0] += ok
            row[1] += ok or any(sc.cyclic_equal(sc.norm_segments(c.get("segments", [])), want)
                                for c in ps[j].get("candidates", []))
    print("| cell | heads | scorer acc / top-k | paired acc / top-k | labelled centres > 0.6 r from every head |\n"
          "|---|---|---|---|---|")
    for cell, (ok, topk, n, off) in sorted(paired.items()):
        o = official["cells"].get(f"{cell}/headstamp", {})
        print(f"| {cell} | {n} | {o.get('acc', 0):.3f} / {o.get('topk', 0):.3f} | {ok / n:.3f} / {topk / n:.3f} "
              f"| {off} |")


if __name__ == "__main__":
    main()
