"""The headstamp alphabet, defined once.

A headstamp strip is unwrapped clockwise with the rim at the top, so a segment stamped tops-outward reads upright
and a segment stamped tops-inward reads upside down (and right to left). The recognizer therefore has two classes
per glyph: upright and turned (rotated 180 degrees in the strip). CTC index 0 is the blank; ``SEP`` separates
segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

DIGITS: Final = "0123456789"
LATIN: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Cyrillic letters without a Latin look-alike; look-alikes (А, В, Е, К, М, Н, О, Р, С, Т, Х) are read as Latin.
CYRILLIC: Final = "БГДЖЗИЛПУФ"
SYMBOLS: Final = ".*+⊕"
SEP: Final = " "
GLYPHS: Final = DIGITS + LATIN + CYRILLIC + SYMBOLS
PERSIAN_DIGITS: Final = "۰۱۲۳۴۵۶۷۸۹"
TO_ASCII_DIGITS: Final = str.maketrans(PERSIAN_DIGITS + "٠١٢٣٤٥٦٧٨٩", DIGITS + DIGITS)
CYR_TO_LAT: Final = str.maketrans("АВЕКМНОРСТХ", "ABEKMHOPCTX")

BLANK: Final = 0
SEP_INDEX: Final = 1
# index 1 is the separator, then upright glyphs, then turned glyphs
CLASSES: Final[tuple[str, ...]] = ("<blank>", SEP, *GLYPHS, *(g + "~" for g in GLYPHS))
N_CLASSES: Final = len(CLASSES)
_UPRIGHT_INDEX: Final = {g: 2 + i for i, g in enumerate(GLYPHS)}
_TURNED_INDEX: Final = {g: 2 + len(GLYPHS) + i for i, g in enumerate(GLYPHS)}
SYMBOL_SEGMENTS: Final = frozenset(SYMBOLS) | {"★"}
SEPARATORS: Final = frozenset("*+.★")  # star and dot separators: often confused with each other, carry no code


def normalise_glyphs(text: str) -> str:
    """Map Persian digits to ASCII and Cyrillic look-alikes to Latin; upper-case."""
    return text.translate(TO_ASCII_DIGITS).upper().translate(CYR_TO_LAT)


def cyclic_key(segments: Sequence[str]) -> tuple[str, ...]:
    """Segments normalised, separator-only segments dropped, rotated to their smallest rotation, so reads from
    different seams (and with a star read as a cross) agree. The NATO ⊕ is kept: it is a code."""
    segs = [normalise_glyphs(s) for s in segments if s and not set(s) <= SEPARATORS]
    if not segs:
        return ()
    return min(tuple(segs[i:] + segs[:i]) for i in range(len(segs)))


def class_index(glyph: str, *, turned: bool) -> int:
    """CTC class of one glyph (already normalised) in the given orientation."""
    table = _TURNED_INDEX if turned else _UPRIGHT_INDEX
    if glyph not in table:
        raise KeyError(f"glyph {glyph!r} is not in the headstamp alphabet")
    return table[glyph]


def class_glyph(index: int) -> tuple[str, bool]:
    """(glyph, turned) of a non-blank class; the separator is returned as (SEP, False)."""
    if index == BLANK or not 0 < index < N_CLASSES:
        raise ValueError(f"class {index} has no glyph")
    name = CLASSES[index]
    return (name[0], True) if name.endswith("~") and len(name) == 2 else (name, False)


def encode_strip(segments: list[tuple[str, bool]]) -> list[int]:
    """Class sequence of a strip: ``segments`` in strip order as (text, turned).

    A turned segment appears in the strip rotated 180 degrees, so its glyphs come last-first.
    """
    out: list[int] = []
    for k, (text, turned) in enumerate(segments):
        if k:
            out.append(SEP_INDEX)
        glyphs = normalise_glyphs(text)
        for g in reversed(glyphs) if turned else glyphs:
            out.append(class_index(g, turned=turned))
    return out


# Painted lot and crate lines: read in their own script (Cyrillic stays Cyrillic, look-alikes included, so a
# Cyrillic line reads in Cyrillic); ``((`` and ``))`` stand for a factory code's double circle.
CYRILLIC_FULL: Final = "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
LINE_SYMBOLS: Final = "-/.,() "
LINE_GLYPHS: Final = DIGITS + LATIN + CYRILLIC_FULL + LINE_SYMBOLS
LINE_CLASSES: Final[tuple[str, ...]] = ("<blank>", *LINE_GLYPHS)
N_LINE_CLASSES: Final = len(LINE_CLASSES)
_LINE_INDEX: Final = {g: 1 + i for i, g in enumerate(LINE_GLYPHS)}


def normalise_line(text: str) -> str:
    """Upper-case, Persian digits to ASCII, ``Ё`` to ``Е``; runs of spaces collapsed."""
    return " ".join(text.translate(TO_ASCII_DIGITS).upper().replace("Ё", "Е").split())


def encode_line(text: str) -> list[int]:
    """CTC classes of a painted line (``((10))-04-11`` for a circled factory code)."""
    t = normalise_line(text)
    missing = set(t) - set(_LINE_INDEX)
    if missing:
        raise KeyError(f"characters {sorted(missing)} are not in the line alphabet")
    return [_LINE_INDEX[g] for g in t]


def decode_line(classes: tuple[int, ...] | list[int]) -> str:
    return "".join(LINE_CLASSES[c] for c in classes if c)
