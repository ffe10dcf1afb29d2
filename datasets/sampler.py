"""Draw plausible headstamp layouts from seeds/ (and random codes so the model does not memorise the table)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from model.charset import CYRILLIC, DIGITS, LATIN, PERSIAN_DIGITS
from model.reference import seed_rows


@dataclass(frozen=True)
class Segment:
    """One clock-position code as stamped; ``glyphs`` is what is drawn (may contain Persian digits)."""

    glyphs: str
    label: str  # scorer form: ASCII digits; symbols as '*', '+', '⊕'


@functools.lru_cache(maxsize=1)
def maker_codes() -> tuple[str, ...]:
    return tuple(r["code"] for r in seed_rows("headstamp_codes.csv"))


@functools.lru_cache(maxsize=1)
def calibre_marks() -> tuple[str, ...]:
    marks = tuple(r["stamped"] for r in seed_rows("calibres.csv"))
    return tuple(m for m in marks if " " not in m)


def _random_code(rng: np.random.Generator) -> str:
    n = int(rng.choice([1, 2, 2, 3, 3, 3, 4]))
    pool = rng.choice([DIGITS, DIGITS, LATIN, CYRILLIC, DIGITS + LATIN], p=[0.35, 0.2, 0.3, 0.05, 0.1])
    return "".join(rng.choice(list(pool), size=n))


def _maker(rng: np.random.Generator) -> str:
    if rng.random() < 0.5:
        return str(rng.choice(maker_codes()))
    return _random_code(rng)


def _year(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(0, 100)):02d}"


def _symbol(rng: np.random.Generator) -> Segment:
    glyph = str(rng.choice(["*", "★", "+", "⊕"]))
    return Segment(glyph, "*" if glyph == "★" else glyph)


def _plain(text: str) -> Segment:
    return Segment(text, text)


def persian_layout(rng: np.random.Generator) -> list[Segment]:
    """Iranian style: a two-digit code and a Solar Hijri year, both in Persian digits."""
    code = f"{int(rng.integers(1, 100)):02d}"
    year = f"13{int(rng.integers(40, 100)):02d}" if rng.random() < 0.85 else f"14{int(rng.integers(0, 6)):02d}"
    to_fa = str.maketrans(DIGITS, PERSIAN_DIGITS)
    return [Segment(code.translate(to_fa), code), Segment(year.translate(to_fa), year)]


def sample_layout(rng: np.random.Generator) -> list[Segment]:
    """Segments of one headstamp, clockwise from 12 o'clock before any rotation."""
    if rng.random() < 0.1:
        return persian_layout(rng)
    maker, year = _plain(_maker(rng)), _plain(_year(rng))
    calibre = _plain(str(rng.choice(calibre_marks())))
    kind = rng.random()
    if kind < 0.45:
        segs = [maker, year]
    elif kind < 0.75:
        segs = [maker, year, calibre] if rng.random() < 0.5 else [maker, calibre, year]
    else:
        segs = [maker, calibre, year, _symbol(rng)]
    if rng.random() < 0.05:
        segs = [_plain(_random_code(rng)) for _ in range(int(rng.integers(2, 5)))]
    return segs
