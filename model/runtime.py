"""The one interface to a network: ONNX Runtime, CUDA provider when present and asked for, else CPU."""

from __future__ import annotations

import logging

import numpy as np
import onnxruntime as ort

from model.bundle import Bundle

log = logging.getLogger(__name__)


class OnnxNet:
    """A loaded bundle's network: ``__call__`` maps an input batch to its first output.

    ``spin``: whether ONNX Runtime's worker threads busy-wait for the next run. Off by default: a reader runs
    several sessions (detector, recognizer) with Python work between their runs, and threads spinning after one
    run took the cores from that work and from the next session (headstamp crops on 2 cores: 27-31 images/s
    spinning, 36-39 not)."""

    def __init__(self, bundle: Bundle, *, device: str = "cpu", threads: int = 0, spin: bool = False) -> None:
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" in ort.get_available_providers():
                providers.insert(0, "CUDAExecutionProvider")
            else:
                log.warning("CUDA asked for but onnxruntime has no CUDA provider here; running on CPU")
        self.session = ort.InferenceSession(str(bundle.onnx_path), opts, providers=providers)
        self.input_name = self.session.get_inputs()[0].name
        self.bundle = bundle

    @property
    def providers(self) -> list[str]:
        return self.session.get_providers()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch})[0]

    def batched(self, x: np.ndarray, batch: int) -> np.ndarray:
        """Outputs for ``x`` (N, ...) computed ``batch`` rows at a time and concatenated; an empty batch gives
        an empty output (shaped from the graph when its output's shape is static past the batch axis)."""
        if len(x) == 0:
            tail = self.session.get_outputs()[0].shape[1:]
            if all(isinstance(d, int) for d in tail):
                return np.zeros((0, *tail), np.float32)
            return self(np.zeros((1, *x.shape[1:]), x.dtype))[:0]
        return np.concatenate([self(x[i:i + batch]) for i in range(0, len(x), batch)])
