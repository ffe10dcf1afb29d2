"""Install a trained bundle as a shipped one: its ONNX graph and manifest as they are, weights.pt in float16.

    python -m training.ship --bundle cache/run --to model/weights/headstamp_recognizer --version v26 \
        --metrics cache/run/fresh.json

Inference reads only ``model.onnx``; ``weights.pt`` is kept for warm starts (``--init``, ``training.grow``,
``training.soup``), which read it back as float32 (``training.export.load_weights``), so float16 halves it at no
cost to what ships. The graph must match its manifest's sha256. ``--metrics`` merges a JSON object of measured
figures (fresh renders, speed) into the manifest's ``metrics``. With ``--to`` the same folder as ``--bundle``, a
shipped bundle's weights.pt is halved in place.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

import torch

from training.export import half_weights, load_weights


def ship(bundle: Path, to: Path, *, version: str | None = None, metrics: dict | None = None) -> dict:
    """Copy ``bundle`` into ``to`` (weights.pt halved, manifest given ``version`` and ``metrics``); the manifest."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    graph = (bundle / "model.onnx").read_bytes()
    if hashlib.sha256(graph).hexdigest() != manifest.get("sha256"):
        raise ValueError(f"{bundle}: model.onnx does not match its manifest's sha256")
    state = half_weights(load_weights(bundle / "weights.pt"))
    to.mkdir(parents=True, exist_ok=True)
    if to.resolve() != bundle.resolve():
        shutil.copyfile(bundle / "model.onnx", to / "model.onnx")
    torch.save(state, to / "weights.pt")
    if version:
        manifest["version"] = version
    if metrics:
        manifest["metrics"] = {**manifest.get("metrics", {}), **metrics}
    manifest["weights_pt"] = "float16, for warm starts (read back as float32); inference uses model.onnx"
    (to / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, required=True, help="a trained bundle folder (model.onnx, manifest.json, "
                    "weights.pt)")
    ap.add_argument("--to", type=Path, required=True, help="the shipped folder, e.g. model/weights/lot_recognizer")
    ap.add_argument("--version", help="the version the manifest records, e.g. v29")
    ap.add_argument("--metrics", type=Path, help="a JSON object of measured figures to add to the manifest's metrics")
    a = ap.parse_args()
    metrics = json.loads(a.metrics.read_text()) if a.metrics else None
    ship(a.bundle, a.to, version=a.version, metrics=metrics)
    print(f"shipped {a.bundle} -> {a.to}")


if __name__ == "__main__":
    main()
