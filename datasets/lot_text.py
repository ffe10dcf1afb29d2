"""Plausible text for painted munition and crate markings: nomenclature, lot lines in the seeded formats
(``seeds/lot_formats.csv``; each generator's output parses back to its format, see tests), and the other lines
(weights, counts, hazard codes), in Latin and Cyrillic.

By default the nomenclature and other lines come from short fixed lists. With ``varied=True`` (training data,
``make_lot_data --varied``) about half of them are instead composed from their parts: calibres in millimetres,
designations built as the listed ones are (prefix, number, suffix, in one script), counts and weights with any
number, so that a recognizer learns characters rather than whole words and reads a damaged line less often as
the nearest listed one (``76/03`` as ``76MM``). Lots also take the factory/year form with a three-digit factory
(``501/77``, as in the collector-listed Chinese factory/year marks of MARKINGS.md A).
"""

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


# ... and with ``varied``: the factory/year form with a three-digit factory (``501/77``).
VARIED_LOTS: tuple[Generator, ...] = FREE_LOTS + (lambda r: f"{_d(r, 3)}/{_d(r, 2)}",)

# Parts of composed nomenclature (``varied``): calibres in mm, and designation prefixes and suffixes by script.
CALIBRES_MM = (20, 23, 30, 37, 40, 57, 60, 73, 76, 81, 82, 85, 100, 105, 106, 107, 115, 120, 122, 125, 130, 152, 155)
PREFIXES = {"latin": ("PG", "OG", "VOG", "TBG", "RGD", "RGN", "F", "M", "OF", "GP", "BK", "OFS"),
            "cyrillic": ("ПГ", "ОГ", "ВОГ", "ТБГ", "РГД", "РГН", "Ф", "ОФ", "ГП", "БК", "ОФС")}
SUFFIXES = {"latin": ("", "", "V", "VM", "VL", "VR", "M", "MA", "N", "A", "P"),
            "cyrillic": ("", "", "В", "ВМ", "ВЛ", "ВР", "М", "Н", "А", "П")}
VARIED_SHARE = 0.5  # of nomenclature and other lines composed when ``varied``


def sample_lot(rng: np.random.Generator, *, varied: bool = False) -> LotText:
    names = list(FORMAT_WEIGHTS)
    name = str(rng.choice(names, p=np.array(list(FORMAT_WEIGHTS.values())) / sum(FORMAT_WEIGHTS.values())))
    if name == "free":
        free = VARIED_LOTS if varied else FREE_LOTS
        return LotText(free[int(rng.integers(len(free)))](rng), False, "free")
    text = GENERATORS[name](rng)
    return LotText(text, name == "circled-factory-lot-year", name)


def composed_other(rng: np.random.Generator) -> str:
    """A count, weight or hazard line with its own numbers (``14 PCS``, ``ВЕС 38 КГ``, ``UN 0340``)."""
    n, kg = int(rng.integers(1, 100)), int(rng.integers(2, 80))
    forms = (f"{n} PCS", f"{n} PC", f"КОЛ. {n} ШТ", f"{n} ШТ", f"WT {kg} KG", f"NET {kg} KG", f"ВЕС {kg} КГ",
             f"БРУТТО {kg} КГ", f"{kg} KG", f"1.{int(rng.integers(1, 7))}{_letters(rng, 1, 'ABCDEFGL')}")
    return forms[int(rng.integers(len(forms)))]


def composed_nomenclature(rng: np.random.Generator) -> str:
    """A calibre or designation built from parts as the listed ones are (``76MM``, ``ТБГ-7В``, ``9M113M``),
    in one script; every one is an ``is_designation`` (tests)."""
    kind = rng.random()
    if kind < 0.3:
        mm = int(rng.choice(CALIBRES_MM))
        return f"{mm}{'MM' if rng.random() < 0.7 else 'ММ'}{' HE' if rng.random() < 0.3 else ''}"
    script = "cyrillic" if rng.random() < 0.35 else "latin"
    if kind < 0.45:  # ATGM style: 9M111M, 9М113
        m = "M" if script == "latin" else "М"
        return f"9{m}{_d(rng, 3)}{rng.choice(['', m])}"
    prefix = str(rng.choice(PREFIXES[script]))
    digits = _d(rng, int(rng.integers(1, 4))).lstrip("0") or str(int(rng.integers(1, 10)))
    hyphen = "-" if rng.random() < 0.8 else ""
    return f"{prefix}{hyphen}{digits}{rng.choice(SUFFIXES[script])}"


def sample_other(rng: np.random.Generator, *, varied: bool = False) -> str:
    if varied and rng.random() < VARIED_SHARE:
        return composed_other(rng)
    if rng.random() < 0.3:
        return f"{int(rng.integers(1, 60))}.{int(rng.integers(1, 13)):02d}.{int(rng.integers(60, 100))}"  # date
    return str(rng.choice(OTHER_LINES))


def sample_nomenclature(rng: np.random.Generator, *, varied: bool = False) -> str:
    if varied and rng.random() < VARIED_SHARE:
        return composed_nomenclature(rng)
    return str(rng.choice(NOMENCLATURE))
