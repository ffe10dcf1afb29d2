"""Shipped weights: ``model.onnx`` + ``manifest.json`` in a folder under model/weights/."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# the shipped bundles, by folder name
RECOGNIZER = "headstamp_recognizer"
DETECTOR = "case_head_detector"
LINE_DETECTOR = "line_detector"
LINE_RECOGNIZER = "lot_recognizer"


class BundleError(RuntimeError):
    """A bundle is missing, incomplete or does not match its manifest."""


@dataclass(frozen=True)
class Bundle:
    onnx_path: Path
    manifest: dict

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", self.onnx_path.parent.name))


def load_bundle(name_or_path: str | Path) -> Bundle:
    """Load a bundle by name (under model/weights/) or folder path; checks the ONNX file's sha256."""
    folder = Path(name_or_path)
    if not folder.is_dir():
        folder = WEIGHTS_DIR / str(name_or_path)
    onnx_path, man_path = folder / "model.onnx", folder / "manifest.json"
    if not onnx_path.is_file() or not man_path.is_file():
        raise BundleError(f"bundle {folder} needs model.onnx and manifest.json")
    manifest = json.loads(man_path.read_text())
    digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    if digest != manifest.get("sha256"):
        raise BundleError(f"bundle {folder}: model.onnx sha256 {digest[:12]} does not match the manifest")
    return Bundle(onnx_path, manifest)
