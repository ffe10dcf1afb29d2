"""Case-head detector: a small CenterNet-style network predicting, at stride 4, a centre heatmap and the rim
ellipse and primer size at each centre.

After Zhou, Wang and Krähenbühl, "Objects as Points" (2019). Output channels (see model/detection/heads.py):
0 heatmap logit, 1-2 sub-pixel offset, 3 log rim radius (output pixels), 4 minor/major axis ratio logit,
5-6 (cos 2phi, sin 2phi) of the major axis, 7 primer/rim ratio logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

N_OUT = 8


@dataclass(frozen=True)
class CenterNetConfig:
    input_px: int = 384
    widths: tuple[int, int, int, int, int] = (16, 32, 48, 64, 96)
    head: int = 32

    @classmethod
    def from_dict(cls, config: dict) -> CenterNetConfig:
        """The config a bundle's manifest.json records (lists back to tuples)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})


def _conv(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class CenterNet(nn.Module):
    def __init__(self, cfg: CenterNetConfig) -> None:
        super().__init__()
        w1, w2, w3, w4, w5 = cfg.widths
        self.s2 = _conv(3, w1, 2)                                        # (N, w1, S/2, S/2)
        self.s4 = nn.Sequential(_conv(w1, w2, 2), _conv(w2, w2))           # (N, w2, S/4, S/4)
        self.s8 = nn.Sequential(_conv(w2, w3, 2), _conv(w3, w3))           # (N, w3, S/8, S/8)
        self.s16 = nn.Sequential(_conv(w3, w4, 2), _conv(w4, w4))          # (N, w4, S/16, S/16)
        self.s32 = nn.Sequential(_conv(w4, w5, 2), _conv(w5, w5, dilation=2), _conv(w5, w5, dilation=4))
        self.lat16, self.lat8, self.lat4 = nn.Conv2d(w4, w5, 1), nn.Conv2d(w3, w5, 1), nn.Conv2d(w2, w5, 1)
        self.head = nn.Sequential(_conv(w5, cfg.head), nn.Conv2d(cfg.head, N_OUT, 1))
        nn.init.constant_(self.head[-1].bias[0], -2.2)  # heatmap prior ~0.1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, S, S) in [-0.5, 0.5] -> (N, 8, S/4, S/4) raw outputs."""
        f4 = self.s4(self.s2(x))
        f8 = self.s8(f4)
        f16 = self.s16(f8)
        f32 = self.s32(f16)
        p = self.lat16(f16) + F.interpolate(f32, scale_factor=2.0, mode="nearest")  # (N, w5, S/16, S/16)
        p = self.lat8(f8) + F.interpolate(p, scale_factor=2.0, mode="nearest")      # (N, w5, S/8, S/8)
        p = self.lat4(f4) + F.interpolate(p, scale_factor=2.0, mode="nearest")      # (N, w5, S/4, S/4)
        return self.head(p)


def build_centernet(cfg: CenterNetConfig) -> CenterNet:
    return CenterNet(cfg)
