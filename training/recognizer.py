"""Train the headstamp strip recognizer (CRNN + CTC) on rendered strips and export its bundle.

    python -m training.make_strips --seed 1 --count 14000 --out cache/strips_1.npz
    python -m training.make_strips --seed 2 --count 14000 --out cache/strips_2.npz
    python -m training.recognizer --shards cache/strips_1.npz cache/strips_2.npz --minutes 25 \
        --out model/weights/headstamp_recognizer

A run longer than one sitting: ``--minutes 400 --stop-after 150 --checkpoint cache/run/checkpoint.pt`` trains 150
minutes of a 400-minute schedule and exports what it has; the same command with ``--resume`` goes on from there.

Training while strips are rendered (a GPU consumes strips faster than one renderer makes them): ``--watch DIR``
adds every shard that appears in DIR (``make_strips --out DIR/NAME.npz`` from any number of processes) to the
training strips as it lands; ``--shards`` then gives the held-out strips (the first ``--val``) and any more to
start with, and the run waits until it has ``--watch-min`` training strips.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from datasets.strips import parse_text, roll_strip, turn_strip
from model.charset import CLASSES, N_CLASSES, encode_strip
from model.nets.crnn import CRNNConfig, build_crnn
from model.recognition.preprocess import strips_to_input
from model.rectify.polar import Band
from training.aux import StampMaskHead, pooled_masks
from training.engine import add_run_args, run_config, train_ctc
from training.export import export_bundle
from training.grow import add_width_args, grown, init_widths, warm_state
from training.warm_start import crnn_from_onnx
from training.watch import WatchedShards, add_watch_args


@dataclass
class StripSet:
    """Model-ready strips (N, 1, H, W), each with its segments (text, turned) and column spans (or None), and
    optionally where each is stamped (``masks``, (N, H/4, W/4) uint8; ``masked``: which strips have one)."""

    x: np.ndarray
    labels: list[list[tuple[str, bool]]]
    spans: list[list[tuple[float, float]] | None]
    masks: np.ndarray | None = None
    masked: np.ndarray | None = None

    def batches(self, rng: np.random.Generator, n: int) -> tuple:
        """A random batch, each strip cut at a random gap between segments and turned 180 degrees half the time:
        strips and class sequences, and with ``masks`` also each strip's mask at its CNN's third block (N, H/8,
        W/4), cut and turned alike, and which strips have one."""
        picks = rng.integers(0, len(self.x), n)
        xs, ys, ms = [], [], []
        for i in picks:
            x, labels, spans = self.x[i], self.labels[i], self.spans[i]
            if self.masks is not None:  # cut and turned with the strip, as a second channel of its size
                x = np.concatenate([x, np.kron(self.masks[i], np.ones((4, 4), np.uint8))[None].astype(x.dtype)])
            if spans is not None and rng.random() < 0.7:
                x, labels, spans = roll_strip(x, labels, spans, rng)
            if rng.random() < 0.5:
                x, labels, spans = turn_strip(x, labels, spans or [])
            if self.masks is not None:
                ms.append(x[1])
                x = x[:1]
            xs.append(x)
            ys.append(encode_strip(labels))
        strips = np.stack(xs).astype(np.float32)
        if self.masks is None:
            return strips, ys
        _, h, w = self.x.shape[1:]
        return strips, ys, pooled_masks(np.stack(ms).astype(np.float32), h // 8, w // 4), self.masked[picks]

    def __len__(self) -> int:
        return len(self.x)

    def targets(self) -> list[list[int]]:
        return [encode_strip(lab) for lab in self.labels]


def watched_loader(cfg: CRNNConfig, band: Band) -> Callable[[Sequence[Path]], StripSet]:
    """Loads shards that land in a watched folder, refusing those unwrapped from another band than ``band``."""
    def load(paths: Sequence[Path]) -> StripSet:
        data, got = load_shards(paths, cfg)
        if got != band:  # both from load_shards: outer radius rounded alike, strip size as rendered
            raise SystemExit(f"shards {', '.join(p.name for p in paths)} unwrapped from another band ({got}, "
                             f"not {band})")
        return data
    return load


def load_shards(paths: Sequence[Path], cfg: CRNNConfig, *, masks: bool = False) -> tuple[StripSet, Band]:
    """The shards' strips, model-ready but held as float16 (six shards of 30,000 strips at 48 x 384 take 6.6 GB
    so, 13 GB as float32), with ``masks`` also those of the shards that have them (``make_strips``), and the band
    they were unwrapped from (strip size as rendered; every shard's outer radius must agree, shards without one
    are from the default band)."""
    counts, outers = [], set()
    for p in paths:
        with np.load(p) as d:
            counts.append(len(d["texts"]))
            outers.add(round(float(d["band_outer"]) if "band_outer" in d else Band.outer, 4))  # stored as float32
    if len(outers) > 1:
        raise SystemExit(f"shards unwrapped from different bands (outer radii {sorted(outers)})")
    x = np.empty((sum(counts), 1, cfg.height_px, cfg.width_px), np.float16)
    stamped = np.zeros((sum(counts) if masks else 0, cfg.height_px // 4, cfg.width_px // 4), np.uint8)
    masked = np.zeros(len(stamped), bool)
    labels, spans, sizes, at = [], [], [], 0
    for p, n in zip(paths, counts):
        d = np.load(p)
        pixels = d["pixels"]  # (N, H, W) uint8; each access to an npz member decompresses it again
        sizes.append((int(pixels.shape[1]), int(pixels.shape[2])))
        for k in range(0, n, 2000):  # standardised in slices: one shard as float32 would take 2.2 GB more
            x[at + k:at + min(n, k + 2000)] = strips_to_input(list(pixels[k:k + 2000]), height_px=cfg.height_px,
                                                              width_px=cfg.width_px)
        if masks and "masks" in d and d["masks"].shape[1:] == stamped.shape[1:]:
            stamped[at:at + n] = d["masks"]
            masked[at:at + n] = True
        at += n
        shard_labels = [parse_text(str(t)) for t in d["texts"]]
        labels += shard_labels
        if "spans" not in d:  # older shards: no roll augmentation
            spans += [None] * len(shard_labels)
            continue
        flat = d["spans"] * (cfg.width_px / pixels.shape[2])
        ends = np.cumsum([len(lab) for lab in shard_labels])
        spans += [[tuple(map(float, sp)) for sp in flat[e - len(lab):e]] for e, lab in zip(ends, shard_labels)]
    kept = (stamped, masked) if masked.any() else (None, None)
    return (StripSet(x, labels, spans, *kept),
            Band(outer=outers.pop(), height_px=sizes[0][0], width_px=sizes[0][1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shards", type=Path, nargs="+", required=True)
    ap.add_argument("--minutes", type=float, default=25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val", type=int, default=600)
    ap.add_argument("--out", type=Path, required=True)
    add_watch_args(ap, "*.npz")
    ap.add_argument("--init", type=Path, help="warm-start from a bundle's weights.pt or model.onnx")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--size", type=int, nargs=2, metavar=("H", "W"),
                    default=(CRNNConfig.height_px, CRNNConfig.width_px), help="network input height and width")
    add_width_args(ap)
    add_run_args(ap)
    ap.add_argument("--aux-weight", type=float, default=0.0, metavar="W",
                    help="also train the features to say where each strip is stamped (training/aux.py), this "
                         "loss weighed W against CTC; needs shards with masks")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(a.threads)
    base = init_widths(a.init, CRNNConfig(n_classes=N_CLASSES, height_px=a.size[0], width_px=a.size[1]))
    cfg = grown(base, a)
    if a.init and a.init.suffix == ".onnx" and cfg != base:
        raise SystemExit(f"{a.init}: widening, deepening or adding the contrast channel starts from a bundle's "
                         "weights.pt")
    if a.aux_weight and a.watch:
        raise SystemExit("--aux-weight trains on --shards only, not on watched ones")
    data, band = load_shards(a.shards, cfg, masks=bool(a.aux_weight))
    x = data.x
    val = (x[: a.val].astype(np.float32), data.targets()[: a.val])
    train = StripSet(x[a.val:], data.labels[a.val:], data.spans[a.val:],
                     *((data.masks[a.val:], data.masked[a.val:]) if data.masks is not None else (None, None)))
    if a.aux_weight and train.masks is None:
        raise SystemExit("--aux-weight needs shards with masks (training.make_strips writes them)")
    pool = WatchedShards(train, a.watch, watched_loader(cfg, band), a.watch_min) if a.watch else None
    model = build_crnn(cfg)
    if a.init and a.init.suffix == ".onnx":
        crnn_from_onnx(model, a.init, torch.from_numpy(train.x[:256].astype(np.float32)))
    elif a.init:
        model.load_state_dict(warm_state(a.init, base, cfg, a.grow_noise))
    trained = StampMaskHead(model) if a.aux_weight else model
    loop = dataclasses.replace(run_config(a), aux_weight=a.aux_weight)
    metrics = train_ctc(trained, pool.batches if pool is not None else train.batches, val, loop)
    logging.info("metrics %s", metrics)
    a.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), a.out / "weights.pt")  # for warm starts; inference uses model.onnx
    export_bundle(model.eval(), a.out, example=torch.from_numpy(x[:2].astype(np.float32)), manifest={
        "name": "headstamp_recognizer", "architecture": "crnn", "config": cfg.__dict__,
        "classes": list(CLASSES), "input": {"height_px": cfg.height_px, "width_px": cfg.width_px,
                                           "normalise": "per-strip standardise (x-mean)/(std+8)"},
        "band": band.__dict__, "training_command": " ".join(["python -m training.recognizer", *sys.argv[1:]]),
        "data": {"shards": [str(p) for p in a.shards], "train_n": len(x) - a.val, "val_n": a.val,
                 **(pool.manifest() if pool is not None else {})},
        "metrics": metrics,
    })
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
