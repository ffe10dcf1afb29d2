"""Plausible text for painted munition and crate markings: nomenclature, lot lines in the seeded formats
(``seeds/lot_formats.csv``; each generator's output parses back to its format, see tests), and the other lines
(weights, counts, hazard codes), in Latin and Cyrillic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

NOMENCLATURE = ("PG-9", "PG-9V", "ПГ-9В", "OG-9", "RHEAT-9MA", "PG-7V", "PG-7VM", "ПГ-7ВМ", "OG-7V", "ОГ-7В",
                "9M111M", "9М111", "60MM HE", "81MM HE", "82MM HE", "120MM HE", "M67", "F-1", "Ф-1", "RGD-5",
                "РГД-5", "VOG-25", "ВОГ-25", "7.62X39", "7,62 ПС", "12.7X108", "73MM", "40MM", "ОФ-462")
OTHER_LINES = ("1 PC", "2 PCS", "6 PCS", "UN 0182", "UN 0286", "1.1D", "1.2E", "WT 15 KG", "NET 12.5 KG",
               "КОЛ. 6 ШТ", "ВЕС 21 КГ", "БРУТТО 32 КГ", "HE", "FRAG", "LOT", "ПАРТИЯ", "NSN 1340")
Generator = Callable[[np.random.Generator], str]


@dataclass(frozen=True)
class LotText:
    text: str  # canonical lot text (circles removed)
    circled_factory: bool
    format: str


def _d(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(x)) for x in rng.integers(0, 10, n))


def _letters(rng: np.random.Generator, n: int, pool: str = "ABCDEFGHKLMNPRSTUVWXYZ") -> str:
    return "".join(str(rng.choice(list(pool))) for _ in range(n))


GENERATORS: dict[str, Generator] = {
    "circled-factory-lot-year": lambda r: f"{_d(r, int(r.integers(1, 4)))}-{_d(r, 2)}-{_d(r, 2)}",
    "three-field-numeric": lambda r: f"{_d(r, 2)}-{_d(r, 2)}-{_d(r, 3)}",
    "producer-year-series-wartime": lambda r: f"{_letters(r, 3)} {_d(r, 4)}-{_d(r, 2)}",
    "producer-year-series": lambda r: f"{_d(r, 3)} {_d(r, 4)}",
    "us-older-lot": lambda r: f"{_letters(r, 2)}-{_d(r, 2)}-{_d(r, 2)}{_letters(r, int(r.integers(0, 2)))}",
    "mil-std-1168": lambda r: (f"{_letters(r, int(r.integers(2, 4)))}{_d(r, 2)}{_letters(r, 1, 'ABCDEFGHJKLM')}"
                               f"{_d(r, 3)}-{_d(r, 3)}{_letters(r, int(r.integers(0, 2)))}"),
}
# Lines in the style of the documented cases that fit no seeded format: letter prefixes, slashes.
FREE_LOTS: tuple[Generator, ...] = (
    lambda r: f"{_letters(r, 1)}{_d(r, 4)}-{_d(r, 2)}",
    lambda r: f"{_d(r, 2)}/{_d(r, 2)}",
    lambda r: f"{_d(r, 3)}-{_d(r, 2)}-{_d(r, 2)}",
    lambda r: f"{_letters(r, 2, 'АБВГДКМПРСТ')}-{_d(r, 2)}-{_d(r, 2)}",
)
FORMAT_WEIGHTS = {"circled-factory-lot-year": 0.2, "three-field-numeric": 0.25, "producer-year-series-wartime": 0.1,
                  "producer-year-series": 0.08, "us-older-lot": 0.07, "mil-std-1168": 0.1, "free": 0.2}


def sample_lot(rng: np.random.Generator) -> LotText:
    names = list(FORMAT_WEIGHTS)
    name = str(rng.choice(names, p=np.array(list(FORMAT_WEIGHTS.values())) / sum(FORMAT_WEIGHTS.values())))
    if name == "free":
        return LotText(FREE_LOTS[int(rng.integers(len(FREE_LOTS)))](rng), False, "free")
    text = GENERATORS[name](rng)
    return LotText(text, name == "circled-factory-lot-year", name)


def sample_other(rng: np.random.Generator) -> str:
    if rng.random() < 0.3:
        return f"{int(rng.integers(1, 60))}.{int(rng.integers(1, 13)):02d}.{int(rng.integers(60, 100))}"  # date
    return str(rng.choice(OTHER_LINES))


def sample_nomenclature(rng: np.random.Generator) -> str:
    return str(rng.choice(NOMENCLATURE))
