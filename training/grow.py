"""Widen a trained CRNN without changing what it computes, so a larger network starts where the small one is.

After Chen, Goodfellow and Shlens, "Net2Net: accelerating learning via knowledge transfer" (2016), Net2WiderNet:
each new unit of a widened layer (a convolution's output channel with its batch norm, or an LSTM hidden unit) is
a copy of an existing one, and the next layer's weights from every copy of a unit are that unit's weights divided
by the number of copies. The widened network's logits equal the narrow one's (eval mode, and in training since
copied channels share batch statistics). A little noise on the copies' incoming weights lets them drift apart.
A network may also gain the locally contrast-normalised input channel (``CRNNConfig.contrast_sigma``): the first
convolution's weights from it start at zero, so again the logits do not change until training moves them.
A network may also be deepened (``CRNNConfig.res_blocks``, ``rnn_layers``): every added residual block and BiLSTM
layer starts as the identity (its last batch-norm scale or its output projection at zero), so once more the logits
do not change until training moves them.

The trainers widen their warm start with ``--channels`` / ``--hidden``; this module's command writes the same
widened start as a bundle (the same units copied, the same noise), so that a run grown from a bundle can be souped
with where it began:

    python -m training.grow --bundle model/weights/lot_recognizer --channels 24 48 96 144 --hidden 144 \
        --out cache/lot_rec_v25w
    python -m training.grow --bundle model/weights/lot_recognizer --res-blocks 0 0 1 1 --rnn-layers 2 \
        --out cache/lot_rec_v29d
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from model.nets.crnn import CRNNConfig, ResBlock, build_crnn
from training.export import export_derived, load_weights


def unit_map(old: int, new: int, rng: np.random.Generator) -> np.ndarray:
    """Which old unit each of ``new`` units copies: the old ones first, then random picks."""
    if new < old:
        raise ValueError(f"cannot narrow a layer from {old} to {new} units")
    return np.concatenate([np.arange(old), rng.integers(0, old, new - old)])


def _share(m: np.ndarray) -> torch.Tensor:
    """Per new unit, 1 / the number of copies of its old unit (the split of its outgoing weights)."""
    return torch.from_numpy(1.0 / np.bincount(m)[m]).float()


def _take(w: torch.Tensor, rows: np.ndarray, cols: np.ndarray) -> torch.Tensor:
    """``w`` with its output ``rows`` and input ``cols`` picked, each input column split between its copies."""
    split = _share(cols).view(1, -1, *[1] * (w.dim() - 2))
    return w[rows][:, cols] * split


def _stage_widths(cfg: CRNNConfig) -> list[int]:
    c1, c2, c3, c4 = cfg.channels
    return [c1, c2, c3, c3, c4, c4]


def widen_crnn(state: dict[str, torch.Tensor], old: CRNNConfig, new: CRNNConfig, rng: np.random.Generator,
               noise: float = 0.0) -> dict[str, torch.Tensor]:
    """``state`` of a CRNN built with ``old``, widened to ``new`` (same classes and input size, every width at
    least the old one). ``noise``: the std of the noise added to copies' incoming weights, relative to each
    weight tensor's std (0 preserves the function exactly)."""
    if replace(old, channels=new.channels, hidden=new.hidden) != new:
        raise ValueError("only the channel widths and the hidden size may change")
    if any(old.res_blocks) or old.rnn_layers != 1:
        raise ValueError("only a network without residual blocks or layers is widened (widen, then deepen)")
    out = {k: v.clone() for k, v in state.items()}
    conv_keys = sorted({k.rsplit(".", 2)[0] for k in state if k.startswith("cnn.") and k.endswith(".0.weight")},
                       key=lambda k: int(k.split(".")[1]))
    prev = np.arange(2 if old.contrast_sigma > 0 else 1)  # the grey input channel (and its contrast channel)
    for key, (w_old, w_new) in zip(conv_keys, zip(_stage_widths(old), _stage_widths(new))):
        m = unit_map(w_old, w_new, rng)
        out[f"{key}.0.weight"] = _jitter(_take(state[f"{key}.0.weight"], m, prev), w_old, noise, rng)
        for name in ("weight", "bias", "running_mean", "running_var"):
            out[f"{key}.1.{name}"] = state[f"{key}.1.{name}"][m]
        prev = m
    mc = unit_map(old.channels[3], new.channels[3], rng)
    out["collapse.weight"] = _jitter(_take(state["collapse.weight"], mc, prev), old.channels[3], noise, rng)
    out["collapse.bias"] = state["collapse.bias"][mc]
    mh = unit_map(old.hidden, new.hidden, rng)
    rows = np.concatenate([g * old.hidden + mh for g in range(4)])  # gate blocks (i, f, g, o), each widened
    for sfx in ("", "_reverse"):
        for name, cols in (("weight_ih", mc), ("weight_hh", mh)):
            key = f"rnn.{name}_l0{sfx}"
            out[key] = _jitter(_take(state[key], rows, cols), old.hidden, noise, rng, block=4)
        for b in ("bias_ih", "bias_hh"):
            out[f"rnn.{b}_l0{sfx}"] = state[f"rnn.{b}_l0{sfx}"][rows]
    both = np.concatenate([mh, old.hidden + mh])  # forward then backward halves of the BiLSTM's output
    out["head.weight"] = _take(state["head.weight"], np.arange(old.n_classes), both)
    return out


