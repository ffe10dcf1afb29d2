"""Batch scoring of photo archives (folders, file lists, object storage: see :mod:`serve.sources`): resumable
JSONL output, parallel workers, progress, EXIF, duplicates.

The output file is the journal: each finished image is one complete line, flushed at once, so a run that is
killed loses at most the image in flight, and a rerun skips every file already written (a torn last line is
dropped and redone). Duplicate images (same bytes) are read once; later copies point at the first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image

from serve.sources import Item, is_url, read_bytes


@dataclass(frozen=True)
class BatchOptions:
    device: str = "cpu"
    thorough: bool = False  # MarkingReader.from_bundles(thorough=...)
    workers: int = 1
    engine: str = "local"  # local (this machine's processes) | ray (Ray Data actors)
    ray_address: str | None = None  # an existing Ray cluster; None starts a local one
    match: bool = False
    registry: str | None = None
    record: bool = False
    place: str | None = None
    seen_on: str | None = None


def done_files(out: Path) -> tuple[set[str], dict[str, str]]:
    """Files already in a previous run's output, and their content hashes; a torn last line is cut off."""
    if not out.exists():
        return set(), {}
    raw = out.read_bytes()
    keep = raw[: raw.rfind(b"\n") + 1]
    if len(keep) != len(raw):
        out.write_bytes(keep)  # the line being written when the last run stopped
    done, hashes = set(), {}
    for line in keep.decode("utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        done.add(row["file"])
        if row.get("sha256") and "duplicate_of" not in row:
            hashes.setdefault(row["sha256"], row["file"])
    return done, hashes


def exif_of(data: bytes) -> dict:
    """Capture date and GPS position when the image carries them."""
    import io

    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif()
    except Exception:  # noqa: BLE001 - EXIF is optional; decoding errors are reported by the reader
        return {}
    out: dict = {}
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    when = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if when:
        out["datetime"] = str(when)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    try:
        lat = _degrees(gps[2], gps.get(1, "N"))
        lon = _degrees(gps[4], gps.get(3, "E"))
        out["gps"] = [round(lat, 6), round(lon, 6)]
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        pass
    return out


def _degrees(dms, ref: str) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    return -value if ref in ("S", "W") else value


_worker: dict = {}


def _init(opts: BatchOptions) -> None:
    from model.matching.store import Registry
    from model.pipeline import MarkingReader
    from serve.cli import SightingRecorder

    threads = max(1, (os.cpu_count() or 2) // max(1, opts.workers))
    _worker["reader"] = MarkingReader.from_bundles(device=opts.device, threads=threads, thorough=opts.thorough)
    _worker["matcher"] = None
    if opts.match:
        from serve.settings import Settings

        registry = Registry.open(opts.registry or Settings().registry())
        _worker["matcher"] = SightingRecorder(registry, record=opts.record, place=opts.place, seen_on=opts.seen_on)


def _score(job: tuple[str, str]) -> dict:
    """One image read once: its prediction row, with EXIF when the file carries it."""
    from serve.cli import read_file

    name, uri = job
    ref = uri if is_url(uri) else str(Path(uri).resolve())
    try:
        data = read_bytes(uri)
    except OSError as exc:
        return {"file": name, "markings": [], "error": str(exc), "seconds": 0.0}
    row = {"file": name, **read_file(_worker["reader"], uri, _worker["matcher"], ref, data=data)}
    exif = exif_of(data) if "error" not in row else {}
    return {**row, **({"exif": exif} if exif else {})}


def run(items: list[Item], out: Path, opts: BatchOptions) -> tuple[int, int]:
    """Score ``items`` into ``out``, resuming; returns (images written now, errors)."""
    done, hashes = done_files(out)
    todo: list[tuple[str, str, str | None]] = []
    dup_rows = []
    for it in items:
        if it.name in done:
            continue
        try:
            digest = hashlib.sha256(read_bytes(it.uri)).hexdigest()
        except OSError:
            digest = None
        if digest and digest in hashes:
            dup_rows.append({"file": it.name, "sha256": digest, "duplicate_of": hashes[digest], "markings": [],
                             "seconds": 0.0})
            continue
        if digest:
            hashes[digest] = it.name
        todo.append((it.name, it.uri, digest))
    errors = written = 0
    t0 = time.perf_counter()
    with open(out, "a", encoding="utf-8") as f:
        for row in _results(todo, opts):
            errors += "error" in row
            written += 1
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            _progress(written, len(todo), t0)
        for row in dup_rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
    if todo:
        print(file=sys.stderr)
    return written, errors


class _RayScorer:
    """A Ray Data actor: loads the bundles once, then scores batches of (file, path) rows."""

    def __init__(self, opts: BatchOptions) -> None:
        _init(opts)

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        rows = [_score((str(name), str(uri))) for name, uri in zip(batch["name"], batch["uri"])]
        return {"row": np.array([json.dumps(r, ensure_ascii=False) for r in rows], dtype=object)}


def _ray_rows(jobs: list[tuple[str, str]], opts: BatchOptions) -> Iterator[dict]:
    """Score on Ray Data: an actor pool of ``workers`` actors (one GPU each with --device cuda), results
    streamed back to this process, which alone writes the journal."""
    import ray

    if not ray.is_initialized():
        ray.init(address=opts.ray_address, include_dashboard=False, log_to_driver=False,
                 **({} if opts.ray_address else {"num_cpus": max(1, opts.workers)}))
    ds = ray.data.from_items([{"name": name, "uri": uri} for name, uri in jobs])
    gpu = {"num_gpus": 1} if opts.device == "cuda" else {}
    scored = ds.map_batches(_RayScorer, fn_constructor_args=(dataclasses.replace(opts, workers=1),), batch_size=4,
                            concurrency=max(1, opts.workers), num_cpus=1, **gpu)
    for batch in scored.iter_batches(batch_size=1, batch_format="numpy"):
        yield json.loads(str(batch["row"][0]))


def _results(todo: list[tuple[str, str, str | None]], opts: BatchOptions) -> Iterator[dict]:
    jobs = [(name, uri) for name, uri, _ in todo]
    digests = {name: d for name, _, d in todo}
    if opts.engine == "ray":
        rows = _ray_rows(jobs, opts)
    elif opts.workers <= 1:
        _init(opts)
        rows = map(_score, jobs)
    else:
        pool = mp.get_context("spawn").Pool(opts.workers, initializer=_init, initargs=(opts,))
        rows = pool.imap(_score, jobs, chunksize=2)
    for row in rows:
        yield {**row, "sha256": digests[row["file"]]}
    if opts.engine != "ray" and opts.workers > 1:
        pool.close()
        pool.join()


def _progress(n: int, total: int, t0: float) -> None:
    rate = n / max(1e-9, time.perf_counter() - t0)
    eta = (total - n) / rate if rate else 0.0
    print(f"\rmarktrace: {n}/{total} images, {rate:.1f} img/s, ETA {int(eta // 60)}m{int(eta % 60):02d}s",
          end="", file=sys.stderr, flush=True)
