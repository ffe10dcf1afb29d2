"""The ONNX Runtime wrapper: providers, CUDA fallback, batching."""

import logging

import numpy as np
import onnxruntime as ort
import pytest

from model.bundle import load_bundle
from model.runtime import OnnxNet


def test_cuda_request_falls_back_to_cpu_with_a_log_line(caplog):
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has a CUDA provider: no fallback to see")
    with caplog.at_level(logging.WARNING, logger="model.runtime"):
        net = OnnxNet(load_bundle("lot_recognizer"), device="cuda", threads=1)
    assert net.providers == ["CPUExecutionProvider"]
    assert any("CUDA" in r.getMessage() and "CPU" in r.getMessage() for r in caplog.records)


def test_batched_equals_one_pass():
    net = OnnxNet(load_bundle("lot_recognizer"), threads=1)
    inp = net.bundle.manifest["input"]
    x = np.random.default_rng(0).normal(0, 1, (5, 1, inp["height_px"], inp["width_px"])).astype(np.float32)
    assert np.allclose(net.batched(x, 2), net(x), atol=1e-4)


@pytest.mark.parametrize("name", ["headstamp_recognizer", "case_head_detector"])
def test_batched_empty_input_gives_empty_output_of_the_graphs_shape(name):
    """A static output (the recognizers') comes from the graph; a symbolic one (the detector's) from one run."""
    net = OnnxNet(load_bundle(name), threads=1)
    inp = net.bundle.manifest["input"]
    c, h, w = (1, inp["height_px"], inp["width_px"]) if "height_px" in inp else (3, 64, 64)
    one = net(np.zeros((1, c, h, w), np.float32))
    empty = net.batched(np.zeros((0, c, h, w), np.float32), 4)
    assert empty.shape == (0, *one.shape[1:])
    assert empty.dtype == one.dtype


@pytest.mark.parametrize(("spin", "entry"), [(None, "0"), (False, "0"), (True, "1")])
def test_worker_threads_spin_only_when_asked(spin, entry):
    """Spinning workers took the cores from the Python work between a reader's runs: off unless asked for."""
    kwargs = {} if spin is None else {"spin": spin}
    net = OnnxNet(load_bundle("lot_recognizer"), threads=2, **kwargs)
    opts = net.session.get_session_options()
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == entry
    assert opts.intra_op_num_threads == 2
