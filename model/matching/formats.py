"""Lot formats by country and item (``seeds/lot_formats.csv``): parse a lot text into its named fields."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from model.matching.confusion import normalise_marking
from model.reference import seed_rows


@dataclass(frozen=True)
class LotFormat:
    name: str
    country: str
    item: str
    pattern: re.Pattern[str]
    circled: bool  # the format marks its factory code with a double circle
    verified: bool
    source: str


@dataclass(frozen=True)
class ParsedLot:
    """A lot text in canonical form, with the format it fits and that format's fields."""

    text: str
    circled_factory: bool
    format: str | None
    fields: dict[str, str]


@functools.lru_cache(maxsize=1)
def lot_formats() -> tuple[LotFormat, ...]:
    out = []
    for r in seed_rows("lot_formats.csv"):
        out.append(LotFormat(r["name"], r["country"], r["item"], re.compile(r["pattern"]),
                             "circle" in r["fields"], r["verified"] == "true", r["source"]))
    names = [f.name for f in out]
    if len(names) != len(set(names)):
        raise ValueError("duplicate lot format names in seeds/lot_formats.csv")
    return tuple(out)


# An item's designation or calibre, never a lot: Soviet-style and NATO designations (PG-9V, ПГ-7ВМ, 9M111M, OG-7V,
# RHEAT-9MA, RGD-5, F-1, M67, VOG-25, ОФ-462: letters with at most three digits and one hyphen) and calibres
# (60MM, 7.62X39, 7,62 ПС: a decimal and letters). Lot formats with letters take more digits or a second hyphen
# (B5040-04, LW-06-01A).
_DESIGNATION = re.compile(r"^\d?[A-ZА-ЯЁ]{1,5}-?\d{1,3}[A-ZА-ЯЁ]{0,3}$")
_CALIBRE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:MM|ММ|[XХ×]\s*\d{2,3})(?![0-9])|^\d{1,2}[.,]\d{1,2}\s+[A-ZА-ЯЁ]")


# Lines a marking carries beside its lot that are never a lot: a date (``22.7.79``), a UN hazard division
# (``1.1D``), a UN number or stock number (``UN 0182``, ``NSN 1340``), a count or weight (``6 PCS``, ``ВЕС 21 КГ``).
_OTHER_LINE = re.compile(r"^\d{1,2}\.\d{1,2}\.(?:\d{2}|\d{4})$|^1\.[1-6][A-SN]$|^(?:UN|NSN)\s?\d{4}"
                         r"|\d\s?(?:KG|КГ|PCS?|ШТ)(?![A-ZА-ЯЁ0-9])")


def is_other_line(text: str) -> bool:
    """Whether a line read is a date, hazard division, UN or stock number, count or weight: never the lot."""
    return bool(_OTHER_LINE.search(text.strip().upper()))


def is_designation(text: str) -> bool:
    """Whether a line read is an item designation or a calibre (``PG-9V``, ``9M111M``, ``60MM HE``,
    ``7.62X39``) rather than a lot: such a line is never taken for the lot."""
    t = text.strip().upper()
    return bool(_DESIGNATION.match(t.replace(" ", ""))) or bool(_CALIBRE.search(t))


def parse_lot(text: str, *, circled_factory: bool | None = None) -> ParsedLot:
    """Canonical text, circled flag and fields of the first format that fits (circled formats first when the
    factory code is circled, last otherwise)."""
    canon, circled = normalise_marking(text)
    circled = circled if circled_factory is None else circled_factory or circled
    order = sorted(lot_formats(), key=lambda f: f.circled != circled)
    for f in order:
        m = f.pattern.match(canon)
        if m:
            return ParsedLot(canon, circled, f.name, {k: v for k, v in m.groupdict().items() if v})
    return ParsedLot(canon, circled, None, {})