def _jitter(w: torch.Tensor, n_old: int, noise: float, rng: np.random.Generator, block: int = 1) -> torch.Tensor:
    """Noise on the rows of ``w`` that are copies (row index past ``n_old`` within each of ``block`` blocks)."""
    if noise <= 0:
        return w
    rows = w.shape[0] // block
    copies = np.concatenate([np.arange(g * rows + n_old, (g + 1) * rows) for g in range(block)])
    if not len(copies):
        return w
    w = w.clone()
    scale = float(w.std()) * noise
    w[copies] += torch.from_numpy(rng.normal(0, scale, w[copies].shape)).to(w.dtype)
    return w


def _stages(cnn: torch.nn.Sequential) -> list[tuple[list[torch.nn.Module], list[torch.nn.Module]]]:
    """The CNN's stages (split at each pooling layer): each stage's plain layers and its residual blocks."""
    stages, plain, blocks = [], [], []
    for layer in cnn:
        (blocks if isinstance(layer, ResBlock) else plain).append(layer)
        if isinstance(layer, torch.nn.MaxPool2d):
            stages.append((plain, blocks))
            plain, blocks = [], []
    return stages


def deepen_crnn(state: dict[str, torch.Tensor], old: CRNNConfig, new: CRNNConfig) -> dict[str, torch.Tensor]:
    """``state`` of a CRNN built with ``old``, deepened to ``new`` (as many residual blocks a stage and BiLSTM
    layers or more, nothing else changed): the old layers keep their weights and each new one starts as the
    identity, so the logits do not change."""
    if replace(old, res_blocks=new.res_blocks, rnn_layers=new.rnn_layers) != new:
        raise ValueError("only the residual blocks and BiLSTM layers may change")
    if any(n < o for n, o in zip(new.res_blocks, old.res_blocks)) or new.rnn_layers < old.rnn_layers:
        raise ValueError("cannot take residual blocks or BiLSTM layers away")
    small = build_crnn(old)
    small.load_state_dict(state)
    torch.manual_seed(0)  # the new blocks' first convolutions (their output is zero until trained)
    deep = build_crnn(new)
    for (plain_o, blocks_o), (plain_n, blocks_n) in zip(_stages(small.cnn), _stages(deep.cnn)):
        for src, dst in zip([*plain_o, *blocks_o], [*plain_n, *blocks_n[: len(blocks_o)]]):
            dst.load_state_dict(src.state_dict())
    for name in ("collapse", "rnn", "head"):
        getattr(deep, name).load_state_dict(getattr(small, name).state_dict())
    for src, dst in zip(small.more_rnn, deep.more_rnn):
        dst.load_state_dict(src.state_dict())
    return deep.state_dict()


def with_contrast(state: dict[str, torch.Tensor], old: CRNNConfig, sigma: float) -> tuple[dict, CRNNConfig]:
    """``state`` of a CRNN without the contrast channel, given one at ``sigma`` whose weights start at zero."""
    if old.contrast_sigma > 0:
        raise ValueError("the network already has a contrast channel")
    out = dict(state)
    w = state["cnn.0.0.weight"]  # (c1, 1, 3, 3)
    out["cnn.0.0.weight"] = torch.cat([w, torch.zeros_like(w)], 1)
    return out, replace(old, contrast_sigma=sigma)


