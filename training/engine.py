"""Training loops (CTC recognizer)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopConfig:
    minutes: float
    batch: int = 64
    lr: float = 2e-3
    seed: int = 0
    max_steps: int = 100_000


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


def train_ctc(model: nn.Module, batches, val: tuple[np.ndarray, list[list[int]]], cfg: LoopConfig) -> dict:
    """AdamW, warm-up then cosine, on CTC loss until ``cfg.minutes`` run out; returns final validation metrics.

    ``batches(rng, n)`` returns ``n`` training strips (n, 1, H, W) float32 and their class sequences.
    """
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    deadline = time.monotonic() + 60 * cfg.minutes
    t0, step, lr_total = time.monotonic(), 0, None
    while time.monotonic() < deadline and step < cfg.max_steps:
        frac = (time.monotonic() - t0) / (deadline - t0)
        lr = cfg.lr * min(1.0, (step + 1) / 300) * (0.5 * (1 + np.cos(np.pi * min(1.0, frac))))
        for g in opt.param_groups:
            g["lr"] = lr
        xb, tg = batches(rng, cfg.batch)
        x = torch.from_numpy(_augment(xb, rng))
        logits = model(x)  # (N, T, C)
        logp = logits.log_softmax(-1).transpose(0, 1)  # (T, N, C) for CTCLoss
        loss = ctc(logp, torch.tensor([c for t in tg for c in t]), torch.full((len(tg),), logp.shape[0]),
                   torch.tensor([len(t) for t in tg]))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            extra = evaluate(model, *val) if step % 500 == 0 else ""
            log.info("step %d loss %.3f lr %.2e %s", step, loss.item(), lr, extra)
        lr_total = lr
    metrics = evaluate(model, *val)
    metrics.update(steps=step, final_lr=lr_total, minutes=round((time.monotonic() - t0) / 60, 1))
    return metrics


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
    hits = 0
    for i in range(0, len(inputs), 256):
        pred = greedy_texts(model(torch.from_numpy(inputs[i:i + 256])))
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


def detection_loss(out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Heatmap focal loss plus L1 on the regression channels at centre cells. out/target: (N, 8, G, G)."""
    reg = (out[:, 1:] - target[:, 1:]).abs() * mask[:, None]  # (N, 7, G, G)
    weights = torch.tensor([1.0, 1.0, 2.0, 0.5, 0.5, 0.5, 0.5]).view(1, 7, 1, 1)
    return focal_heatmap_loss(out[:, 0], target[:, 0]) + (reg * weights).sum() / mask.sum().clamp(min=1.0)


def train_detector(model: nn.Module, batches, cfg: LoopConfig) -> dict:
    """Adam with warm-up and cosine decay over ``cfg.minutes``; ``batches(rng)`` yields (x, target, mask)."""
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
        loss = detection_loss(model(x), target, mask)
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
