"""A weight soup: the element-wise (weighted) mean of several bundles' weights, exported as one bundle; recognizers
(CRNN) and detectors (CenterNet) alike.

    python -m training.soup --bundles model/weights/headstamp_recognizer cache/hs_rec_v11 --out cache/hs_soup

The bundles must share one architecture and should be fine-tunes of one parent (Wortsman et al., "Model soups:
averaging weights of multiple fine-tuned models improves accuracy without increasing inference time", 2022):
their mean then lies in the same basin and reads like one network, at one network's cost. Batch-norm running
statistics are averaged like the weights; integer buffers (batches seen) are taken from the first bundle.
The manifest is the first bundle's with the soup's sources, weights and command, and each source's lineage
(:func:`lineage`: its version, command and data, so a soup of a shipped bundle names that bundle's own history).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from model.nets.centernet import CenterNetConfig, build_centernet
from model.nets.crnn import CRNNConfig, build_crnn
from training.export import export_derived, load_weights


def soup(states: list[dict[str, torch.Tensor]], weights: list[float]) -> dict[str, torch.Tensor]:
    """The weighted mean of state dicts with the same keys and shapes (integer tensors from the first)."""
    if len(states) != len(weights) or not states:
        raise ValueError("one weight per state dict, at least one")
    keys = list(states[0])
    for s in states[1:]:
        if list(s) != keys or any(s[k].shape != states[0][k].shape for k in keys):
            raise ValueError("state dicts differ in keys or shapes: not one architecture")
    total = float(sum(weights))
    out = {}
    for k in keys:
        first = states[0][k]
        if not first.is_floating_point():
            out[k] = first.clone()
            continue
        out[k] = sum(w * s[k].to(torch.float64) for w, s in zip(weights, states)).div(total).to(first.dtype)
    return out


def lineage(manifest: dict) -> dict:
    """What a source bundle was: its version (shipped bundles have one), the command that made it and its data
    (for a soup, its own sources' lineages, so the history nests)."""
    return {"version": manifest.get("version"), "training_command": manifest.get("training_command"),
            "data": manifest.get("data")}


def network_of(manifest: dict) -> torch.nn.Module | None:
    """An untrained network of a bundle's architecture and config (a CRNN recognizer or a CenterNet detector)."""
    if manifest.get("architecture") == "crnn":
        return build_crnn(CRNNConfig.from_dict(manifest["config"]))
    if manifest.get("architecture") == "centernet":
        return build_centernet(CenterNetConfig.from_dict(manifest["config"]))
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundles", type=Path, nargs="+", required=True, help="bundle folders with weights.pt")
    ap.add_argument("--weights", type=float, nargs="*", help="one per bundle (default: equal)")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    weights = a.weights or [1.0] * len(a.bundles)
    manifest = json.loads((a.bundles[0] / "manifest.json").read_text())
    model = network_of(manifest)
    if model is None:
        raise SystemExit(f"{a.bundles[0]}: only CRNN and CenterNet bundles are souped here")
    model.load_state_dict(soup([load_weights(b / "weights.pt") for b in a.bundles], weights))
    export_derived(model, a.out, manifest=manifest,
                   command=" ".join(["python -m training.soup", *sys.argv[1:]]),
                   data={"soup_of": [str(b) for b in a.bundles], "weights": weights,
                         "parents": [lineage(json.loads((b / "manifest.json").read_text())) for b in a.bundles]})
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