def widened(cfg: CRNNConfig, channels: tuple[int, int, int, int] | None, hidden: int | None,
            contrast_sigma: float | None = None, res_blocks: tuple[int, int, int, int] | None = None,
            rnn_layers: int | None = None) -> CRNNConfig:
    """``cfg`` with the given widths, contrast channel and depth (None keeps what ``cfg`` has)."""
    return replace(cfg, channels=tuple(channels) if channels else cfg.channels, hidden=hidden or cfg.hidden,
                   contrast_sigma=cfg.contrast_sigma if contrast_sigma is None else contrast_sigma,
                   res_blocks=tuple(res_blocks) if res_blocks else cfg.res_blocks,
                   rnn_layers=rnn_layers or cfg.rnn_layers)


def grown(cfg: CRNNConfig, a: argparse.Namespace) -> CRNNConfig:
    """``cfg`` grown as the options of :func:`add_width_args` ask."""
    return widened(cfg, a.channels, a.hidden, a.contrast_sigma, a.res_blocks, a.rnn_layers)


def add_width_args(ap: argparse.ArgumentParser) -> None:
    """The trainers' options for a wider network than the warm start's."""
    ap.add_argument("--channels", type=int, nargs=4, metavar="C", help="CNN stage widths (default: the init's)")
    ap.add_argument("--hidden", type=int, help="LSTM hidden size (default: the init's)")
    ap.add_argument("--contrast-sigma", type=float, metavar="S",
                    help="add the locally contrast-normalised input channel at this scale (pixels of the input)")
    ap.add_argument("--res-blocks", type=int, nargs=4, metavar="N",
                    help="residual blocks closing each CNN stage (default: the init's; added ones start as identity)")
    ap.add_argument("--rnn-layers", type=int, help="BiLSTM layers (default: the init's; added ones start as identity)")
    ap.add_argument("--grow-noise", type=float, default=0.01,
                    help="noise on the copied units when --channels/--hidden widen the init")


def init_widths(init: Path | None, cfg: CRNNConfig) -> CRNNConfig:
    """``cfg`` with the widths of the bundle ``init`` comes from (its manifest.json), if it has one."""
    manifest = init.parent / "manifest.json" if init else None
    if not manifest or not manifest.exists():
        return cfg
    widths = json.loads(manifest.read_text())["config"]
    return replace(cfg, channels=tuple(widths["channels"]), hidden=widths["hidden"],
                   contrast_sigma=float(widths.get("contrast_sigma", 0.0)),
                   res_blocks=tuple(widths.get("res_blocks", (0, 0, 0, 0))), rnn_layers=widths.get("rnn_layers", 1))


def warm_state(init: Path, base: CRNNConfig, cfg: CRNNConfig, noise: float) -> dict[str, torch.Tensor]:
    """The weights.pt at ``init`` (a CRNN of ``base``), given the contrast channel, widened and deepened when
    ``cfg`` asks (in that order)."""
    state = load_weights(init)
    if cfg.contrast_sigma != base.contrast_sigma:
        state, base = with_contrast(state, base, cfg.contrast_sigma)
    wide = replace(base, channels=cfg.channels, hidden=cfg.hidden)
    if wide != base:
        state, base = widen_crnn(state, base, wide, np.random.default_rng(0), noise=noise), wide
    return state if cfg == base else deepen_crnn(state, base, cfg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, required=True, help="a CRNN bundle folder with weights.pt")
    ap.add_argument("--out", type=Path, required=True)
    add_width_args(ap)
    a = ap.parse_args()
    manifest = json.loads((a.bundle / "manifest.json").read_text())
    base = CRNNConfig.from_dict(manifest["config"])
    cfg = grown(base, a)
    model = build_crnn(cfg)
    model.load_state_dict(warm_state(a.bundle / "weights.pt", base, cfg, a.grow_noise))
    export_derived(model, a.out, manifest=manifest, config=cfg.__dict__,
                   command=" ".join(["python -m training.grow", *sys.argv[1:]]),
                   data={"grown_from": str(a.bundle), "parent": manifest.get("training_command")})
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
