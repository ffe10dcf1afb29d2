"""Train the painted-line recognizer (CRNN + CTC over the line alphabet) on rendered line strips.

    python -m training.make_lot_data --seed 21 --count 6000 --out cache/lots_21
    python -m training.lot_recognizer --shards cache/lots_21/lines.npz --minutes 30 --out model/weights/lot_recognizer

``--turned F`` turns that share of each batch's strips 180 degrees with an empty target: the detector knows a
line's angle only up to a half turn, so the reader reads both ways up and keeps the likelier read; a network that
never saw an upside-down line reads one as confident nonsense (`692-90-1` for `11-05-769`): v6 read none of 600
held-out lines turned upside down as nothing, v8 (trained with 0.15) 99.5 %.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import torch

from model.charset import LINE_CLASSES, N_LINE_CLASSES, encode_line
from model.nets.crnn import CRNNConfig, build_crnn
from model.recognition.preprocess import strips_to_input
from training.engine import add_run_args, run_config, train_ctc
from training.export import export_bundle
from training.grow import add_width_args, init_widths, warm_state, widened


@torch.no_grad()
def turned_empty(model: torch.nn.Module, strips: np.ndarray) -> float:
    """Share of held-out strips, turned upside down, that the model reads as nothing."""
    model.eval()
    logits = model(torch.from_numpy(np.ascontiguousarray(strips[:, :, ::-1, ::-1])))
    return round(float((logits.argmax(-1) == 0).all(-1).float().mean()), 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shards", type=Path, nargs="+", required=True)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val", type=int, default=600)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--init", type=Path, help="warm-start from a bundle's weights.pt")
    ap.add_argument("--turned", type=float, default=0.0, help="share of strips turned upside down, target empty")
    add_width_args(ap)
    add_run_args(ap)
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(a.threads)
    base = init_widths(a.init, CRNNConfig(n_classes=N_LINE_CLASSES, height_px=32, width_px=320))
    cfg = widened(base, a.channels, a.hidden, a.contrast_sigma)
    pixels, ys = [], []
    for p in a.shards:
        d = np.load(p)
        pixels.append(d["pixels"])
        ys += [encode_line(str(t)) for t in d["texts"]]
    x = np.empty((len(ys), 1, cfg.height_px, cfg.width_px), np.float32)  # filled in place: no second copy
    k = 0
    for px in pixels:
        x[k:k + len(px)] = strips_to_input(list(px), height_px=cfg.height_px, width_px=cfg.width_px)
        k += len(px)
    del pixels
    val, train_x, train_y = (x[: a.val], ys[: a.val]), x[a.val:], ys[a.val:]

    def batches(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[list[int]]]:
        idx = rng.integers(0, len(train_x), n)
        xb, yb = train_x[idx], [train_y[i] for i in idx]
        turn = rng.random(n) < a.turned
        xb[turn] = xb[turn][:, :, ::-1, ::-1]
        return xb, [[] if t else y for t, y in zip(turn, yb)]

    model = build_crnn(cfg)
    if a.init:
        model.load_state_dict(warm_state(a.init, base, cfg, a.grow_noise))
    metrics = train_ctc(model, batches, val, run_config(a))
    metrics["val_turned_empty"] = turned_empty(model, val[0])
    logging.info("metrics %s", metrics)
    a.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), a.out / "weights.pt")
    export_bundle(model.eval(), a.out, example=torch.from_numpy(x[:2]), manifest={
        "name": "lot_recognizer", "architecture": "crnn", "config": cfg.__dict__, "classes": list(LINE_CLASSES),
        "input": {"height_px": cfg.height_px, "width_px": cfg.width_px,
                  "normalise": "per-strip standardise (x-mean)/(std+8)",
                  "strip": "colour"},  # RGB on its principal axis (model.rectify.lines.flatten_line_rgb)
        "training_command": " ".join(["python -m training.lot_recognizer", *sys.argv[1:]]),
        "data": {"shards": [str(p) for p in a.shards], "train_n": len(train_x), "val_n": a.val},
        "metrics": metrics,
    })
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
