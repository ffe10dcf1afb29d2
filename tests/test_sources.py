"""Batch sources: folders, file lists and object storage (a real S3 API on loopback, served by moto)."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datasets.scenes import render_crop
from serve.sources import Item, SourceError, is_url, list_source, read_bytes

ROOT = Path(__file__).resolve().parent.parent


def _jpeg(rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(render_crop(rng, level="clean", size_px=160).rgb).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_local_folder_and_file_list(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/one.jpg", "a/b/two.PNG", "a/notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert list_source(str(tmp_path / "a")) == [Item("b/two.PNG", str(tmp_path / "a/b/two.PNG")),
                                                 Item("one.jpg", str(tmp_path / "a/one.jpg"))]
    assert len(list_source(str(tmp_path / "a"), all_files=True)) == 3
    listing = tmp_path / "list.txt"
    listing.write_text(f"# comment\na/one.jpg\n{tmp_path / 'a/b/two.PNG'}\nfile://{tmp_path}/a/notes.txt\n\n")
    items = list_source(str(listing))
    assert [i.name for i in items] == ["a/one.jpg", "a/b/two.PNG", f"file://{tmp_path}/a/notes.txt"]
    assert read_bytes(items[0].uri) == b"x" and read_bytes(items[2].uri) == b"x"
    with pytest.raises(SourceError, match="neither a folder nor a file list"):
        list_source(str(tmp_path / "nowhere"))
    with pytest.raises(OSError):
        read_bytes(f"file://{tmp_path}/missing.jpg")
    assert is_url("s3://bucket/x") and is_url("file:///tmp") and not is_url("/tmp/a://b") and not is_url("c:x")


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a loopback port, and the environment that points S3 clients at it."""
    pytest.importorskip("s3fs")
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    fs.call_s3("create_bucket", Bucket="archive")
    yield fs, {**os.environ, **env}
    server.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_batch_over_an_s3_bucket_with_a_corrupt_object_resumes_and_reports(s3, tmp_path):
    fs, env = s3
    rng = np.random.default_rng(3)
    for name in ("photos/site1/a.jpg", "photos/site1/b.jpg", "photos/site2/c.jpg"):
        fs.pipe_file(f"archive/{name}", _jpeg(rng))
    fs.pipe_file("archive/photos/site2/broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    fs.pipe_file("archive/photos/readme.txt", b"not an image")
    out, report = tmp_path / "preds.jsonl", tmp_path / "report.html"
    cmd = [sys.executable, "-m", "serve.cli", "batch", "s3://archive/photos", "--out", str(out),
           "--report", str(report)]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = {row["file"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"site1/a.jpg", "site1/b.jpg", "site2/c.jpg", "site2/broken.jpg"}
    assert "error" in rows["site2/broken.jpg"] and not rows["site2/broken.jpg"]["markings"]
    good = [rows[k] for k in ("site1/a.jpg", "site1/b.jpg", "site2/c.jpg")]
    assert all("error" not in g and g["markings"] and g["markings"][0]["kind"] == "headstamp" for g in good)
    assert report.read_text().count("data:image/jpeg;base64,") == 3  # thumbnails fetched from the bucket
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "0 written now" in again.stderr
    assert len(out.read_text().splitlines()) == 4
    pytest.importorskip("ray")
    on_ray = tmp_path / "ray.jsonl"  # the Ray engine's actors read the same objects from the bucket
    r = subprocess.run([sys.executable, "-m", "serve.cli", "batch", "s3://archive/photos", "--out", str(on_ray),
                        "--engine", "ray", "--workers", "1"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    ray_rows = {row["file"]: row for row in map(json.loads, on_ray.read_text().splitlines())}

    def reads(rs):
        return {k: [m.get("segments") for m in v["markings"]] for k, v in rs.items()}

    assert reads(ray_rows) == reads(rows)


def test_file_list_in_a_bucket_and_a_missing_bucket(s3, tmp_path):
    fs, env = s3
    fs.pipe_file("archive/lists/today.txt", b"../photos/site1/a.jpg\ns3://archive/photos/site2/c.jpg\nnope.jpg\n")
    fs.pipe_file("archive/photos/site1/a.jpg", _jpeg(np.random.default_rng(4)))
    fs.pipe_file("archive/photos/site2/c.jpg", _jpeg(np.random.default_rng(5)))
    items = list_source("s3://archive/lists/today.txt")
    assert [i.uri for i in items] == ["s3://archive/photos/site1/a.jpg", "s3://archive/photos/site2/c.jpg",
                                      "s3://archive/lists/nope.jpg"]
    out = tmp_path / "preds.jsonl"
    cmd = [sys.executable, "-m", "serve.cli", "batch", "s3://archive/lists/today.txt", "--out", str(out)]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = {row["file"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert "error" in rows["nope.jpg"]
    missing = subprocess.run([sys.executable, "-m", "serve.cli", "batch", "s3://no-such-bucket/x", "--out",
                              str(tmp_path / "x.jsonl")], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode == 2 and "s3://no-such-bucket/x" in missing.stderr
