"""Widening a CRNN (Net2WiderNet) keeps its logits; the copies' noise moves them only a little. Deepening one
(residual blocks, residual BiLSTM layers) keeps them too."""

import numpy as np
import pytest
import torch

from model.nets.crnn import CRNNConfig, build_crnn
from training.grow import deepen_crnn, unit_map, widen_crnn, widened

OLD = CRNNConfig(n_classes=11, height_px=32, width_px=64, channels=(4, 8, 8, 12), hidden=6)


def _trained_like(cfg: CRNNConfig) -> torch.nn.Module:
    """A CRNN with random weights and non-trivial batch-norm statistics and affine parameters."""
    torch.manual_seed(0)
    model = build_crnn(cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return model.eval()


def _logits(cfg: CRNNConfig, state: dict, x: torch.Tensor) -> torch.Tensor:
    model = build_crnn(cfg)
    model.load_state_dict(state)
    with torch.no_grad():
        return model.eval()(x)


def test_widened_network_computes_what_the_narrow_one_did():
    small = _trained_like(OLD)
    x = torch.randn(3, 1, OLD.height_px, OLD.width_px)
    with torch.no_grad():
        want = small(x)
    new = widened(OLD, (6, 8, 13, 20), 10)
    grown = widen_crnn(small.state_dict(), OLD, new, np.random.default_rng(1))
    assert grown["rnn.weight_hh_l0"].shape == (40, 10) and grown["cnn.8.0.weight"].shape == (20, 20, 3, 3)
    torch.testing.assert_close(_logits(new, grown, x), want, atol=1e-5, rtol=1e-4)
    noisy = widen_crnn(small.state_dict(), OLD, new, np.random.default_rng(1), noise=0.05)
    moved = (_logits(new, noisy, x) - want).abs().max().item()
    assert 0 < moved < 0.5  # copies drift apart, the read barely moves


def test_widening_keeps_the_original_units_and_refuses_to_narrow_or_resize():
    m = unit_map(4, 7, np.random.default_rng(0))
    assert list(m[:4]) == [0, 1, 2, 3] and len(m) == 7 and m.max() < 4
    small = _trained_like(OLD).state_dict()
    grown = widen_crnn(small, OLD, widened(OLD, None, 9), np.random.default_rng(0), noise=0.1)
    torch.testing.assert_close(grown["cnn.0.0.weight"], small["cnn.0.0.weight"])  # no copies, no noise
    torch.testing.assert_close(grown["rnn.weight_ih_l0"][:6], small["rnn.weight_ih_l0"][:6])
    with pytest.raises(ValueError, match="narrow"):
        widen_crnn(small, OLD, widened(OLD, (2, 8, 8, 12), None), np.random.default_rng(0))
    with pytest.raises(ValueError, match="widths"):
        widen_crnn(small, OLD, CRNNConfig(n_classes=12, height_px=32, width_px=64), np.random.default_rng(0))


def test_a_trainer_warm_starts_a_wider_network_from_a_bundle_folder(tmp_path):
    """The widths come from the bundle's manifest; the saved weights load into the wider network unchanged in
    what they compute, and a same-width warm start is the saved weights as they are."""
    import json

    from training.grow import init_widths, warm_state

    small = _trained_like(OLD)
    torch.save(small.state_dict(), tmp_path / "weights.pt")
    (tmp_path / "manifest.json").write_text(json.dumps({"config": {**OLD.__dict__, "channels": list(OLD.channels)}}))
    default = CRNNConfig(n_classes=11, height_px=32, width_px=64)
    base = init_widths(tmp_path / "weights.pt", default)
    assert base == OLD and init_widths(None, default) == default
    cfg = widened(base, None, 16)
    x = torch.randn(2, 1, 32, 64)
    with torch.no_grad():
        want = small(x)
    torch.testing.assert_close(_logits(cfg, warm_state(tmp_path / "weights.pt", base, cfg, 0.0), x), want,
                               atol=1e-5, rtol=1e-4)
    same = warm_state(tmp_path / "weights.pt", base, base, 0.5)
    torch.testing.assert_close(same["rnn.weight_hh_l0"], small.state_dict()["rnn.weight_hh_l0"])


def test_the_contrast_channel_starts_silent_and_widens_with_the_network(tmp_path):
    """A network given the contrast channel reads as before until training moves its zero weights; such a network
    widens (two input channels) and warm-starts from its own manifest, and exports to ONNX as one graph."""
    import json

    from training.export import export_bundle
    from training.grow import init_widths, warm_state, with_contrast

    small = _trained_like(OLD)
    x = torch.randn(2, 1, 32, 64)
    with torch.no_grad():
        want = small(x)
    state, cfg = with_contrast(small.state_dict(), OLD, 3.0)
    assert cfg.contrast_sigma == 3.0 and state["cnn.0.0.weight"].shape == (4, 2, 3, 3)
    torch.testing.assert_close(_logits(cfg, state, x), want, atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="already"):
        with_contrast(state, cfg, 3.0)
    state["cnn.0.0.weight"][:, 1] = 5 * torch.randn(4, 3, 3)  # as if trained: now the channel counts
    with torch.no_grad():
        moved = _logits(cfg, state, x)
    assert (moved - want).abs().max() > 1e-3
    wide = widened(cfg, (6, 8, 8, 16), None)
    torch.testing.assert_close(_logits(wide, widen_crnn(state, cfg, wide, np.random.default_rng(0)), x), moved,
                               atol=1e-5, rtol=1e-4)
    torch.save(state, tmp_path / "weights.pt")
    (tmp_path / "manifest.json").write_text(json.dumps({"config": {**cfg.__dict__, "channels": list(cfg.channels)}}))
    base = init_widths(tmp_path / "weights.pt", CRNNConfig(n_classes=11, height_px=32, width_px=64))
    assert base == cfg
    torch.testing.assert_close(_logits(base, warm_state(tmp_path / "weights.pt", base, base, 0.0), x), moved)
    model = build_crnn(cfg)
    model.load_state_dict(state)
    export_bundle(model.eval(), tmp_path / "bundle", example=x, manifest={"config": cfg.__dict__})
    assert json.loads((tmp_path / "bundle" / "manifest.json").read_text())["onnx_max_abs_err"] < 1e-4


def test_local_contrast_keeps_glyph_edges_and_drops_smooth_shading():
    """The contrast channel of a strip under a smooth shading ramp and a gain change is the unshaded strip's."""
    from model.nets.crnn import LocalContrast

    glyphs = np.zeros((48, 384), np.float32)
    for x0 in range(20, 360, 14):  # bars a few pixels wide, like strokes
        glyphs[12:36, x0:x0 + 4] = 1.0
    strokes = torch.from_numpy(glyphs)[None, None]
    ramp = torch.linspace(-3, 3, 384).view(1, 1, 1, -1) * torch.ones(1, 1, 48, 1)
    lc = LocalContrast(4.0, floor=0.01)
    plain, shaded = lc(strokes), lc(3.0 * strokes + ramp)
    inner = (slice(None), slice(None), slice(12, 36), slice(24, 360))
    assert plain[inner].abs().max() > 0.5  # the strokes stand out
    assert (plain - shaded)[inner].abs().max() < 0.1
    assert lc(torch.zeros(1, 1, 48, 384)).abs().max() == 0


def test_the_grow_command_writes_the_trainers_widened_start_as_a_bundle(tmp_path, monkeypatch):
    """`python -m training.grow` gives the weights a trainer starts from when it widens the same bundle (same
    copies, same noise), in a bundle whose ONNX graph and manifest have the new widths."""
    import json
    import sys

    import onnxruntime as ort

    from training import grow
    from training.grow import init_widths, warm_state

    small = _trained_like(OLD)
    src = tmp_path / "small"
    src.mkdir()
    torch.save(small.state_dict(), src / "weights.pt")
    (src / "manifest.json").write_text(json.dumps({"name": "lot_recognizer", "architecture": "crnn",
                                                   "config": {**OLD.__dict__, "channels": list(OLD.channels)},
                                                   "input": {"height_px": 32, "width_px": 64}, "sha256": "x"}))
    monkeypatch.setattr(sys, "argv", ["grow", "--bundle", str(src), "--channels", "6", "8", "13", "20",
                                      "--hidden", "10", "--out", str(tmp_path / "wide")])
    grow.main()
    manifest = json.loads((tmp_path / "wide" / "manifest.json").read_text())
    assert manifest["config"]["channels"] == [6, 8, 13, 20] and manifest["config"]["hidden"] == 10
    assert manifest["sha256"] != "x" and manifest["data"]["grown_from"] == str(src)
    wide = torch.load(tmp_path / "wide" / "weights.pt")
    cfg = widened(init_widths(src / "weights.pt", OLD), (6, 8, 13, 20), 10)
    trainers = warm_state(src / "weights.pt", OLD, cfg, 0.01)  # the trainers' default --grow-noise
    for k, v in trainers.items():
        torch.testing.assert_close(wide[k], v)
    x = torch.randn(2, 1, 32, 64)
    onnx_out = ort.InferenceSession(str(tmp_path / "wide" / "model.onnx")).run(None, {"input": x.numpy()})[0]
    np.testing.assert_allclose(onnx_out, _logits(cfg, trainers, x).numpy(), atol=1e-4)
    with torch.no_grad():
        assert (torch.from_numpy(onnx_out) - small(x)).abs().max() < 0.5  # the noise moves the read only a little


def test_a_deepened_network_computes_what_the_shallow_one_did_until_trained(tmp_path):
    """Residual blocks and BiLSTM layers added to a trained CRNN start as the identity; once their weights move the
    read moves; a deepened network deepens further keeping its trained blocks, exports to ONNX as one graph, and
    a trainer widens then deepens a bundle's network in one warm start."""
    import json

    from training.export import export_bundle
    from training.grow import init_widths, warm_state

    small = _trained_like(OLD)
    x = torch.randn(3, 1, OLD.height_px, OLD.width_px)
    with torch.no_grad():
        want = small(x)
    deep = widened(OLD, None, None, res_blocks=(0, 1, 1, 2), rnn_layers=2)
    state = deepen_crnn(small.state_dict(), OLD, deep)
    assert len(state) > len(small.state_dict())
    torch.testing.assert_close(_logits(deep, state, x), want, atol=1e-5, rtol=1e-4)
    trained = {k: v + 0.05 * torch.randn_like(v) if v.is_floating_point() else v for k, v in state.items()}
    with torch.no_grad():
        moved = _logits(deep, trained, x)
    assert (moved - want).abs().max() > 1e-3
    deeper = widened(deep, None, None, res_blocks=(1, 1, 2, 2), rnn_layers=3)
    torch.testing.assert_close(_logits(deeper, deepen_crnn(trained, deep, deeper), x), moved, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="away"):
        deepen_crnn(state, deep, OLD)
    with pytest.raises(ValueError, match="residual blocks and BiLSTM"):
        deepen_crnn(small.state_dict(), OLD, widened(deep, (6, 8, 8, 12), None))
    with pytest.raises(ValueError, match="widen, then deepen"):
        widen_crnn(state, deep, widened(deep, (6, 8, 8, 16), None), np.random.default_rng(0))
    model = build_crnn(deep)
    model.load_state_dict(trained)
    export_bundle(model.eval(), tmp_path / "bundle", example=x, manifest={"config": deep.__dict__})
    assert json.loads((tmp_path / "bundle" / "manifest.json").read_text())["onnx_max_abs_err"] < 1e-4

    torch.save(small.state_dict(), tmp_path / "weights.pt")
    (tmp_path / "manifest.json").write_text(json.dumps({"config": {**OLD.__dict__, "channels": list(OLD.channels)}}))
    base = init_widths(tmp_path / "weights.pt", CRNNConfig(n_classes=11, height_px=32, width_px=64))
    both = widened(base, (6, 8, 13, 20), 10, res_blocks=(0, 0, 1, 1), rnn_layers=2)
    torch.testing.assert_close(_logits(both, warm_state(tmp_path / "weights.pt", base, both, 0.0), x), want,
                               atol=1e-5, rtol=1e-4)
