"""``marktrace`` command line: read images, score folders into the evaluation prediction format, match reads
against the registry, and manage the registry (import, export, search, sightings)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from model.imageio import ImageDecodeError, decode_image
from model.matching.files import export_file, import_file
from model.matching.matcher import LotMatcher
from model.matching.reads import ReadMatcher
from model.matching.store import Registry
from model.pipeline import MarkingReader
from model.structures import LineRead, Read
from serve.settings import Settings
from serve.sources import SourceError, list_images, list_source, read_bytes

MATCH_THRESHOLD = 0.5  # a sighting is linked to a maker code or lot only above this posterior

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"  # the checkout's samples/ (editable install)


class SightingRecorder:
    """Matches each read against the registry and, when asked, records it as a sighting."""

    def __init__(self, registry: Registry, *, record: bool = False, place: str | None = None,
                 seen_on: str | None = None) -> None:
        self.registry = registry
        self.match = ReadMatcher(registry)
        self.record, self.place, self.seen_on = record, place, seen_on

    def __call__(self, read: Read | LineRead, image_ref: str) -> dict:
        if isinstance(read, LineRead) and read.kind != "lot":
            return {}
        matches = self.match(read)
        text = read.text if isinstance(read, LineRead) else " ".join(read.best.segments)
        if self.record and text:
            top = matches[0] if matches and matches[0].score >= MATCH_THRESHOLD else None
            if isinstance(read, LineRead):
                ref = {"kind": "lot", "lot_id": top.lot.id if top else None}
            else:
                ref = {"kind": "headstamp", "headstamp_code": top.code if top else None}
            self.registry.add_sighting(**ref, read_text=text, image_ref=image_ref,
                                       score=top.score if top else None, place=self.place, seen_on=self.seen_on)
        return {"matches": [m.to_json() for m in matches]}


def read_file(reader: MarkingReader, uri: str | Path, matcher: SightingRecorder | None = None,
              image_ref: str | None = None, *, data: bytes | None = None) -> dict:
    """One image (a path or URL, or its ``data`` already read) -> its prediction row (without ``file``); a bad
    or unreadable file gives an ``error`` and no markings."""
    t0 = time.perf_counter()
    try:
        rgb = decode_image(read_bytes(str(uri)) if data is None else data)
        markings = []
        for r in reader.read(rgb):
            m = r.to_json()
            if matcher is not None:
                m.update(matcher(r, image_ref or str(uri)))
            markings.append(m)
        row: dict = {"markings": markings}
    except (ImageDecodeError, OSError) as exc:
        row = {"markings": [], "error": str(exc)}
    row["seconds"] = round(time.perf_counter() - t0, 4)
    return row


def cmd_read(args: argparse.Namespace) -> int:
    reader = MarkingReader.from_bundles(device=args.device, thorough=args.thorough)
    samples = SAMPLES_DIR if SAMPLES_DIR.is_dir() else Path("samples")
    paths = args.images or list_images(samples)
    failed = 0
    for p in paths:
        row = {"file": str(p), **read_file(reader, Path(p))}
        failed += "error" in row
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 1 if failed == len(paths) and paths else 0


def cmd_batch(args: argparse.Namespace) -> int:
    from serve.batch import BatchOptions, done_files, run

    try:
        items = list_source(args.dir, all_files=args.all_files)
    except SourceError as exc:
        print(f"marktrace: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.overwrite and out.exists():
        out.unlink()
    already = len(done_files(out)[0])
    if already:
        print(f"marktrace: resuming: {already} files already in {out} (--overwrite starts over)", file=sys.stderr)
    opts = BatchOptions(device=args.device, thorough=args.thorough, workers=args.workers, engine=args.engine,
                        ray_address=args.ray_address,
                        match=args.match, registry=args.registry, record=args.record, place=args.place,
                        seen_on=args.seen_on)
    written, errors = run(items, out, opts)
    print(f"marktrace: {len(items)} files, {written} written now, {errors} errors -> {out}", file=sys.stderr)
    if args.report:
        from serve.report import write_report

        n = write_report(out, args.dir, {it.name: it.uri for it in items}, Path(args.report))
        print(f"marktrace: report of {n} images -> {args.report}", file=sys.stderr)
    return 0


def _registry(args: argparse.Namespace) -> Registry:
    return Registry.open(args.registry or Settings().registry())


def cmd_match(args: argparse.Namespace) -> int:
    reader = MarkingReader.from_bundles(device=args.device, thorough=args.thorough)
    matcher = SightingRecorder(_registry(args), record=args.record, place=args.place, seen_on=args.seen_on)
    failed = 0
    for p in args.images:
        row = {"file": str(p), **read_file(reader, Path(p), matcher, str(Path(p).resolve()))}
        failed += "error" in row
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 1 if failed == len(args.images) else 0


def cmd_lots_import(args: argparse.Namespace) -> int:
    report = import_file(_registry(args), Path(args.file))
    for e in report.errors:
        print(f"marktrace: {args.file}: row {e.row}: {e.message}", file=sys.stderr)
    print(json.dumps({"added": report.added, "errors": len(report.errors)}))
    return 1 if report.errors else 0


def cmd_lots_export(args: argparse.Namespace) -> int:
    n = export_file(_registry(args), Path(args.file))
    print(json.dumps({"exported": n, "file": args.file}))
    return 0


def cmd_lots_search(args: argparse.Namespace) -> int:
    registry = _registry(args)
    for m in LotMatcher(registry).search(args.query, top=args.top):
        row = m.to_json()
        row["sightings"] = [{"seen_on": s.seen_on, "place": s.place, "image": s.image_ref or None,
                             "description": s.description, "source": s.source}
                            for s in registry.sightings(lot_id=m.lot.id)]
        print(json.dumps(row, ensure_ascii=False))
    return 0


def cmd_video(args: argparse.Namespace) -> int:
    from model.video import VideoReader
    from model.videoio import SamplingConfig, VideoDecodeError

    reader = VideoReader(MarkingReader.from_bundles(device=args.device, thorough=args.thorough),
                         SamplingConfig(every_s=args.every))
    failed = 0
    for p in args.videos:
        t0 = time.perf_counter()
        try:
            row = {"file": str(p), **reader.read(Path(p).read_bytes()).to_json()}
        except (VideoDecodeError, OSError) as exc:
            row, failed = {"file": str(p), "error": str(exc)}, failed + 1
            print(f"marktrace: {p}: {exc}", file=sys.stderr)
        row["seconds"] = round(time.perf_counter() - t0, 3)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 1 if failed == len(args.videos) else 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from serve.app import create_app

    overrides = {"device": args.device}
    if args.registry:
        overrides["registry_url"] = args.registry
    settings = Settings(**overrides)
    logging.getLogger().setLevel(logging.INFO)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="marktrace", description="Find, read and match weapon and munition markings.")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--thorough", action="store_true",
                    help="look again at unsure headstamps and painted lines (more accurate, about twice as slow)")
    ap.add_argument("--registry", help="registry database URL (default: SQLite under MARKTRACE_DATA_DIR)")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("read", help="read images and print one JSON line each (default: the bundled samples)")
    r.add_argument("images", nargs="*", type=Path)
    r.set_defaults(func=cmd_read)
    b = sub.add_parser("batch", help="read every image under DIR (or in a file list) into a prediction JSONL file")
    b.add_argument("dir", help="a folder or a file list, local or an object-storage URL (s3://bucket/prefix, gs://, "
                   "az://; see serve/sources.py)")
    b.add_argument("--out", required=True)
    b.add_argument("--all-files", action="store_true", help="try every file, not only image suffixes")
    b.add_argument("--match", action="store_true", help="match every read against the registry")
    b.add_argument("--workers", type=int, default=1, help="parallel worker processes (Ray: actors)")
    b.add_argument("--engine", choices=["local", "ray"], default="local", help="local processes or Ray Data")
    b.add_argument("--ray-address", help="an existing Ray cluster (default: start a local one)")
    b.add_argument("--overwrite", action="store_true", help="start over instead of resuming OUT")
    b.add_argument("--report", help="also write an HTML report (thumbnails with overlays, reads, counts)")
    _sighting_args(b)
    b.set_defaults(func=cmd_batch)
    m = sub.add_parser("match", help="read images and match each read against the registry")
    m.add_argument("images", nargs="+", type=Path)
    _sighting_args(m)
    m.set_defaults(func=cmd_match)
    v = sub.add_parser("video", help="read videos: sampled frames, tracked markings, fused reads")
    v.add_argument("videos", nargs="+", type=Path)
    v.add_argument("--every", type=float, default=0.5, help="seconds between sampled frames (plus scene changes)")
    v.set_defaults(func=cmd_video)
    sv = sub.add_parser("serve", help="run the HTTP service (uvicorn)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.set_defaults(func=cmd_serve)
    lots = sub.add_parser("lots", help="the lot registry").add_subparsers(dest="lots_command", required=True)
    li = lots.add_parser("import", help="add lots from a CSV or JSON file (bad rows are reported and skipped)")
    li.add_argument("file")
    li.set_defaults(func=cmd_lots_import)
    le = lots.add_parser("export", help="write every lot to CSV, or lots and sightings to JSON")
    le.add_argument("file")
    le.set_defaults(func=cmd_lots_export)
    ls = lots.add_parser("search", help="ranked lots for a typed, possibly partial, lot (? = unknown character)")
    ls.add_argument("query")
    ls.add_argument("--top", type=int, default=5)
    ls.set_defaults(func=cmd_lots_search)
    return ap


def _sighting_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--record", action="store_true", help="store every read as a sighting in the registry")
    p.add_argument("--place", help="where the photos were taken (stored with each sighting)")
    p.add_argument("--seen-on", help="ISO date of the photos, possibly partial (2016-07)")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
