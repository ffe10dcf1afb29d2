"""Service and CLI settings: the one place that reads the environment (``MARKTRACE_*`` variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from model.matching.store import default_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKTRACE_")

    data_dir: Path = Path.home() / ".local" / "share" / "marktrace"
    registry_url: str | None = None  # SQLAlchemy URL; default: SQLite file under data_dir
    device: str = "cpu"

    def registry(self) -> str:
        return self.registry_url or default_url(self.data_dir)
