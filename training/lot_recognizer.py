"""Train the painted-line recognizer (CRNN + CTC over the line alphabet) on rendered line strips.

    python -m training.make_lot_data --seed 21 --count 6000 --out cache/lots_21
    python -m training.lot_recognizer --shards cache/lots_21/lines.npz --minutes 30 --out model/weights/lot_recognizer

``--turned F`` turns that share of each batch's strips 180 degrees with an empty target: the detector knows a
line's angle only up to a half turn, so the reader reads both ways up and keeps the likelier read; a network that
never saw an upside-down line reads one as confident nonsense (`692-90-1` for `11-05-769`): v6 read none of 600
held-out lines turned upside down as nothing, v8 (trained with 0.15) 99.5 %.

Training while lines are rendered (a GPU): ``--watch DIR`` adds every ``DIR/*/lines.npz`` that appears
(``make_lot_data --lines-only --out DIR/NAME`` from any number of processes) to the training strips as it lands;
``--shards`` then gives the held-out lines (the first ``--val``) and any more to start with, and the run waits
until it has ``--watch-min`` training strips.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.charset import LINE_CLASSES, N_LINE_CLASSES, encode_line
from model.nets.crnn import CRNNConfig, build_crnn
from model.recognition.preprocess import strips_to_input
from training.engine import add_run_args, run_config, train_ctc
from training.export import export_bundle
from training.grow import add_width_args, grown, init_widths, warm_state
from training.watch import WatchedShards, add_watch_args

WATCHED = "*/lines.npz"  # what make_lot_data --out DIR/NAME writes last


@dataclass
class LineSet:
    """Model-ready line strips (N, 1, H, W), held as float16, with their class targets; ``turned`` of each batch
    is turned 180 degrees with an empty target."""

    x: np.ndarray
    targets: list[list[int]]
    turned: float = 0.0

    def __len__(self) -> int:
        return len(self.x)

    def batches(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[list[int]]]:
        idx = rng.integers(0, len(self.x), n)
        xb, yb = self.x[idx].astype(np.float32), [self.targets[i] for i in idx]
        turn = rng.random(n) < self.turned
        xb[turn] = xb[turn][:, :, ::-1, ::-1]
        return xb, [[] if t else y for t, y in zip(turn, yb)]


def load_lines(paths: Sequence[Path], cfg: CRNNConfig, turned: float = 0.0) -> LineSet:
    """The shards' line strips, standardised to the network's input and held as float16 (half the memory)."""
    texts = []
    for p in paths:
        with np.load(p) as d:
            texts.append([str(t) for t in d["texts"]])
    x = np.empty((sum(map(len, texts)), 1, cfg.height_px, cfg.width_px), np.float16)
    at = 0
    for p, ts in zip(paths, texts):
        with np.load(p) as d:
            pixels = d["pixels"]  # (N, H, W) uint8; each access to an npz member decompresses it again
        for k in range(0, len(ts), 2000):
            x[at + k:at + min(len(ts), k + 2000)] = strips_to_input(list(pixels[k:k + 2000]),
                                                                    height_px=cfg.height_px, width_px=cfg.width_px)
        at += len(ts)
    return LineSet(x, [encode_line(t) for ts in texts for t in ts], turned)


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
    add_watch_args(ap, WATCHED)
    add_width_args(ap)
    add_run_args(ap)
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(a.threads)
    base = init_widths(a.init, CRNNConfig(n_classes=N_LINE_CLASSES, height_px=32, width_px=320))
    cfg = grown(base, a)
    data = load_lines(a.shards, cfg, a.turned)
    x = data.x
    val = (x[: a.val].astype(np.float32), data.targets[: a.val])
    train = LineSet(x[a.val:], data.targets[a.val:], a.turned)
    pool = WatchedShards(train, a.watch, lambda ps: load_lines(ps, cfg, a.turned), a.watch_min,
                         pattern=WATCHED) if a.watch else None
    model = build_crnn(cfg)
    if a.init:
        model.load_state_dict(warm_state(a.init, base, cfg, a.grow_noise))
    metrics = train_ctc(model, pool.batches if pool is not None else train.batches, val, run_config(a))
    metrics["val_turned_empty"] = turned_empty(model, val[0])
    logging.info("metrics %s", metrics)
    a.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), a.out / "weights.pt")
    export_bundle(model.eval(), a.out, example=torch.from_numpy(x[:2].astype(np.float32)), manifest={
        "name": "lot_recognizer", "architecture": "crnn", "config": cfg.__dict__, "classes": list(LINE_CLASSES),
        "input": {"height_px": cfg.height_px, "width_px": cfg.width_px,
                  "normalise": "per-strip standardise (x-mean)/(std+8)",
                  "strip": "colour"},  # RGB on its principal axis (model.rectify.lines.flatten_line_rgb)
        "training_command": " ".join(["python -m training.lot_recognizer", *sys.argv[1:]]),
        "data": {"shards": [str(p) for p in a.shards], "train_n": len(train), "val_n": a.val,
                 **(pool.manifest() if pool is not None else {})},
        "metrics": metrics,
    })
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
