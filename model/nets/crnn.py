"""CRNN strip recognizer: a small VGG-style CNN, a BiLSTM and a per-column classifier for CTC.

After Shi, Bai and Yao, "An End-to-End Trainable Neural Network for Image-based Sequence Recognition" (2015).
``forward`` returns raw logits; CTC loss and decoding live in training/ and model/recognition/.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class CRNNConfig:
    n_classes: int
    height_px: int = 32
    width_px: int = 256
    channels: tuple[int, int, int, int] = (16, 32, 64, 96)
    hidden: int = 96


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class CRNN(nn.Module):
    def __init__(self, cfg: CRNNConfig) -> None:
        super().__init__()
        c1, c2, c3, c4 = cfg.channels
        self.cnn = nn.Sequential(
            _conv(1, c1), nn.MaxPool2d(2),                      # (N, c1, H/2, W/2)
            _conv(c1, c2), nn.MaxPool2d(2),                     # (N, c2, H/4, W/4)
            _conv(c2, c3), _conv(c3, c3), nn.MaxPool2d((2, 1)),  # (N, c3, H/8, W/4)
            _conv(c3, c4), _conv(c4, c4), nn.MaxPool2d((cfg.height_px // 16, 1)),  # (N, c4, 2, W/4)
        )
        self.collapse = nn.Conv2d(c4, c4, (2, 1))  # (N, c4, 1, W/4)
        self.rnn = nn.LSTM(c4, cfg.hidden, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * cfg.hidden, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 1, H, W) normalised strips -> logits (N, T, n_classes), T = W/4."""
        f = self.collapse(self.cnn(x)).squeeze(2).transpose(1, 2)  # (N, T, c4)
        f, _ = self.rnn(f)  # (N, T, 2*hidden)
        return self.head(f)


def build_crnn(cfg: CRNNConfig) -> CRNN:
    return CRNN(cfg)
