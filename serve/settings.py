"""Service and CLI settings: the one place that reads the environment (``MARKTRACE_*`` variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from model.matching.store import default_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKTRACE_")

    data_dir: Path = Path.home() / ".local" / "share" / "marktrace"
    registry_url: str | None = None  # SQLAlchemy URL; default: SQLite file under data_dir
    device: str = "cpu"  # cpu | cuda (ONNX Runtime CUDA provider; falls back to CPU with a log line)
    threads: int = 0  # ONNX Runtime intra-op threads (0: its default)
    thorough: bool = False  # look again at unsure heads and lines (model.pipeline.THOROUGH; about twice as slow)
    api_keys: list[str] = []  # when set, every /v1 route needs one in the X-API-Key header
    max_upload_bytes: int = 20_000_000  # per file
    max_request_bytes: int = 100_000_000  # all files of one request
    max_images: int = 16  # per request
    max_pixels: int = 50_000_000  # per image, before decoding (decompression bombs)
    micro_batch_images: int = 1  # >1: images collected into one recogniser run across requests (pays on GPU)
    micro_batch_wait_ms: float = 8.0  # how long the first image waits for company
    request_timeout_s: float = 60.0  # deadline for a whole request; images not read by then get a timeout error
    max_video_seconds: float = 300.0  # longer videos (by their declared running time) get 413 video_too_long
    max_video_frames: int = 120  # sampled frames read per video

    def registry(self) -> str:
        return self.registry_url or default_url(self.data_dir)
