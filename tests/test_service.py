"""The HTTP service over real HTTP: uvicorn on a loopback port, rendered images, a real SQLite registry."""

import io
import socket
import threading
import time

import httpx
import numpy as np
import pytest
import uvicorn
from PIL import Image

from datasets.clips import encode_mp4
from datasets.sampler import Segment
from datasets.scenes import render_crop
from serve.app import create_app
from serve.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings: Settings):
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("svc"), max_upload_bytes=2_000_000, max_images=5,
                        max_pixels=4_000_000, api_keys=["k1"], micro_batch_images=4)
    server, thread, url = _serve(settings)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


KEY = {"X-API-Key": "k1"}


def test_health_ready_version_and_api_keys(service):
    assert httpx.get(f"{service}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{service}/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True, "models": True, "registry": True}
    assert httpx.get(f"{service}/v1/version").status_code == 401
    assert httpx.get(f"{service}/v1/version", headers={"X-API-Key": "nope"}).status_code == 403
    v = httpx.get(f"{service}/v1/version", headers=KEY).json()
    assert {b["name"] for b in v["bundles"]} == {"headstamp_recognizer", "case_head_detector", "line_detector",
                                                 "lot_recognizer"}
    assert all(len(b["sha256"]) == 64 for b in v["bundles"]) and v["thorough"] is False
    spec = httpx.get(f"{service}/openapi.json").json()
    assert {"/v1/read", "/v1/match", "/v1/lots", "/v1/sightings", "/readyz"} <= set(spec["paths"])


def test_read_returns_heads_and_keeps_good_files_beside_bad_ones(service):
    rng = np.random.default_rng(31)
    scene = render_crop(rng, level="clean", size_px=224, segments=[Segment("539", "539"), Segment("83", "83")])
    files = [("files", ("head.png", _png(scene.rgb), "image/png")),
             ("files", ("empty.jpg", b"", "image/jpeg")),
             ("files", ("notes.png", b"plain text, not an image", "image/png")),
             ("files", ("polyglot.jpg", b"%PDF-1.4\n" + _png(scene.rgb), "image/jpeg")),
             ("files", ("truncated.png", _png(scene.rgb)[:5000], "image/png"))]
    r = httpx.post(f"{service}/v1/read", files=files, headers=KEY, timeout=60)
    assert r.status_code == 200, r.text
    images = {i["file"]: i for i in r.json()["images"]}
    head = images["head.png"]
    assert head["error"] is None and len(head["markings"]) == 1
    m = head["markings"][0]
    truth = scene.heads[0].rim
    assert abs(m["center"][0] - truth.cx) < 0.3 * truth.a_px and abs(m["center"][1] - truth.cy) < 0.3 * truth.a_px
    assert m["candidates"] and all("explanation" in x for x in m["matches"])
    assert images["empty.jpg"]["error"]["code"] == "empty_file"
    assert images["notes.png"]["error"]["code"] == "unsupported_image"
    assert images["polyglot.jpg"]["error"]["code"] == "unsupported_image"
    assert images["truncated.png"]["error"]["code"] == "unsupported_image"


def test_request_limits_answer_with_clear_4xx(service):
    big = np.zeros((2100, 2100, 3), np.uint8)  # 4.4 Mpx > max_pixels, small as a PNG
    r = httpx.post(f"{service}/v1/read", files=[("files", ("big.png", _png(big), "image/png"))], headers=KEY)
    assert r.status_code == 200 and "too large" in r.json()["images"][0]["error"]["message"]
    huge = httpx.post(f"{service}/v1/read", headers=KEY,
                      files=[("files", ("x.jpg", b"\xff\xd8" + b"0" * 2_100_000, "image/jpeg"))])
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "file_too_large"
    many = [("files", (f"{k}.png", b"x", "image/png")) for k in range(6)]
    too_many = httpx.post(f"{service}/v1/read", files=many, headers=KEY)
    assert too_many.status_code == 413 and too_many.json()["error"]["code"] == "too_many_images"
    assert httpx.post(f"{service}/v1/read", headers=KEY).status_code == 422
    assert httpx.post(f"{service}/v1/match", json={}, headers=KEY).json()["error"]["code"] == "empty_query"


def test_match_registry_and_sightings_routes(service):
    r = httpx.post(f"{service}/v1/match", json={"query": "12-1?-451"}, headers=KEY).json()
    top = r["lots"][0]
    assert top["lot"] == "12-14-451" and top["sightings"][0]["place"] == "Al Bukamal (Syria)"
    cands = {"candidates": [{"text": "((1O))-04-1I", "score": 0.7}, {"text": "10-04-17", "score": 0.3}]}
    assert httpx.post(f"{service}/v1/match", json=cands, headers=KEY).json()["lots"][0]["lot"] == "((10))-04-11"
    hs = httpx.post(f"{service}/v1/match", json={"headstamp": [{"segments": ["83", "539"]}]}, headers=KEY).json()
    assert hs["headstamps"][0]["code"] == "539" and hs["headstamps"][0]["year"] == "83"
    added = httpx.post(f"{service}/v1/lots", headers=KEY, json=[
        {"lot_text": "44-02-118", "nomenclature": "OG-7V 40 mm", "source": "test"},
        {"lot_text": "44-02-118", "nomenclature": "OG-7V 40 mm", "source": "again"}]).json()
    assert added["added"] == 1 and added["errors"][0]["row"] == 2
    lot_id = httpx.post(f"{service}/v1/match", json={"query": "44-02-118"}, headers=KEY).json()["lots"][0]["lot_id"]
    for day, place in (("2024-05-02", "B"), ("2023-01-09", "A")):
        s = httpx.post(f"{service}/v1/sightings", headers=KEY, json={
            "kind": "lot", "read_text": "44-02-118", "lot_id": lot_id, "seen_on": day, "place": place,
            "image_ref": f"{place}.jpg"})
        assert s.status_code == 200 and s.json()["id"] is not None
    chain = httpx.get(f"{service}/v1/lots/{lot_id}/sightings", headers=KEY).json()
    assert [c["place"] for c in chain] == ["A", "B"]
    assert httpx.get(f"{service}/v1/lots/999999/sightings", headers=KEY).status_code == 404
    assert httpx.get(f"{service}/v1/lots/{2**70}/sightings", headers=KEY).status_code == 422  # beyond 64-bit ids


def test_frames_fuse_stills_and_reject_bad_media(service):
    rng = np.random.default_rng(8)
    scene = render_crop(rng, level="clean", size_px=224, segments=[Segment("711", "711"), Segment("88", "88")])
    stills = [("files", (f"f{k}.png", _png(scene.rgb), "image/png")) for k in range(3)]
    r = httpx.post(f"{service}/v1/frames", files=stills, headers=KEY, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["index"] for f in body["frames"]] == [0, 1, 2]
    heads = [f for f in body["fused"] if f["kind"] == "headstamp"]
    assert len(heads) == 1 and heads[0]["frames"] == 3
    assert [e["time_s"] for e in heads[0]["evidence"]] == [0.0, 1.0, 2.0]
    assert [len(p) for p in heads[0]["char_probs"]] == [len(s) for s in heads[0]["segments"]]
    bad = httpx.post(f"{service}/v1/frames", files=[("files", ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500,
                                                             "video/mp4"))], headers=KEY)
    assert bad.status_code == 415 and bad.json()["error"]["code"] == "unsupported_media"


