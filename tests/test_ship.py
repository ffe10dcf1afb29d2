"""Shipping a bundle (training/ship.py): the graph as trained, weights.pt halved, read back as float32."""

import json
import sys

import numpy as np
import pytest
import torch

from model.bundle import WEIGHTS_DIR, load_bundle
from model.nets.crnn import CRNNConfig, build_crnn
from model.runtime import OnnxNet
from training import ship
from training.export import export_derived, load_weights

SMALL = CRNNConfig(n_classes=11, height_px=32, width_px=64, channels=(4, 8, 8, 12), hidden=6)


def _trained_bundle(path):
    torch.manual_seed(0)
    manifest = {"name": "lot_recognizer", "architecture": "crnn", "config": {**SMALL.__dict__},
                "input": {"height_px": 32, "width_px": 64}, "metrics": {"val_exact": 0.5}}
    export_derived(build_crnn(SMALL).eval(), path, manifest=manifest, command="test", data={})
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["metrics"] = {"val_exact": 0.5}  # as a trainer writes them
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


def test_ship_copies_the_graph_halves_the_weights_and_records_version_and_metrics(tmp_path, monkeypatch):
    src = _trained_bundle(tmp_path / "run")
    extra = tmp_path / "fresh.json"
    extra.write_text(json.dumps({"fresh_exact": 123}))
    monkeypatch.setattr(sys, "argv", ["ship", "--bundle", str(src), "--to", str(tmp_path / "shipped"),
                                      "--version", "v9", "--metrics", str(extra)])
    ship.main()
    out = tmp_path / "shipped"
    assert (out / "model.onnx").read_bytes() == (src / "model.onnx").read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == "v9" and manifest["metrics"] == {"val_exact": 0.5, "fresh_exact": 123}
    assert manifest["sha256"] == json.loads((src / "manifest.json").read_text())["sha256"]
    stored = torch.load(out / "weights.pt")
    assert all(v.dtype == torch.float16 for v in stored.values() if v.is_floating_point())
    assert (out / "weights.pt").stat().st_size < 0.7 * (src / "weights.pt").stat().st_size
    full, back = load_weights(src / "weights.pt"), load_weights(out / "weights.pt")
    for k, v in full.items():
        assert back[k].dtype == v.dtype
        torch.testing.assert_close(back[k], v, atol=1e-3, rtol=1e-3)


def test_ship_refuses_a_graph_that_is_not_its_manifests(tmp_path):
    src = _trained_bundle(tmp_path / "run")
    (src / "model.onnx").write_bytes((src / "model.onnx").read_bytes() + b"\0")
    with pytest.raises(ValueError, match="sha256"):
        ship.ship(src, tmp_path / "shipped")
    assert not (tmp_path / "shipped").exists()


@pytest.mark.parametrize("name", ["headstamp_recognizer", "lot_recognizer"])
def test_shipped_half_weights_warm_start_the_network_the_graph_runs(name):
    """The shipped weights.pt, in float16, loads into the manifest's network and reads as the shipped graph does: each
    logit within 0.25, and the same best class at every step whose two best logits the graph sets more than that
    apart (a closer tie may fall either way under half precision; such steps are rare)."""
    src = WEIGHTS_DIR / name
    manifest = json.loads((src / "manifest.json").read_text())
    assert all(v.dtype == torch.float16 for v in torch.load(src / "weights.pt").values() if v.is_floating_point())
    net = build_crnn(CRNNConfig.from_dict(manifest["config"]))
    net.load_state_dict(load_weights(src / "weights.pt"))
    inp = manifest["input"]
    x = np.random.default_rng(0).normal(0, 1, (4, 1, inp["height_px"], inp["width_px"])).astype(np.float32)
    with torch.no_grad():
        got = net.eval()(torch.from_numpy(x)).numpy()
    want = OnnxNet(load_bundle(src), threads=1)(x)
    tolerance = 0.25  # the largest logit difference half precision may make; also the margin of a clear step
    top2 = np.sort(want, axis=-1)[..., -2:]
    clear = top2[..., 1] - top2[..., 0] > tolerance
    assert np.abs(got - want).max() < tolerance and clear.mean() > 0.97
    assert (got.argmax(-1) == want.argmax(-1))[clear].all()
