"""Multi-frame fusion on rendered clips: does the fused read beat single frames?

    python bench/video.py [--kind headstamp|lot] [--clips 12] [--frames 12] [--seed 5]

Each clip is a worn cartridge head (or a worn painted lot marking) drifting across a 960x540 background, every
frame with its own motion blur, noise and JPEG compression (some frames nearly unreadable), encoded as an MPEG-4
video and read with ``marktrace video``'s reader. Reported per clip set: the share of clips whose fused read is
exact, against the average frame (share of sampled frames read exactly) and the best frame (the frame whose own
top candidate has the highest probability).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets import degrade  # noqa: E402
from datasets.clips import encode_mp4  # noqa: E402
from datasets.headstamp import render_head  # noqa: E402
from datasets.lots import render_marking  # noqa: E402
from datasets.scenes import _damage_face, background, place_head  # noqa: E402
from model.charset import cyclic_key  # noqa: E402
from model.fusion import fuse, merge_tracks, track  # noqa: E402
from model.pipeline import MarkingReader  # noqa: E402
from model.video import VideoReader, sighting_of  # noqa: E402
from model.videoio import SamplingConfig  # noqa: E402

METHODS = {"reads": "whole candidate reads", "chars": "character by character",
           "both": "both, geometric mean (default)"}


def degrade_frame(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rgb = np.clip(canvas, 0, 255).astype(np.uint8)
    return degrade.photometric(float(rng.uniform(0.1, 0.9)), seed=int(rng.integers(2**31)))(image=rgb)["image"]


def lot_clip(rng: np.random.Generator, n_frames: int) -> tuple[bytes, tuple[str, ...]]:
    """A worn painted marking (a crate or rocket body) panning across the frame."""
    scene = render_marking(rng, level="worn", width=int(rng.choice([400, 480])))
    h, w = scene.rgb.shape[:2]
    ground = background(540, 960, rng)
    x0, y0 = rng.uniform(40, 960 - w - 40), rng.uniform(20, 540 - h - 20)
    vx, vy = rng.uniform(-6, 6), rng.uniform(-3, 3)
    frames = []
    for k in range(n_frames):
        canvas = ground.copy()
        x, y = int(np.clip(x0 + vx * k, 0, 960 - w)), int(np.clip(y0 + vy * k, 0, 540 - h))
        canvas[y:y + h, x:x + w] = scene.rgb
        frames.append(degrade_frame(canvas, rng))
    return encode_mp4(frames, fps=5, bit_rate=1_500_000), (scene.lot.text,)


def head_clip(rng: np.random.Generator, n_frames: int) -> tuple[bytes, tuple[str, ...]]:
    """A worn cartridge head drifting across the frame."""
    head = render_head(rng, radius_px=100)
    face = _damage_face(head, rng, "worn")
    ground = background(540, 960, rng)
    x0, y0 = rng.uniform(250, 450), rng.uniform(200, 340)
    vx, vy = rng.uniform(-12, 12), rng.uniform(-6, 6)
    radius = rng.uniform(55, 85)
    frames = []
    for k in range(n_frames):
        canvas = ground.copy()
        place_head(canvas, face, head, centre=(x0 + vx * k, y0 + vy * k), radius_px=radius, tilt_k=1.0,
                   tilt_rad=0.0)
        frames.append(degrade_frame(canvas, rng))
    truth = cyclic_key([s.segment.label for s in sorted(head.segments, key=lambda s: s.center_rad % (2 * np.pi))])
    return encode_mp4(frames, fps=5, bit_rate=1_500_000), truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--kind", choices=["headstamp", "lot"], default="headstamp")
    a = ap.parse_args()
    make_clip = head_clip if a.kind == "headstamp" else lot_clip
    rng = np.random.default_rng(a.seed)
    reader = VideoReader(MarkingReader.from_bundles(threads=2), SamplingConfig(every_s=0.0, duplicate_bits=-1,
                                                                               blur_keep=0.0))
    fused_ok = {m: 0 for m in METHODS}
    best_ok = frames_ok = frames_n = 0
    t0 = time.perf_counter()
    for _ in range(a.clips):
        data, truth = make_clip(rng, a.frames)
        result = reader.read(data)
        sightings = [sighting_of(r, f) for f, reads in result.frames for r in reads]
        tracks = [t for t in merge_tracks(track(sightings)) if t.kind == a.kind]
        main_track = max(tracks, key=lambda t: len(t.sightings), default=None)
        for m in METHODS:
            fused_ok[m] += main_track is not None and fuse(main_track, method=m).best == truth
        tops = [(x.candidates[0][1], x.candidates[0][0]) for x in sightings if x.kind == a.kind and x.candidates]
        best_ok += bool(tops) and max(tops)[1] == truth
        frames_ok += sum(k == truth for _, k in tops)
        frames_n += len(result.frames)
    secs = time.perf_counter() - t0
    print(f"| {a.kind} reading | exact (of {a.clips} clips, {a.frames} frames each) |\n|---|---|")
    print(f"| average single frame | {frames_ok / max(1, frames_n):.3f} |")
    print(f"| best single frame (highest top-candidate probability) | {best_ok / a.clips:.3f} |")
    for m, label in METHODS.items():
        print(f"| fused over the clip: {label} | {fused_ok[m] / a.clips:.3f} |")
    print(f"\n{frames_n} frames in {secs:.1f} s ({frames_n / secs:.1f} frames/s including decoding)")


if __name__ == "__main__":
    main()
