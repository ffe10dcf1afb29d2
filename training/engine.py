"""Training loops (CTC recognizer, detectors)."""

from __future__ import annotations

import argparse
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.aux import stamp_mask_loss

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopConfig:
    minutes: float
    batch: int = 64
    lr: float = 2e-3
    seed: int = 0
    max_steps: int = 100_000
    # CTC runs only: a run may span several sittings. The schedule spans ``minutes`` of training in all; this sitting
    # stops after ``stop_after`` minutes (None: when the schedule ends), and the state (weights, optimiser, step,
    # minutes trained, random streams) is written to ``checkpoint`` every ``checkpoint_every`` minutes and at the end.
    checkpoint: Path | None = None
    checkpoint_every: float = 10.0
    stop_after: float | None = None
    resume: bool = False  # go on from ``checkpoint`` (which must exist); without it an existing one is refused
    device: str = "cpu"  # "cuda" on a GPU machine; the model comes back on the CPU
    # CTC runs only: the forward pass under bfloat16 autocast (weights, optimiser and loss stay float32). On this
    # 2-core CPU (AVX-512 BF16) a headstamp recognizer step at batch 64 takes 0.25 s against 0.45 s in float32
    bf16: bool = False
    # CTC runs only: the share of each batch, those with the highest loss per character, left out of the step (loss
    # truncation, Kang & Hashimoto 2020): renders whose damage left nothing to read teach the network to make a
    # read up rather than to read
    drop_hardest: float = 0.0
    aux_weight: float = 0.0  # CTC runs only: the weight of a model's training-only head's loss (training/aux.py)


def add_run_args(ap: argparse.ArgumentParser) -> None:
    """The CTC trainers' options for a run spread over several sittings."""
    ap.add_argument("--checkpoint", type=Path, help="write the run's state here (every --checkpoint-every minutes)")
    ap.add_argument("--checkpoint-every", type=float, default=10.0, metavar="MIN")
    ap.add_argument("--stop-after", type=float, metavar="MIN",
                    help="stop this sitting after MIN minutes (the schedule still spans --minutes); export as is")
    ap.add_argument("--resume", action="store_true", help="go on from --checkpoint, same command otherwise")
    ap.add_argument("--batch", type=int, default=LoopConfig.batch, help="strips per step")
    ap.add_argument("--device", default=LoopConfig.device, help="torch device to train on (cpu, cuda)")
    ap.add_argument("--bf16", action="store_true",
                    help="forward pass under bfloat16 autocast (about 1.8x faster on a CPU with AVX-512 BF16; "
                         "ignored, with a warning, on a CPU without it)")
    ap.add_argument("--drop-hardest", type=float, default=LoopConfig.drop_hardest, metavar="SHARE",
                    help="leave this share of each batch, the strips with the highest loss per character, out of "
                         "the step (loss truncation)")


def native_bf16(device: str) -> bool:
    """Whether ``device`` computes in bfloat16 natively. A CPU without AVX-512 BF16 or AMX emulates it: a lot
    recognizer step under bf16 autocast took 21 s against 0.85 s in float32 on an AVX2-only 2-core CPU (stop 46)."""
    if not device.startswith("cpu"):
        return True
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without the check: trust the option
        return True


def run_config(a: argparse.Namespace) -> LoopConfig:
    """The loop settings of a CTC trainer's parsed options (``--bf16`` dropped, with a warning, where the device
    would only emulate bfloat16)."""
    if a.resume and not a.checkpoint:
        raise SystemExit("--resume needs --checkpoint")
    bf16 = a.bf16 and native_bf16(a.device)
    if a.bf16 and not bf16:
        log.warning("--bf16 ignored: %s has no native bfloat16, so float32 is the faster here", a.device)
    return LoopConfig(minutes=a.minutes, lr=a.lr, checkpoint=a.checkpoint, checkpoint_every=a.checkpoint_every,
                      stop_after=a.stop_after, resume=a.resume, batch=a.batch, device=a.device,
                      bf16=bf16, drop_hardest=a.drop_hardest)


def greedy_texts(logits: torch.Tensor) -> list[list[int]]:
    """Best path per row of (N, T, C) logits, repeats merged and blanks dropped."""
    best = logits.argmax(-1).cpu().numpy()
    out = []
    for row in best:
        seq, prev = [], 0
        for c in row:
            if c != prev and c != 0:
                seq.append(int(c))
            prev = c
        out.append(seq)
    return out


def kept_mean(per_char: torch.Tensor, drop: float) -> torch.Tensor:
    """The mean of a batch's losses per character without its ``drop`` share of highest ones (at least one kept;
    with ``drop`` 0 what ``nn.CTCLoss(reduction="mean")`` gives)."""
    keep = max(1, math.ceil(len(per_char) * (1.0 - drop)))
    return per_char.mean() if keep >= len(per_char) else torch.topk(per_char, keep, largest=False).values.mean()


