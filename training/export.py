"""Export a torch module to an ONNX bundle (model.onnx + manifest.json), checked against torch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn


def export_bundle(model: nn.Module, out_dir: Path, *, example: torch.Tensor, manifest: dict,
                  any_size: bool = False) -> Path:
    """Write ``out_dir/model.onnx`` with a dynamic batch axis (and dynamic height and width when ``any_size``)
    and ``manifest.json`` with its sha256."""
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    torch.onnx.export(model, (example,), str(onnx_path), input_names=["input"], output_names=["output"],
                      dynamic_axes=_axes(any_size), opset_version=17, dynamo=False)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    examples = [example]
    if any_size:  # also check a smaller, non-square input
        examples.append(example[:, :, : example.shape[2] // 2 // 32 * 32, : example.shape[3] * 3 // 4 // 32 * 32])
    err = 0.0
    for ex in examples:
        with torch.no_grad():
            want = model(ex).numpy()
        got = session.run(None, {"input": ex.numpy()})[0]
        err = max(err, float(np.abs(got - want).max()))
    if err > 1e-3:
        raise RuntimeError(f"ONNX output differs from torch by {err}")
    manifest = {**manifest, "onnx_max_abs_err": err,
                "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest()}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return onnx_path


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """A bundle's weights.pt as float32 tensors (shipped bundles keep them in float16, ``training.ship``)."""
    state = torch.load(path, map_location="cpu")
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def half_weights(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with its floating tensors in float16: half the bytes, ample for a warm start."""
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def _axes(any_size: bool) -> dict:
    if any_size:
        return {"input": {0: "batch", 2: "height", 3: "width"}, "output": {0: "batch", 2: "rows", 3: "cols"}}
    return {"input": {0: "batch"}, "output": {0: "batch"}}


def export_derived(model: nn.Module, out_dir: Path, *, manifest: dict, command: str, data: dict,
                   config: dict | None = None) -> Path:
    """Save ``model``, made from other bundles' weights (a soup, a widened start), as a bundle: weights.pt, the
    ONNX graph and the source ``manifest`` less its checks and metrics, with ``command`` and ``data`` (and
    ``config`` when the network's widths differ from the source's)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out_dir / "weights.pt")
    inp = manifest["input"]
    if "side_px" in inp:  # a detector: letterboxed RGB, any size when trained at several
        example = torch.zeros(2, 3, inp["side_px"], inp["side_px"]).uniform_(
            -0.5, 0.5, generator=torch.Generator().manual_seed(0))
    else:  # a recognizer: standardised strips
        example = torch.zeros(2, 1, inp["height_px"], inp["width_px"])
        example.normal_(generator=torch.Generator().manual_seed(0))
    drop = ("sha256", "onnx_max_abs_err", "metrics")
    return export_bundle(model.eval(), out_dir, example=example, any_size="min_side_px" in inp, manifest={
        **{k: v for k, v in manifest.items() if k not in drop}, **({"config": config} if config else {}),
        "training_command": command, "data": data})
