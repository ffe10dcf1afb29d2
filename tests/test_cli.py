"""The CLI over real files: good renders and bad files in one folder; every file gets a line."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datasets.scenes import render_crop

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    rng = np.random.default_rng(404)
    for k in range(3):
        Image.fromarray(render_crop(rng, level="clean", size_px=224).rgb).save(d / f"good_{k}.jpg", quality=92)
    (d / "sub").mkdir()
    Image.fromarray(render_crop(rng, level="clean", size_px=160).rgb).save(d / "sub" / "nested.png")
    (d / "empty.jpg").write_bytes(b"")
    (d / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50)
    (d / "notes.png").write_bytes(b"this is a text file named like an image\n")
    return d


def _run(*args):
    return subprocess.run([sys.executable, "-m", "serve.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_batch_reports_bad_files_and_keeps_the_rest(folder, tmp_path):
    out = tmp_path / "preds.jsonl"
    proc = _run("batch", str(folder), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = {r["file"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"good_0.jpg", "good_1.jpg", "good_2.jpg", "sub/nested.png", "empty.jpg", "corrupt.jpg",
                         "notes.png"}
    assert rows["empty.jpg"]["error"] == "empty file"
    assert "not a readable image" in rows["corrupt.jpg"]["error"]
    assert "not a readable image" in rows["notes.png"]["error"]
    for name in ("good_0.jpg", "good_1.jpg", "good_2.jpg", "sub/nested.png"):
        row = rows[name]
        assert "error" not in row and row["seconds"] > 0
        assert row["markings"], name  # a case head was found and read
        m = row["markings"][0]
        assert m["kind"] == "headstamp" and m["segments"] and m["candidates"]
        assert len(m["center"]) == 2 and m["radius"] > 20
    assert "3 errors" in proc.stderr


def test_read_prints_json_per_image(folder):
    proc = _run("read", str(folder / "good_0.jpg"), str(folder / "empty.jpg"))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(rows) == 2 and rows[0]["markings"] and rows[1]["error"] == "empty file"


def test_thorough_reading_from_the_command_line(folder):
    proc = _run("--thorough", "read", str(folder / "good_1.jpg"), str(folder / "corrupt.jpg"))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(rows) == 2 and "not a readable image" in rows[1]["error"]
    m = rows[0]["markings"][0]
    assert m["kind"] == "headstamp" and m["segments"] and m["candidates"]
