"""Train the headstamp strip recognizer (CRNN + CTC) on rendered strips and export its bundle.

    python -m training.make_strips --seed 1 --count 14000 --out cache/strips_1.npz
    python -m training.make_strips --seed 2 --count 14000 --out cache/strips_2.npz
    python -m training.recognizer --shards cache/strips_1.npz cache/strips_2.npz --minutes 25 \
        --out model/weights/headstamp_recognizer
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import torch

from model.charset import CLASSES, N_CLASSES
from model.nets.crnn import CRNNConfig, build_crnn
from model.recognition.preprocess import strips_to_input
from model.rectify.polar import Band
from training.engine import LoopConfig, train_ctc
from training.export import export_bundle


def load_shards(paths: list[Path], cfg: CRNNConfig) -> tuple[np.ndarray, list[list[int]]]:
    xs, ys = [], []
    for p in paths:
        d = np.load(p)
        xs.append(strips_to_input(list(d["pixels"]), height_px=cfg.height_px, width_px=cfg.width_px))
        ends = np.cumsum(d["lengths"])
        ys += [list(map(int, d["classes"][e - n:e])) for e, n in zip(ends, d["lengths"])]
    return np.concatenate(xs), ys


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shards", type=Path, nargs="+", required=True)
    ap.add_argument("--minutes", type=float, default=25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val", type=int, default=600)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--init", type=Path, help="warm-start from a bundle's torch weights (weights.pt)")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(a.threads)
    cfg = CRNNConfig(n_classes=N_CLASSES)
    x, y = load_shards(a.shards, cfg)
    val = (x[: a.val], y[: a.val])
    model = build_crnn(cfg)
    if a.init:
        model.load_state_dict(torch.load(a.init, map_location="cpu"))
    metrics = train_ctc(model, x[a.val:], y[a.val:], val, LoopConfig(minutes=a.minutes))
    logging.info("metrics %s", metrics)
    band = Band()
    a.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), a.out / "weights.pt")  # for warm starts; inference uses model.onnx
    export_bundle(model.eval(), a.out, example=torch.from_numpy(x[:2]), manifest={
        "name": "headstamp_recognizer", "architecture": "crnn", "config": cfg.__dict__,
        "classes": list(CLASSES), "input": {"height_px": cfg.height_px, "width_px": cfg.width_px,
                                           "normalise": "per-strip standardise (x-mean)/(std+8)"},
        "band": band.__dict__, "training_command": " ".join(["python -m training.recognizer", *sys.argv[1:]]),
        "data": {"shards": [str(p) for p in a.shards], "train_n": len(x) - a.val, "val_n": a.val},
        "metrics": metrics,
    })
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
