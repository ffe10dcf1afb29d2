"""Render the bundled sample images (samples/) that ``marktrace read`` uses by default.

    python -m datasets.make_samples --out samples --seed 2026
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from datasets.lot_text import LotText
from datasets.lots import MarkingScene, render_marking
from datasets.sampler import Segment
from datasets.scenes import Scene, render_crop, render_frame


def _save(scene: Scene, path: Path, labels: list[dict]) -> None:
    Image.fromarray(scene.rgb).save(path, quality=92)
    labels.append({"file": path.name, "level": scene.level, "markings": [
        {"kind": "headstamp", "segments": h.clockwise_labels(), "center": [round(h.rim.cx, 1), round(h.rim.cy, 1)],
         "radius": round(h.rim.a_px, 1)} for h in scene.heads]})


def _save_marking(scene: MarkingScene, path: Path, labels: list[dict]) -> None:
    Image.fromarray(scene.rgb).save(path, quality=92)
    labels.append({"file": path.name, "level": scene.level, "markings": [
        {"kind": ln.kind, "text": ln.text, "circled_factory": ln.circled_factory, "box": list(ln.box)}
        for ln in scene.lines]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("samples"))
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    labels: list[dict] = []
    documented = [[Segment("539", "539"), Segment("83", "83")], [Segment("71", "71"), Segment("08", "08")],
                  [Segment("LC", "LC"), Segment("09", "09"), Segment("⊕", "⊕")]]
    for k, segs in enumerate(documented):
        _save(render_crop(rng, level="clean", size_px=224, segments=segs), a.out / f"headstamp_{k}.jpg", labels)
    _save(render_crop(rng, level="worn", size_px=224), a.out / "headstamp_worn.jpg", labels)
    _save(render_frame(rng, level="clean"), a.out / "frame.jpg", labels)
    # documented lots (seeds/lots.csv): the Romanian PG-9 lot repainted, the Bulgarian RHEAT-9MA lot
    _save_marking(render_marking(rng, level="worn", width=480, lot=LotText("12-14-451", False, "three-field-numeric"),
                                 nomenclature="PG-9", overpaint=True), a.out / "lot_pg9.jpg", labels)
    _save_marking(render_marking(rng, level="clean", width=480, nomenclature="RHEAT-9MA",
                                 lot=LotText("10-04-11", True, "circled-factory-lot-year")),
                  a.out / "lot_rheat.jpg", labels)
    (a.out / "labels.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in labels))


if __name__ == "__main__":
    main()