def train_ctc(model: nn.Module, batches, val: tuple[np.ndarray, list[list[int]]], cfg: LoopConfig) -> dict:
    """AdamW, warm-up then cosine over ``cfg.minutes`` of training, on CTC loss; returns final validation metrics
    (``finished``: whether the schedule ran out, rather than ``stop_after`` or ``max_steps``).

    ``batches(rng, n)`` returns ``n`` training strips (n, 1, H, W) float32 and their class sequences. With
    ``cfg.checkpoint`` the run can be stopped and resumed (``cfg.resume``) on the same schedule. Trains on
    ``cfg.device`` with activations channels-last (on this CPU a step takes 0.45 s against 0.71 s for the headstamp
    recognizer at batch 64; the same arithmetic) and ``cfg.bf16`` as there; leaves the model on the CPU, laid out
    as usual.
    """
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    dev = torch.device(cfg.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    model.to(dev, memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True, reduction="none")
    step, trained_s = _start(cfg, model, opt, rng)
    total_s, sitting_s = 60 * cfg.minutes, 60 * cfg.stop_after if cfg.stop_after is not None else math.inf
    t0 = last_save = time.monotonic()
    lr_total = None
    while (done := trained_s + time.monotonic() - t0) < total_s and time.monotonic() - t0 < sitting_s \
            and step < cfg.max_steps:
        lr = cfg.lr * min(1.0, (step + 1) / 300) * (0.5 * (1 + np.cos(np.pi * min(1.0, done / total_s))))
        for g in opt.param_groups:
            g["lr"] = lr
        batch = batches(rng, cfg.batch)
        xb, tg = batch[0], batch[1]
        x = torch.from_numpy(_augment(xb, rng)).to(dev, memory_format=torch.channels_last, non_blocking=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            out = model(x)  # (N, T, C), or with a training-only head's output too (training/aux.py)
        logits, extra_out = out if isinstance(out, tuple) else (out, None)
        logp = logits.float().log_softmax(-1).transpose(0, 1)  # (T, N, C) for CTCLoss
        lengths = torch.tensor([len(t) for t in tg], device=dev)
        per_char = ctc(logp, torch.tensor([c for t in tg for c in t], device=dev),
                       torch.full((len(tg),), logp.shape[0], device=dev), lengths) / lengths.clamp(min=1)
        loss = kept_mean(per_char, cfg.drop_hardest)
        aux = ""
        if extra_out is not None and len(batch) > 2:  # masks and which strips have one
            aux_loss = stamp_mask_loss(extra_out.float(), batch[2], batch[3])
            loss = loss + cfg.aux_weight * aux_loss
            aux = f"aux {aux_loss.item():.3f} "
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            extra = evaluate(model, *val) if step % 500 == 0 else ""
            log.info("step %d loss %.3f %slr %.2e %s", step, loss.item(), aux, lr, extra)
        if cfg.checkpoint and time.monotonic() - last_save >= 60 * cfg.checkpoint_every:
            save_checkpoint(cfg.checkpoint, model, opt, rng, step, trained_s + time.monotonic() - t0)
            last_save = time.monotonic()
        lr_total = lr
    trained_s += time.monotonic() - t0
    if cfg.checkpoint:
        save_checkpoint(cfg.checkpoint, model, opt, rng, step, trained_s)
    metrics = evaluate(model, *val)
    metrics.update(steps=step, final_lr=lr_total, minutes=round(trained_s / 60, 1), finished=trained_s >= total_s)
    model.to("cpu", memory_format=torch.contiguous_format)
    return metrics


def _start(cfg: LoopConfig, model: nn.Module, opt: torch.optim.Optimizer,
           rng: np.random.Generator) -> tuple[int, float]:
    """Step and seconds trained so far: (0, 0) for a new run, else restored (with the weights, optimiser state and
    random streams) from ``cfg.checkpoint``."""
    if not cfg.checkpoint or not cfg.resume:
        if cfg.checkpoint and cfg.checkpoint.exists():
            raise FileExistsError(f"{cfg.checkpoint} exists: resume from it or remove it")
        return 0, 0.0
    if not cfg.checkpoint.exists():
        raise FileNotFoundError(f"no checkpoint to resume from at {cfg.checkpoint}")
    state = torch.load(cfg.checkpoint, map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    rng.bit_generator.state = state["rng"]
    torch.set_rng_state(state["torch_rng"])
    log.info("resuming at step %d, %.1f of %.1f minutes trained", state["step"], state["trained_s"] / 60,
             cfg.minutes)
    return int(state["step"]), float(state["trained_s"])


def save_checkpoint(path: Path, model: nn.Module, opt: torch.optim.Optimizer, rng: np.random.Generator, step: int,
                    trained_s: float) -> None:
    """Everything a run needs to go on, written atomically (a run killed while writing keeps the last one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(), "step": step, "trained_s": trained_s}, tmp)
    os.replace(tmp, path)


def _augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Contrast inversion and gain jitter on standardised strips (N, 1, H, W)."""
    x = x.copy()
    flip = rng.random(len(x)) < 0.1
    x[flip] *= -1
    x *= rng.uniform(0.8, 1.2, (len(x), 1, 1, 1)).astype(np.float32)
    return x


@torch.no_grad()
def evaluate(model: nn.Module, inputs: np.ndarray, targets: list[list[int]]) -> dict:
    model.eval()
    dev = next(model.parameters()).device
    hits = 0
    for i in range(0, len(inputs), 256):
        pred = greedy_texts(model(torch.from_numpy(inputs[i:i + 256]).to(dev)))
        hits += sum(p == t for p, t in zip(pred, targets[i:i + 256]))
    model.train()
    return {"val_exact": round(hits / max(1, len(inputs)), 4), "val_n": len(inputs)}


def focal_heatmap_loss(logit: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss on (N, G, G) heatmap logits, normalised by the number of centres."""
    p = logit.sigmoid().clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    pos_loss = -((1 - p) ** 2) * torch.log(p) * pos
    neg_loss = -((1 - target) ** 4) * (p ** 2) * torch.log(1 - p) * (1 - pos)
    return (pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1.0)


# L1 weights of the detector's regression channels: placement (x, y offsets, log radius), then shape and primer
PLACE_WEIGHTS = (1.0, 1.0, 2.0)
SHAPE_WEIGHT = 0.5  # each of axis-ratio logit, cos 2phi, sin 2phi in detection_loss
PRIMER_WEIGHT = 0.5


def detection_loss(out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Heatmap focal loss plus L1 on the regression channels at centre cells. out/target: (N, 8, G, G)."""
    reg = (out[:, 1:] - target[:, 1:]).abs() * mask[:, None]  # (N, 7, G, G)
    weights = torch.tensor([*PLACE_WEIGHTS, SHAPE_WEIGHT, SHAPE_WEIGHT, SHAPE_WEIGHT, PRIMER_WEIGHT]).view(1, 7, 1, 1)
    return focal_heatmap_loss(out[:, 0], target[:, 0]) + (reg * weights).sum() / mask.sum().clamp(min=1.0)


def rim_shape_loss(out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Case heads: :func:`detection_loss` with the rim's shape scored as the unwrapped strip feels it. The axis
    ratio is compared as a ratio (its logit spends 3 units between 0.98 and 0.999, where the strip hardly changes,
    and a quarter of one between 0.78 and 0.82), and the major axis's angle (cos, sin 2φ) only as far as the head is
    elliptical: not at all from an axis ratio of 0.98 up (a circle's angle is arbitrary), fully from 0.85 down."""
    m = mask.sum().clamp(min=1.0)
    place = ((out[:, 1:4] - target[:, 1:4]).abs() * torch.tensor(PLACE_WEIGHTS).view(1, 3, 1, 1)).sum(1)
    ratio = target[:, 4].sigmoid()
    shape = 6.0 * (out[:, 4].sigmoid() - ratio).abs()
    angle = (out[:, 5:7] - target[:, 5:7]).abs().sum(1) * ((0.98 - ratio) / 0.13).clamp(0.0, 1.0)
    primer = PRIMER_WEIGHT * (out[:, 7] - target[:, 7]).abs()
    return focal_heatmap_loss(out[:, 0], target[:, 0]) + ((place + shape + angle + primer) * mask).sum() / m


def train_detector(model: nn.Module, batches, cfg: LoopConfig, loss_fn=detection_loss, *,
                   frozen_bn: bool = False) -> dict:
    """Adam with warm-up and cosine decay over ``cfg.minutes``; ``batches(rng)`` yields (x, target, mask),
    scored by ``loss_fn(output, target, mask)``. ``frozen_bn``: batch norm normalises with the running statistics
    the model came with, as at inference, and keeps them (its scales and shifts still train): a batch of one
    input side normalised by its own statistics is not what the exported network sees."""
    model.train()
    if frozen_bn:
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    t0 = time.monotonic()
    deadline = t0 + 60 * cfg.minutes
    step, loss_avg = 0, None
    while time.monotonic() < deadline and step < cfg.max_steps:
        frac = (time.monotonic() - t0) / (deadline - t0)
        for g in opt.param_groups:
            g["lr"] = cfg.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + np.cos(np.pi * min(1.0, frac)))
        x, target, mask = batches(rng)
        loss = loss_fn(model(x), target, mask)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        loss_avg = loss.item() if loss_avg is None else 0.95 * loss_avg + 0.05 * loss.item()
        if step % 50 == 0:
            log.info("step %d loss %.3f", step, loss_avg)
    return {"steps": step, "train_loss": round(float(loss_avg or 0.0), 4),
            "minutes": round((time.monotonic() - t0) / 60, 1)}
