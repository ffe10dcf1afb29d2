"""Train a CenterNet-style detector and export its bundle: case heads (rendered crops and frames) or painted
lines (rendered markings, ``--task lines``).

    python -m training.make_scenes --seed 11 --count 2500 --out cache/scenes_11.npz
    python -m training.detector --shards cache/scenes_11.npz --minutes 15 --out model/weights/case_head_detector
    python -m training.make_lot_data --seed 21 --count 6000 --out cache/lots_21
    python -m training.detector --task lines --shards cache/lots_21/scenes.npz --minutes 15 \
        --out model/weights/line_detector
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from datasets.degrade import soften
from model.detection.heads import STRIDE, Letterbox, encode_targets
from model.detection.lines import encode_line_targets
from model.nets.centernet import CenterNetConfig, build_centernet
from model.structures import Ellipse
from training.engine import LoopConfig, detection_loss, rim_shape_loss, train_detector
from training.export import export_bundle, load_weights

NAMES = {"heads": "case_head_detector", "lines": "line_detector"}


def load_shards(paths: list[Path], task: str) -> tuple[np.ndarray, list[list]]:
    """Letterboxed images and, per image, its heads as (rim, primer ratio) or its line quads (4, 2)."""
    pix, labels = [], []
    for p in paths:
        d = np.load(p)
        pix.append(d["pixels"])
        if task == "heads":
            labels += [[(Ellipse(*h[:5]), h[5]) for h in img] for img in json.loads(str(d["heads"]))]
        else:
            labels += [[np.array(q, np.float32) for q in img] for img in json.loads(str(d["quads"]))]
    return np.concatenate(pix), labels


def make_batches(pixels: np.ndarray, labels: list, side: int, batch: int, task: str = "heads",
                 min_side: int | None = None, soften_p: float = 0.0, zoom_p: float = 0.35):
    if task == "lines":
        return _line_batches(pixels, labels, side, batch)
    return _head_batches(pixels, labels, side, batch, min_side or side, soften_p, zoom_p)


def scale_jitter(imgs: np.ndarray, rng: np.random.Generator, *, min_side: int,
                 zoom_p: float = 0.35, max_zoom: float = 1.6) -> tuple[np.ndarray, Letterbox]:
    """One batch (N, S, S, 3) at a random network side (a multiple of 32 in [min_side, S]); with probability
    ``zoom_p`` a random square window of it, magnified up to ``max_zoom``. Returns the new batch and the
    placement that maps the old pixels into it (for ``encode_targets``)."""
    side = imgs.shape[1]
    out_side = int(rng.choice(np.arange(min_side, side + 1, 32)))
    win = side / rng.uniform(1.0, max_zoom) if rng.random() < zoom_p else float(side)
    ox, oy = rng.uniform(0, side - win, 2)
    x0, y0, w = int(ox), int(oy), max(1, int(round(win)))
    scale = out_side / w
    resized = np.stack([cv2.resize(im[y0:y0 + w, x0:x0 + w], (out_side, out_side), interpolation=cv2.INTER_AREA)
                        for im in imgs]) if (w, out_side) != (side, side) else imgs
    return resized, Letterbox(scale, -x0 * scale, -y0 * scale)


def _line_batches(pixels: np.ndarray, quads: list, side: int, batch: int):
    identity = Letterbox(1.0, 0.0, 0.0)

    def sample(rng: np.random.Generator):
        idx = rng.integers(0, len(pixels), batch)
        imgs = pixels[idx].astype(np.float32) / 255.0 - 0.5  # (N, S, S, 3)
        enc = [encode_line_targets(quads[i], identity, side) for i in idx]
        xs = torch.from_numpy(np.ascontiguousarray(imgs.transpose(0, 3, 1, 2)))
        return xs, torch.from_numpy(np.stack([t for t, _ in enc])), torch.from_numpy(np.stack([m for _, m in enc]))
    return sample


def _head_batches(pixels: np.ndarray, heads: list, side: int, batch: int, min_side: int, soften_p: float,
                  zoom_p: float):
    def sample(rng: np.random.Generator):
        idx = rng.integers(0, len(pixels), batch)
        imgs = pixels[idx].copy()  # (N, S, S, 3) uint8
        flip = rng.random(batch) < 0.5
        imgs[flip] = imgs[flip, :, ::-1]
        box = Letterbox(1.0, 0.0, 0.0)
        if min_side < side:
            imgs, box = scale_jitter(imgs, rng, min_side=min_side, zoom_p=zoom_p)
        out_side = imgs.shape[1]
        for k in np.nonzero(rng.random(batch) < soften_p)[0]:  # as a small photo enlarged to the network's side
            imgs[k] = soften(imgs[k], rng.uniform(0.5, 0.95))
        imgs = imgs.astype(np.float32) / 255.0 - 0.5
        xs, ts, ms = [], [], []
        for k, i in enumerate(idx):
            hs = heads[i]
            if flip[k]:
                hs = [(Ellipse(side - e.cx, e.cy, e.a_px, e.b_px, -e.angle_rad), p) for e, p in hs]
            t, m = encode_targets(hs, box, out_side)
            ts.append(t)
            ms.append(m)
        xs = torch.from_numpy(np.ascontiguousarray(imgs.transpose(0, 3, 1, 2)))
        return xs, torch.from_numpy(np.stack(ts)), torch.from_numpy(np.stack(ms))
    return sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shards", type=Path, nargs="+", required=True)
    ap.add_argument("--minutes", type=float, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--task", choices=sorted(NAMES), default="heads")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--init", type=Path, help="warm-start from a bundle's torch weights (weights.pt)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--negatives", type=Path, nargs="*", default=[],
                    help="lines: shards of images with no painted line (case-head scenes), trained to find none")
    ap.add_argument("--min-side", type=int, help="heads: train at random sides from this up to the full side "
                    "(and random zoom), so the bundle can run smaller on small images")
    ap.add_argument("--shape-loss", action="store_true",
                    help="heads: score the axis ratio as a ratio and the angle as far as the head is elliptical "
                         "(training.engine.rim_shape_loss)")
    ap.add_argument("--soften", type=float, default=0.0, metavar="P",
                    help="heads: this share of the images shrunk by 0.5-0.95 and enlarged back (a small crop run at "
                         "the network's smallest side is enlarged so)")
    ap.add_argument("--frozen-bn", action="store_true",
                    help="batch norm keeps the --init bundle's running statistics and normalises with them while "
                         "training (as at inference), instead of each batch's own")
    ap.add_argument("--zoom", type=float, default=0.35, metavar="P",
                    help="heads with --min-side: the share of batches magnified up to 1.6 times (a window of them)")
    a = ap.parse_args()
    if a.frozen_bn and not a.init:
        raise SystemExit("--frozen-bn keeps the running statistics of the --init bundle: give one")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(a.threads)
    cfg = CenterNetConfig()
    pixels, labels = load_shards(a.shards, a.task)
    if a.negatives:  # the line detector fired on headstamp text and case rims; teach it they are no lines
        negatives = np.concatenate([np.load(p)["pixels"] for p in a.negatives])
        pixels, labels = np.concatenate([pixels, negatives]), labels + [[] for _ in range(len(negatives))]
    model = build_centernet(cfg)
    if a.init:
        model.load_state_dict(load_weights(a.init))
    batches = make_batches(pixels, labels, cfg.input_px, a.batch, a.task, min_side=a.min_side, soften_p=a.soften,
                           zoom_p=a.zoom)
    loss_fn = rim_shape_loss if a.shape_loss and a.task == "heads" else detection_loss
    metrics = train_detector(model, batches, LoopConfig(minutes=a.minutes, lr=a.lr, batch=a.batch), loss_fn,
                             frozen_bn=a.frozen_bn)
    logging.info("metrics %s", metrics)
    a.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), a.out / "weights.pt")  # for warm starts; inference uses model.onnx
    example = torch.from_numpy(pixels[:2].astype(np.float32).transpose(0, 3, 1, 2) / 255.0 - 0.5)
    inp = {"side_px": cfg.input_px, "normalise": "rgb/255 - 0.5, letterboxed with grey 127"}
    if a.min_side:  # trained at every side in between: run small images at their own size
        inp["min_side_px"] = a.min_side
    export_bundle(model.eval(), a.out, example=example, any_size=bool(a.min_side), manifest={
        "name": NAMES[a.task], "architecture": "centernet", "config": cfg.__dict__, "stride": STRIDE,
        "input": inp,
        "training_command": " ".join(["python -m training.detector", *sys.argv[1:]]),
        "data": {"shards": [str(p) for p in a.shards], "negatives": [str(p) for p in a.negatives],
                 "train_n": int(len(pixels))},
        "metrics": metrics,
    })
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
