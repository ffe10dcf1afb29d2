"""``marktrace`` command line: read images, score folders into the evaluation prediction format."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from model.imageio import ImageDecodeError, decode_image
from model.pipeline import HeadstampReader

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"  # the checkout's samples/ (editable install)


def read_file(reader: HeadstampReader, path: Path) -> dict:
    """One image -> its prediction row (without ``file``); a bad file gives an ``error`` and no markings."""
    t0 = time.perf_counter()
    try:
        rgb = decode_image(path.read_bytes())
        markings = [r.to_json() for r in reader.read(rgb)]
        row: dict = {"markings": markings}
    except (ImageDecodeError, OSError) as exc:
        row = {"markings": [], "error": str(exc)}
    row["seconds"] = round(time.perf_counter() - t0, 4)
    return row


def _images_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def cmd_read(args: argparse.Namespace) -> int:
    reader = HeadstampReader.from_bundles(device=args.device)
    samples = SAMPLES_DIR if SAMPLES_DIR.is_dir() else Path("samples")
    paths = args.images or _images_under(samples)
    failed = 0
    for p in paths:
        row = {"file": str(p), **read_file(reader, Path(p))}
        failed += "error" in row
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 1 if failed == len(paths) and paths else 0


def cmd_batch(args: argparse.Namespace) -> int:
    reader = HeadstampReader.from_bundles(device=args.device)
    root = Path(args.dir)
    if not root.is_dir():
        print(f"marktrace: {root} is not a folder", file=sys.stderr)
        return 2
    paths = _images_under(root) if not args.all_files else sorted(p for p in root.rglob("*") if p.is_file())
    errors = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for p in paths:
            row = {"file": p.relative_to(root).as_posix(), **read_file(reader, p)}
            if "error" in row:
                errors += 1
                print(f"marktrace: {row['file']}: {row['error']}", file=sys.stderr)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"marktrace: {len(paths)} files, {errors} errors -> {args.out}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="marktrace", description="Find and read cartridge headstamps.")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("read", help="read images and print one JSON line each (default: the bundled samples)")
    r.add_argument("images", nargs="*", type=Path)
    r.set_defaults(func=cmd_read)
    b = sub.add_parser("batch", help="read every image under DIR into a prediction JSONL file")
    b.add_argument("dir")
    b.add_argument("--out", required=True)
    b.add_argument("--all-files", action="store_true", help="try every file, not only image suffixes")
    b.set_defaults(func=cmd_batch)
    return ap


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
