"""marktrace reading engine: image in, structured reads out (numpy, OpenCV, ONNX Runtime)."""
