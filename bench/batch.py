"""Archive batch throughput: ``marktrace batch`` over a folder of rendered photos with 1 and 2 worker processes
and with the Ray engine (a local Ray instance, 2 actors; its start-up is included).

    python bench/batch.py [--images 60]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets.scenes import render_crop, render_frame  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    a = ap.parse_args()
    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "archive"
        folder.mkdir()
        for k in range(a.images):
            scene = render_frame(rng, level="worn") if k % 4 == 0 else render_crop(rng, level="worn")
            Image.fromarray(scene.rgb).save(folder / f"{k:04d}.jpg", quality=88)
        print("| engine | workers | images | wall s | images/s |\n|---|---|---|---|---|")
        runs = [("local", w) for w in a.workers] + [("ray", max(a.workers))]
        for engine, w in runs:
            out = Path(tmp) / f"out_{engine}_{w}.jsonl"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "serve.cli", "batch", str(folder), "--out", str(out),
                            "--workers", str(w), "--engine", engine], cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            print(f"| {engine} | {w} | {a.images} | {wall:.1f} | {a.images / wall:.2f} |")


if __name__ == "__main__":
    main()
