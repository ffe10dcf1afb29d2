"""Weight soups (training/soup.py): the weighted mean of fine-tunes' weights, exported as a bundle."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from model.bundle import WEIGHTS_DIR, load_bundle
from model.runtime import OnnxNet
from training.export import load_weights
from training.soup import soup


def test_soup_is_the_weighted_mean_and_keeps_integer_buffers():
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(5)}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(9)}
    even = soup([a, b], [1.0, 1.0])
    assert torch.allclose(even["w"], torch.tensor([2.0, 4.0]))
    assert even["n"].item() == 5
    assert torch.allclose(soup([a, b], [3.0, 1.0])["w"], torch.tensor([1.5, 3.0]))


def test_soup_refuses_different_architectures():
    with pytest.raises(ValueError):
        soup([{"w": torch.zeros(2)}, {"w": torch.zeros(3)}], [1.0, 1.0])
    with pytest.raises(ValueError):
        soup([{"w": torch.zeros(2)}, {"v": torch.zeros(2)}], [1.0, 1.0])


def test_a_bundle_souped_with_itself_reads_as_it_did(tmp_path):
    """The CLI end to end on the shipped lot recognizer: the soup of a bundle and itself is that bundle."""
    src = WEIGHTS_DIR / "lot_recognizer"
    out = tmp_path / "soup"
    subprocess.run([sys.executable, "-m", "training.soup", "--bundles", str(src), str(src), "--out", str(out)],
                   check=True, capture_output=True)
    manifest = json.loads((out / "manifest.json").read_text())
    shipped_manifest = json.loads((src / "manifest.json").read_text())
    assert manifest["data"]["soup_of"] == [str(src), str(src)]
    assert manifest["input"] == shipped_manifest["input"]
    parent = manifest["data"]["parents"][0]  # the shipped bundle's own history, not a path that moves on
    assert parent["version"] == shipped_manifest["version"]
    assert parent["training_command"] == shipped_manifest["training_command"]
    assert parent["data"] == shipped_manifest["data"]
    inp = manifest["input"]
    x = np.random.default_rng(0).normal(0, 1, (3, 1, inp["height_px"], inp["width_px"])).astype(np.float32)
    half = load_weights(src / "weights.pt")  # the shipped weights, float16 on disk, read back as float32
    for k, v in torch.load(out / "weights.pt").items():
        assert torch.equal(v, half[k])
    shipped, souped = OnnxNet(load_bundle(src), threads=1)(x), OnnxNet(load_bundle(out), threads=1)(x)
    # shipped weights.pt is float16 (training/ship.py): the graph rebuilt from it differs in rounding only
    assert np.abs(souped - shipped).max() < 0.25 and (souped.argmax(-1) == shipped.argmax(-1)).all()


@pytest.mark.parametrize("name", ["line_detector", "case_head_detector"])
def test_a_detector_souped_with_itself_finds_as_it_did(tmp_path, name):
    """CenterNet bundles soup too: the soup of a shipped detector and itself gives its heat maps (to float16
    rounding), at any input size where the detector was trained at several (the case-head detector)."""
    src = WEIGHTS_DIR / name
    out = tmp_path / "soup"
    subprocess.run([sys.executable, "-m", "training.soup", "--bundles", str(src), str(src), "--out", str(out)],
                   check=True, capture_output=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["architecture"] == "centernet" and manifest["input"] == load_bundle(src).manifest["input"]
    side = manifest["input"]["side_px"]
    sizes = [(side, side)] + ([(side // 2, side * 3 // 4)] if "min_side_px" in manifest["input"] else [])
    shipped_net, souped_net = OnnxNet(load_bundle(src), threads=1), OnnxNet(load_bundle(out), threads=1)
    for h, w in sizes:
        x = np.random.default_rng(1).uniform(-0.5, 0.5, (2, 3, h, w)).astype(np.float32)
        shipped, souped = shipped_net(x), souped_net(x)
        assert souped.shape == shipped.shape
        assert np.abs(souped[:, 0] - shipped[:, 0]).max() < 0.25  # the centre heat map's logits
