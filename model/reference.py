"""Reference tables shipped in ``seeds/`` (maker codes, calibres, lot formats, documented lots, confusions)."""

from __future__ import annotations

import csv
from pathlib import Path

_CHECKOUT_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
# A checkout (or editable install) has seeds/ beside model/; an installed image runs from a folder holding seeds/.
SEEDS_DIR = _CHECKOUT_SEEDS if _CHECKOUT_SEEDS.is_dir() else Path.cwd() / "seeds"


def seed_rows(name: str, *, seeds_dir: Path = SEEDS_DIR) -> list[dict[str, str]]:
    """Rows of ``seeds/<name>`` as dicts keyed by the header."""
    with open(seeds_dir / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
