"""CRNN strip recognizer: a small VGG-style CNN, a BiLSTM and a per-column classifier for CTC.

After Shi, Bai and Yao, "An End-to-End Trainable Neural Network for Image-based Sequence Recognition" (2015).
``forward`` returns raw logits; CTC loss and decoding live in training/ and model/recognition/. With
``contrast_sigma`` > 0 the network also sees its input locally contrast-normalised (:class:`LocalContrast`, a
fixed layer inside the graph, so the bundle's input stays the standardised strip). ``res_blocks`` adds residual
blocks at the end of each CNN stage and ``rnn_layers`` residual BiLSTM layers above the first (a deeper network;
``training.grow`` deepens a trained one without changing what it computes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class CRNNConfig:
    n_classes: int
    height_px: int = 32
    width_px: int = 256
    channels: tuple[int, int, int, int] = (16, 32, 64, 96)
    hidden: int = 96
    contrast_sigma: float = 0.0  # > 0: a second input channel, the strip locally contrast-normalised at this scale
    res_blocks: tuple[int, int, int, int] = (0, 0, 0, 0)  # residual blocks closing each CNN stage
    rnn_layers: int = 1  # BiLSTM layers; each past the first adds its output, projected, to its input

    @classmethod
    def from_dict(cls, config: dict) -> CRNNConfig:
        """The config a bundle's manifest.json records (lists back to tuples)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})


class LocalContrast(nn.Module):
    """Fixed local contrast normalisation: ``(x - G*x) / (sqrt(G*(x - G*x)^2) + floor)`` with a Gaussian ``G`` of
    ``sigma`` pixels (reflected at the edges). Smooth shading, tarnish and translucent blotches several glyphs
    wide change a strip's local mean and contrast, not the shape of its glyph edges; this channel keeps the
    edges at one scale wherever they are. ``floor`` (in units of the standardised input) keeps flat noise from
    being blown up."""

    def __init__(self, sigma: float, floor: float = 0.25) -> None:
        super().__init__()
        r = max(1, math.ceil(3 * sigma))
        g = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32) ** 2 / (2 * sigma * sigma))
        self.register_buffer("kernel", (g / g.sum()).view(1, 1, 1, -1), persistent=False)
        self.radius = r
        self.floor = floor

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        r = self.radius
        x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), self.kernel)
        return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), self.kernel.transpose(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x - self._blur(x)
        return d / (torch.sqrt(self._blur(d * d)) + self.floor)


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class ResBlock(nn.Module):
    """``relu(x + bn(conv(relu(bn(conv(x))))))``. Built with the last batch norm's scale at zero, the block passes
    its (non-negative, post-ReLU) input through unchanged until training moves it."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.branch = nn.Sequential(_conv(c, c), nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        nn.init.zeros_(self.branch[2].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.branch(x))


class ResidualLSTM(nn.Module):
    """A BiLSTM over ``2 * hidden`` features whose output, through a projection that starts at zero, is added
    to its input."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.rnn = nn.LSTM(2 * hidden, hidden, bidirectional=True, batch_first=True)
        self.proj = nn.Linear(2 * hidden, 2 * hidden)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return f + self.proj(self.rnn(f)[0])


class CRNN(nn.Module):
    def __init__(self, cfg: CRNNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c1, c2, c3, c4 = cfg.channels
        r1, r2, r3, r4 = cfg.res_blocks
        self.contrast = LocalContrast(cfg.contrast_sigma) if cfg.contrast_sigma > 0 else None
        c_in = 1 if self.contrast is None else 2  # the strip, and its contrast channel

        def res(c: int, n: int) -> list[nn.Module]:
            return [ResBlock(c) for _ in range(n)]

        self.cnn = nn.Sequential(
            _conv(c_in, c1), *res(c1, r1), nn.MaxPool2d(2),                   # (N, c1, H/2, W/2)
            _conv(c1, c2), *res(c2, r2), nn.MaxPool2d(2),                     # (N, c2, H/4, W/4)
            _conv(c2, c3), _conv(c3, c3), *res(c3, r3), nn.MaxPool2d((2, 1)),  # (N, c3, H/8, W/4)
            _conv(c3, c4), _conv(c4, c4), *res(c4, r4), nn.MaxPool2d((cfg.height_px // 16, 1)),  # (N, c4, 2, W/4)
        )
        self.collapse = nn.Conv2d(c4, c4, (2, 1))  # (N, c4, 1, W/4)
        self.rnn = nn.LSTM(c4, cfg.hidden, bidirectional=True, batch_first=True)
        self.more_rnn = nn.ModuleList(ResidualLSTM(cfg.hidden) for _ in range(cfg.rnn_layers - 1))
        self.head = nn.Linear(2 * cfg.hidden, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 1, H, W) normalised strips -> logits (N, T, n_classes), T = W/4."""
        if self.contrast is not None:
            x = torch.cat([x, self.contrast(x)], 1)
        f = self.collapse(self.cnn(x)).squeeze(2).transpose(1, 2)  # (N, T, c4)
        f, _ = self.rnn(f)  # (N, T, 2*hidden)
        for layer in self.more_rnn:
            f = layer(f)
        return self.head(f)


def build_crnn(cfg: CRNNConfig) -> CRNN:
    return CRNN(cfg)
