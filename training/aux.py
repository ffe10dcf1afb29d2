"""An auxiliary target for the headstamp recognizer's features: where the strip is stamped.

CTC says only which glyphs a strip holds, in order. Renders also know where each glyph was pressed in, before any
corrosion, paint or grinding (``datasets.strips.stamped_mask``); a 1 x 1 convolution on the CNN's third block
(H/8 x W/4) trained to say so asks those features to tell stamped strokes from damage. The head is training-only:
the exported network and its bundle are the plain CRNN.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from model.nets.crnn import CRNN


def third_pool(crnn: CRNN) -> nn.MaxPool2d:
    """The pooling layer that ends the CNN's third block, (N, c3, H/8, W/4), wherever residual blocks put it."""
    return [m for m in crnn.cnn if isinstance(m, nn.MaxPool2d)][2]


class StampMaskHead(nn.Module):
    """A CRNN that, while training, also returns mask logits (N, H/8, W/4) from its third block; in eval mode it
    is the CRNN."""

    def __init__(self, crnn: CRNN) -> None:
        super().__init__()
        self.crnn = crnn
        self.mask = nn.Conv2d(crnn.cfg.channels[2], 1, 1)
        nn.init.zeros_(self.mask.weight)  # starts by saying "mostly unstamped", not with noise into the features
        nn.init.constant_(self.mask.bias, -3.0)
        self._third: torch.Tensor | None = None
        third_pool(crnn).register_forward_hook(self._keep)

    def _keep(self, _module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        self._third = output

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        logits = self.crnn(x)
        if not self.training:
            return logits
        return logits, self.mask(self._third).squeeze(1)


def pooled_masks(masks: np.ndarray, height: int, width: int) -> np.ndarray:
    """(N, h, w) masks in 0-255 -> (N, height, width) float32 in [0, 1], averaged over blocks (h, w multiples)."""
    n, h, w = masks.shape
    m = masks.reshape(n, height, h // height, width, w // width).astype(np.float32)
    return m.mean(axis=(2, 4)) / 255.0


def stamp_mask_loss(logits: torch.Tensor, target: np.ndarray, known: np.ndarray) -> torch.Tensor:
    """Binary cross-entropy (soft targets) of mask logits, over the strips whose mask is ``known``."""
    keep = torch.from_numpy(known).to(logits.device)
    if not bool(keep.any()):
        return logits.sum() * 0.0
    tgt = torch.from_numpy(target).to(logits.device)
    return F.binary_cross_entropy_with_logits(logits[keep], tgt[keep])
