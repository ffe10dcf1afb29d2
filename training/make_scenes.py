"""Render detector training images into a shard.

    python -m training.make_scenes --seed 11 --count 1500 --out cache/scenes_11.npz
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from datasets.detection import make_detection_sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    samples = [make_detection_sample(rng) for _ in range(a.count)]
    heads = [[[e.cx, e.cy, e.a_px, e.b_px, e.angle_rad, p] for e, p in s.heads] for s in samples]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(a.out, pixels=np.stack([s.pixels for s in samples]), heads=np.array(json.dumps(heads)))


if __name__ == "__main__":
    main()
