"""Warm-start a CRNN from a shipped ONNX bundle (for bundles that predate ``weights.pt``).

The export folds each batch norm into its convolution, so the convolution gets the folded kernel and the
batch norm is rebuilt from data: its running statistics and affine parameters are set so that, on the given
calibration strips, ``BN(conv(x))`` equals the folded ``conv(x) + bias`` exactly in eval mode and
approximately (batch statistics) in training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from onnx import load, numpy_helper
from torch import nn

from model.nets.crnn import CRNN


def _lstm_gates(w: np.ndarray) -> np.ndarray:
    """ONNX LSTM gate blocks (i, o, f, c) along axis 0 -> PyTorch order (i, f, c, o)."""
    i, o, f, c = np.split(w, 4, axis=0)
    return np.concatenate([i, f, c, o], axis=0)


@torch.no_grad()
def crnn_from_onnx(model: CRNN, onnx_path: Path, calibration: torch.Tensor) -> CRNN:
    """Load ``onnx_path``'s weights into ``model`` (same config); ``calibration``: (N, 1, H, W) strips."""
    graph = load(str(onnx_path)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    conv_nodes = [n for n in graph.node if n.op_type == "Conv" and n.input[1] != "collapse.weight"]
    kernels = [inits[n.input[1]] for n in conv_nodes]
    biases = [inits[n.input[2]] for n in conv_nodes]
    lstm = next(n for n in graph.node if n.op_type == "LSTM")
    w, r, b = (inits[name] for name in lstm.input[1:4])  # (2, 4h, in), (2, 4h, h), (2, 8h)
    matmul = next(inits[i] for n in graph.node if n.op_type == "MatMul" for i in n.input if i in inits)
    convs = [m for m in model.cnn.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.cnn.modules() if isinstance(m, nn.BatchNorm2d)]
    if len(convs) != len(kernels) or len(norms) != len(convs):
        raise ValueError(f"{onnx_path} does not match this CRNN layout")
    model.eval()
    x = calibration
    layers = list(model.cnn)
    for layer in layers:
        if isinstance(layer, nn.Sequential):  # conv, BN, ReLU
            conv, bn = layer[0], layer[1]
            k = convs.index(conv)
            conv.weight.copy_(torch.from_numpy(kernels[k].copy()))
            y = conv(x)
            mean, var = y.mean((0, 2, 3)), y.var((0, 2, 3), unbiased=False)
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_((var + bn.eps).sqrt())
            bn.bias.copy_(mean + torch.from_numpy(biases[k].copy()))
            x = layer(x)
        else:
            x = layer(x)
    model.collapse.weight.copy_(torch.from_numpy(inits["collapse.weight"]))
    model.collapse.bias.copy_(torch.from_numpy(inits["collapse.bias"]))
    h4 = 4 * model.rnn.hidden_size
    for d, suffix in enumerate(("", "_reverse")):
        getattr(model.rnn, f"weight_ih_l0{suffix}").copy_(torch.from_numpy(_lstm_gates(w[d])))
        getattr(model.rnn, f"weight_hh_l0{suffix}").copy_(torch.from_numpy(_lstm_gates(r[d])))
        getattr(model.rnn, f"bias_ih_l0{suffix}").copy_(torch.from_numpy(_lstm_gates(b[d, :h4])))
        getattr(model.rnn, f"bias_hh_l0{suffix}").copy_(torch.from_numpy(_lstm_gates(b[d, h4:])))
    model.head.weight.copy_(torch.from_numpy(matmul.T.copy()))
    model.head.bias.copy_(torch.from_numpy(inits["head.bias"]))
    return model.train()
