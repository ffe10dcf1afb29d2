"""Archive batch runs: killed midway and rerun, every image is present exactly once; duplicates and EXIF."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image

from datasets.scenes import render_crop

ROOT = Path(__file__).resolve().parent.parent


def _folder(d: Path, n: int = 10) -> None:
    rng = np.random.default_rng(55)
    for k in range(n):
        Image.fromarray(render_crop(rng, level="worn", size_px=160).rgb).save(d / f"img_{k:02d}.jpg", quality=90)
    shutil.copy(d / "img_03.jpg", d / "copy_of_03.jpg")
    exif = Image.Exif()
    exif[ExifTags.Base.DateTime] = "2016:07:14 10:21:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (34.0, 27.0, 36.0), 3: "E", 4: (40.0, 55.0, 12.0)})
    Image.open(d / "img_05.jpg").save(d / "geotagged.jpg", exif=exif.tobytes(), quality=90)


def _cmd(folder: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "serve.cli", "batch", str(folder), "--out", str(out), *extra]


def test_killed_run_resumes_without_losing_or_repeating(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    _folder(folder)
    out = tmp_path / "preds.jsonl"
    proc = subprocess.Popen(_cmd(folder, out), cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = out.read_bytes().count(b"\n")
    assert 3 <= first < 12, "the run was not interrupted midway"
    with open(out, "ab") as f:
        f.write(b'{"file": "img_09.jpg", "markin')  # a torn line, as a kill during a write leaves
    report = tmp_path / "report.html"
    again = subprocess.run(_cmd(folder, out, "--report", str(report)), cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    files = [r["file"] for r in rows]
    expected = sorted(p.name for p in folder.iterdir())
    assert sorted(files) == expected  # every image exactly once
    by_file = {r["file"]: r for r in rows}
    pair = [by_file["copy_of_03.jpg"], by_file["img_03.jpg"]]  # same bytes: read once, the other points at it
    assert sorted(r.get("duplicate_of", "") for r in pair) == ["", "copy_of_03.jpg"]
    assert by_file["geotagged.jpg"]["exif"] == {"datetime": "2016:07:14 10:21:00", "gps": [34.46, 40.92]}
    assert all("markings" in r and "seconds" in r for r in rows)
    page = report.read_text()
    assert page.count("<img ") == len(expected) - 1  # every image but the duplicate has its thumbnail
    assert "Counts by maker" in page and "duplicate of" in page


def test_workers_and_the_ray_engine_give_the_same_rows(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    _folder(folder, n=6)
    one, two, ray = tmp_path / "one.jsonl", tmp_path / "two.jsonl", tmp_path / "ray.jsonl"
    for out, extra in ((one, ["--workers", "1"]), (two, ["--workers", "2"]),
                       (ray, ["--engine", "ray", "--workers", "2"])):
        r = subprocess.run(_cmd(folder, out, *extra), cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr

    def rows(p):
        return {r["file"]: [m.get("segments") or m.get("text") for m in r["markings"]]
                for r in map(json.loads, p.read_text().splitlines())}

    assert rows(one) == rows(two) == rows(ray)
    assert len(rows(ray)) == 8  # six photos, a copy, a geotagged one


def test_a_file_list_reads_the_listed_files_and_reports_missing_ones(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    _folder(folder, n=6)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# photos to score\narchive/img_00.jpg\n{folder / 'img_01.jpg'}\narchive/missing.jpg\n")
    out = tmp_path / "preds.jsonl"
    r = subprocess.run(_cmd(listing, out), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = {row["file"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"archive/img_00.jpg", "archive/img_01.jpg", "archive/missing.jpg"}
    assert "error" in rows["archive/missing.jpg"] and "error" not in rows["archive/img_00.jpg"]
