"""torch modules (used by training and export only; inference runs the exported ONNX)."""
