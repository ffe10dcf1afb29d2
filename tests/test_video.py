"""Video: a real (tiny, generated) video decoded by PyAV, sampling rules, tracking and fusion, bad files."""

import cv2
import numpy as np
import pytest

from datasets.clips import encode_mp4
from datasets.headstamp import render_head
from datasets.sampler import Segment
from datasets.scenes import background, place_head
from model.charset import cyclic_key
from model.fusion import Sighting, fuse, track
from model.pipeline import MarkingReader
from model.video import VideoReader
from model.videoio import SamplingConfig, VideoDecodeError, sample_frames


@pytest.fixture(scope="module")
def moving_head():
    """3 s at 10 fps: a clean head drifting right over a 960x540 background, every third frame motion-blurred."""
    rng = np.random.default_rng(12)
    head = render_head(rng, radius_px=100, segments=[Segment("711", "711"), Segment("88", "88")])
    ground = background(540, 960, rng)
    frames = []
    for k in range(30):
        canvas = ground.copy()
        place_head(canvas, head.rgb.astype(np.float32), head, centre=(250 + 15 * k, 270), radius_px=60,
                   tilt_k=1.0, tilt_rad=0.0)
        frame = np.clip(canvas, 0, 255).astype(np.uint8)
        if k % 3 == 2:
            frame = cv2.blur(frame, (9, 1))
        frames.append(frame)
    return encode_mp4(frames), frames


def test_sampling_keeps_the_rate_and_drops_duplicates(moving_head):
    data, _ = moving_head
    frames = sample_frames(data, SamplingConfig(every_s=0.5, blur_keep=0.0))
    times = [f.time_s for f in frames]
    assert times == sorted(times) and len(frames) >= 4
    assert all(b - a >= 0.45 for a, b in zip(times, times[1:]))
    static = encode_mp4([np.full((120, 160, 3), 128, np.uint8)] * 20)
    assert len(sample_frames(static, SamplingConfig(every_s=0.2))) == 1  # nothing changes: one frame
    sharp = sample_frames(data, SamplingConfig(every_s=0.0, duplicate_bits=-1, blur_keep=0.9))
    assert len(sharp) < 30  # the blurred third of the frames is dropped


def test_bad_videos_give_clear_errors(moving_head):
    data, _ = moving_head
    for bad in (b"", b"not a video at all" * 100, data[: len(data) // 10]):
        with pytest.raises(VideoDecodeError):
            sample_frames(bad)


def _sighting(t: float, x: float, cands):
    return Sighting("headstamp", t, int(t * 10), (x, 100.0), 50.0, tuple((cyclic_key(c), p) for c, p in cands))


def test_fusion_recovers_a_character_readable_in_some_frames():
    truth, wrong = ("711", "88"), ("711", "38")
    frames = [_sighting(0.0, 100, [(wrong, 0.6), (truth, 0.4)]),
              _sighting(0.5, 110, [(("88", "711"), 0.9), (wrong, 0.1)]),  # another seam: same cyclic read
              _sighting(1.0, 120, [(wrong, 0.55), (truth, 0.45)]),
              _sighting(1.0, 300, [(("17", "99"), 1.0)])]  # a different head in the same frame
    tracks = track(frames)
    assert sorted(len(t.sightings) for t in tracks) == [1, 3]
    fused = fuse(max(tracks, key=lambda t: len(t.sightings)))
    assert fused.best == cyclic_key(truth) and fused.candidates[0][1] > 0.5
    assert [s.time_s for s in fused.evidence] == [0.0, 0.5, 1.0]


def test_video_reader_tracks_one_head_across_frames(moving_head):
    data, frames = moving_head
    result = VideoReader(MarkingReader.from_bundles(threads=2), SamplingConfig(every_s=0.3)).read(data)
    heads = [f for f in result.fused if f.kind == "headstamp"]
    assert len(heads) == 1 and len(heads[0].evidence) >= 4
    xs = [s.center[0] for s in heads[0].evidence]
    assert xs == sorted(xs)  # the head drifts right
    single = [r for _, reads in result.frames for r in reads if hasattr(r, "head")]
    assert heads[0].best in {cyclic_key(c.segments) for r in single for c in r.candidates}
    doc = result.to_json()
    assert doc["fused"][0]["evidence"][0]["time_s"] <= doc["fused"][0]["evidence"][-1]["time_s"]
