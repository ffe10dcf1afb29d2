"""Accuracy and speed of marktrace, EasyOCR and RapidOCR on the same images, scored by the shared scorer.

    python bench/headstamps.py ../shared/eval/public-v1 [--engines marktrace easyocr rapidocr] [--threads 2]

Prints one table per engine (per cell acc / top-k / character error, as ../shared/eval/score.py computes them)
and images/second over the headstamp crops, the lot images, the frames and all images. ``marktrace`` reads
headstamps and painted lines; ``marktrace-headstamps`` only headstamps (the speed comparison on headstamp crops);
the ``-thorough`` engines read as ``marktrace --thorough`` does (``model.pipeline.THOROUGH``). All engines run on
the CPU with the same thread count; EasyOCR and RapidOCR use the weights their packages ship.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.headstamp_reader import HeadstampReader, ReaderConfig  # noqa: E402
from model.imageio import decode_image  # noqa: E402
from model.pipeline import THOROUGH, MarkingReader  # noqa: E402


def _reading(reader: MarkingReader | HeadstampReader):
    """An engine over one of our readers: image path -> its markings as JSON."""
    def one(p: Path) -> list[dict]:
        return [r.to_json() for r in reader.read(decode_image(p.read_bytes()))]
    return one


def run_marktrace(files: list[Path], threads: int, thorough: bool = False):
    return _reading(MarkingReader.from_bundles(threads=threads, thorough=thorough))


def run_marktrace_thorough(files: list[Path], threads: int):
    return run_marktrace(files, threads, thorough=True)


def run_marktrace_headstamps(files: list[Path], threads: int, cfg: ReaderConfig = ReaderConfig()):
    return _reading(HeadstampReader.from_bundles(threads=threads, cfg=cfg))


def run_marktrace_headstamps_thorough(files: list[Path], threads: int):
    return run_marktrace_headstamps(files, threads, THOROUGH[0])


def run_rapidocr(files: list[Path], threads: int):
    from rapidocr_onnxruntime import RapidOCR

    per_model = {f"{m}_intra_op_num_threads": threads for m in ("det", "cls", "rec")}
    engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1, **per_model)

    def one(p: Path) -> list[dict]:
        result, _ = engine(str(p))
        out = []
        for box, text, conf in result or []:
            xs, ys = [pt[0] for pt in box], [pt[1] for pt in box]
            out.append({"kind": "text", "text": text, "box": [min(xs), min(ys), max(xs), max(ys)],
                        "score": float(conf)})
        return out
    return one


def run_easyocr(files: list[Path], threads: int):
    import easyocr
    import easyocr_en_models
    import torch

    torch.set_num_threads(threads)
    # EasyOCR's recognizer builds a DataLoader with pin_memory for every image: one warning each on a CPU
    warnings.filterwarnings("ignore", message=".*pin_memory.*", category=UserWarning)
    reader = easyocr.Reader(["en"], gpu=False, model_storage_directory=str(easyocr_en_models.model_dir()),
                            download_enabled=False, verbose=False)

    def one(p: Path) -> list[dict]:
        out = []
        for box, text, conf in reader.readtext(str(p)):
            xs, ys = [pt[0] for pt in box], [pt[1] for pt in box]
            box_px = [float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))]
            out.append({"kind": "text", "text": text, "box": box_px, "score": float(conf)})
        return out
    return one


ENGINES = {"marktrace": run_marktrace, "marktrace-headstamps": run_marktrace_headstamps,
           "marktrace-thorough": run_marktrace_thorough,
           "marktrace-headstamps-thorough": run_marktrace_headstamps_thorough, "easyocr": run_easyocr,
           "rapidocr": run_rapidocr}


def load_scorer(set_dir: Path):
    """The evaluation set's own scorer module (``score.py`` beside the set)."""
    spec = importlib.util.spec_from_file_location("score", set_dir.parent / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _score(set_dir: Path, preds: Path) -> dict:
    return load_scorer(set_dir).score(str(set_dir), str(preds))


GROUPS = {"headstamp crops": "headstamp_", "lot images": "lot_", "frames": "frame_"}  # images/s of each


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--engines", nargs="+", default=["marktrace", "easyocr", "rapidocr"], choices=list(ENGINES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="", help="substring filter on file names, e.g. headstamp")
    a = ap.parse_args()
    labels = [json.loads(x) for x in (a.set_dir / "labels.jsonl").read_text().splitlines()]
    files = [r["file"] for r in labels if a.only in r["file"]]
    for name in a.engines:
        fn = ENGINES[name]([a.set_dir / f for f in files], a.threads)
        fn(a.set_dir / files[0])  # warm-up
        secs: dict[str, float] = {}
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as out:
            for f in files:
                t0 = time.perf_counter()
                markings = fn(a.set_dir / f)
                secs[f] = time.perf_counter() - t0
                out.write(json.dumps({"file": f, "seconds": secs[f], "markings": markings}, ensure_ascii=False) + "\n")
        res = _score(a.set_dir, Path(out.name))
        print(f"\n## {name} (threads={a.threads})\n\n| cell | acc | top-k | char. error | n |\n|---|---|---|---|---|")
        for cell, v in res["cells"].items():
            cer = f"{v['cer']:.3f}" if "cer" in v else ""
            print(f"| {cell} | {v['acc']:.3f} | {v['topk']:.3f} | {cer} | {v['n']} |")
        o = res["overall"]
        print(f"| overall | {o['acc']:.3f} | {o['topk']:.3f} | | {o['n']} |")
        print()
        for group, prefix in GROUPS.items():
            times = [s for f, s in secs.items() if Path(f).name.startswith(prefix)]
            if times:
                median_ms = statistics.median(times) * 1000
                print(f"{group}: {len(times) / sum(times):.2f} images/s (median {median_ms:.0f} ms)")
        print(f"all images: {len(secs) / sum(secs.values()):.2f} images/s")


if __name__ == "__main__":
    main()