def _clip(seconds: float, fps: int = 5) -> bytes:
    frames = [np.full((48, 64, 3), 40 + 10 * k % 200, np.uint8) for k in range(int(seconds * fps))]
    return encode_mp4(frames, fps=fps)


@pytest.fixture(scope="module")
def hurried(tmp_path_factory):
    """A service whose requests must finish within a millisecond and whose videos may run one second."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("hurried"), request_timeout_s=0.001, max_video_seconds=1.0)
    server, thread, url = _serve(settings)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def test_request_deadline_and_video_length(hurried):
    scene = render_crop(np.random.default_rng(9), level="clean", size_px=224)
    files = [("files", ("head.png", _png(scene.rgb), "image/png")), ("files", ("empty.jpg", b"", "image/jpeg"))]
    r = httpx.post(f"{hurried}/v1/read", files=files, timeout=60)
    assert r.status_code == 200, r.text
    errors = {im["file"]: im["error"]["code"] for im in r.json()["images"]}
    assert errors == {"head.png": "timeout", "empty.jpg": "empty_file"}  # each file keeps its own outcome
    stills = [("files", (f"f{k}.png", _png(scene.rgb), "image/png")) for k in range(3)]
    late = httpx.post(f"{hurried}/v1/frames", files=stills, timeout=60)
    assert late.status_code == 503 and late.json()["error"]["code"] == "timeout"
    long = httpx.post(f"{hurried}/v1/frames", files=[("files", ("clip.mp4", _clip(3.0), "video/mp4"))], timeout=60)
    assert long.status_code == 413 and long.json()["error"]["code"] == "video_too_long"
    assert "3.0 s" in long.json()["error"]["message"]
    assert httpx.get(f"{hurried}/healthz").json() == {"status": "ok"}


def test_match_refuses_out_of_range_scores_instead_of_failing(service):
    """Found by schemathesis: candidate scores near the float limit overflowed into a 500."""
    huge = {"candidates": [{"text": "12-14-451", "score": 1.6e308}, {"text": "12-14-457", "score": 8.8e307}]}
    bad_probs = {"candidates": [{"text": "12-14-451", "char_probs": [0.9, -1.7e308, 5e16]}]}
    for body in (huge, bad_probs):
        r = httpx.post(f"{service}/v1/match", json=body, headers=KEY, timeout=30)
        assert r.status_code == 422, r.text
    ok = httpx.post(f"{service}/v1/match", json={"candidates": [{"text": "12-14-451", "score": 0.9}]}, headers=KEY,
                    timeout=30)
    assert ok.status_code == 200 and ok.json()["lots"][0]["lot"] == "12-14-451"


def test_a_thorough_service_reads_as_the_thorough_cli_does(tmp_path, monkeypatch):
    """MARKTRACE_THOROUGH=1: the service reads with model.pipeline.THOROUGH, says so in /v1/version, and reads a
    head as the thorough reader does in-process."""
    from model.pipeline import MarkingReader

    monkeypatch.setenv("MARKTRACE_THOROUGH", "1")
    settings = Settings(data_dir=tmp_path)
    assert settings.thorough
    server, thread, url = _serve(settings)
    try:
        assert httpx.get(f"{url}/v1/version").json()["thorough"] is True
        scene = render_crop(np.random.default_rng(31), level="worn", size_px=224)
        r = httpx.post(f"{url}/v1/read", files=[("files", ("head.png", _png(scene.rgb), "image/png"))], timeout=60)
        assert r.status_code == 200, r.text
        got = [(m["segments"], [c["segments"] for c in m["candidates"]]) for m in r.json()["images"][0]["markings"]
               if m["kind"] == "headstamp"]
        def reads(thorough: bool) -> list:
            return [(list(x.best.segments), [list(c.segments) for c in x.candidates])
                    for x in MarkingReader.from_bundles(threads=2, thorough=thorough).read(scene.rgb)
                    if x.kind == "headstamp"]
        assert got and got == reads(True) and got != reads(False)  # this head reads otherwise by default
    finally:
        server.should_exit = True
        thread.join(timeout=10)
