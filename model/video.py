"""Reading a video: sampled frames read like photos, markings tracked across frames and their reads fused."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from model.charset import cyclic_key
from model.fusion import FusedRead, Sighting, fuse, merge_tracks, track
from model.pipeline import MarkingReader
from model.structures import LineRead, Read
from model.videoio import Frame, SamplingConfig, sample_frames


@dataclass(frozen=True)
class VideoRead:
    frames: tuple[tuple[Frame, tuple[Read | LineRead, ...]], ...]  # sampled frames and their reads
    fused: tuple[FusedRead, ...]

    def to_json(self) -> dict:
        return {
            "frames": [{"index": f.index, "time_s": round(f.time_s, 3), "sharpness": round(f.sharpness, 1),
                        "markings": [r.to_json() for r in reads]} for f, reads in self.frames],
            "fused": [fused_json(x) for x in self.fused],
        }


def sighting_of(read: Read | LineRead, frame: Frame) -> Sighting:
    if isinstance(read, LineRead):
        q = np.asarray(read.quad)
        half = float(np.linalg.norm(q[1] - q[0])) / 2
        cands = tuple(((c.text,), c.score) for c in read.candidates)
        return Sighting(read.kind, frame.time_s, frame.index, (float(q[:, 0].mean()), float(q[:, 1].mean())),
                        max(half, 1.0), cands)
    rim = read.head.rim
    cands = tuple((cyclic_key(c.segments), c.score) for c in read.candidates)
    return Sighting("headstamp", frame.time_s, frame.index, (rim.cx, rim.cy), rim.a_px, cands)


def fused_json(f: FusedRead) -> dict:
    out: dict = {"kind": f.kind, "frames": len(f.evidence)}
    if f.kind == "headstamp":
        out["segments"] = list(f.best)
        out["candidates"] = [{"segments": list(k), "score": round(p, 4)} for k, p in f.candidates]
    else:
        out["text"] = f.best[0] if f.best else ""
        out["candidates"] = [{"text": k[0], "score": round(p, 4)} for k, p in f.candidates]
    if f.char_probs:
        out["char_probs"] = [[round(x, 3) for x in seg] for seg in f.char_probs]
    out["evidence"] = [{"time_s": round(s.time_s, 3), "frame": s.frame_index,
                        "center": [round(s.center[0], 1), round(s.center[1], 1)], "size": round(s.size_px, 1),
                        "best": list(s.candidates[0][0]) if s.candidates else []} for s in f.evidence]
    return out


FRAMES_PER_BATCH = 8  # frames read together between deadline checks


class VideoReader:
    def __init__(self, reader: MarkingReader, cfg: SamplingConfig = SamplingConfig()) -> None:
        self.reader, self.cfg = reader, cfg

    def read(self, data: bytes) -> VideoRead:
        """Sample, read, track and fuse. Raises :class:`model.videoio.VideoDecodeError` on a bad file."""
        frames = sample_frames(data, self.cfg)
        return self.read_frames(frames)

    def read_frames(self, frames: list[Frame], *, deadline: float | None = None) -> VideoRead:
        """Read, track and fuse; with a ``deadline`` (``time.monotonic()``), TimeoutError once it passes."""
        reads: list[list[Read | LineRead]] = []
        for k in range(0, len(frames), FRAMES_PER_BATCH):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"reading stopped at frame {frames[k].index}")
            reads += self.reader.read_batch([f.rgb for f in frames[k:k + FRAMES_PER_BATCH]])
        sightings = [sighting_of(r, f) for f, rs in zip(frames, reads) for r in rs]
        fused = tuple(fuse(t) for t in merge_tracks(track(sightings)) if t.kind != "text")
        return VideoRead(tuple((f, tuple(rs)) for f, rs in zip(frames, reads)), fused)
