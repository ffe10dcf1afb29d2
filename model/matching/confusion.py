"""Character confusions of damaged markings, and the matching skeleton of a lot text.

The confusion pairs are data (``seeds/ocr_confusions.csv``). Look-alike and script pairs are merged into classes
for the *skeleton*, the key that the registry index stores: two texts that differ only by look-alikes
(``12-14-45I`` and ``12-14-451``, Cyrillic ``ВЗ`` and Latin ``B3``) share a skeleton. Separators are dropped from
the skeleton because damage and stencil bridges lose them first. Scoring (``align.py``) still sees the real
characters and charges each confusion by its kind.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from model.charset import TO_ASCII_DIGITS
from model.reference import seed_rows

UNKNOWN = "?"
_CIRCLED = re.compile(r"^\s*(\(\(?)\s*([^()]+?)\s*(\)\)?)\s*")  # ((10)), or (10)) / ((10) with one arc lost
_RIGHT_ARCS = re.compile(r"^\s*([^()\-\s]+?)\s*\)\)\s*")  # 10))-04-11: both left arcs lost (scraped, cut off)
# How likely an erroneous read is to land on a given wrong character, by the pair's kind.
KIND_SHARE = {"look-alike": 0.3, "script": 0.45, "turned": 0.15, "damage": 0.12}
OTHER_SHARE = 0.01


@dataclass(frozen=True)
class ConfusionTable:
    """Symmetric confusion pairs with their kind, and the look-alike classes used by skeletons."""

    kinds: dict[frozenset[str], str]
    representative: dict[str, str]

    def kind(self, a: str, b: str) -> str | None:
        """The kind of confusion between two different characters, or None when they are unrelated."""
        return self.kinds.get(frozenset((a, b)))

    def share(self, read: str, truth: str) -> float:
        """Probability mass of an erroneous read of ``truth`` that lands on ``read``."""
        kind = self.kind(read, truth)
        return KIND_SHARE.get(kind, OTHER_SHARE) if kind else OTHER_SHARE


def build_table(rows: list[dict[str, str]]) -> ConfusionTable:
    """Pairs from seed rows (a, b, kind); look-alike and script pairs are merged into skeleton classes."""
    kinds = {frozenset((r["a"], r["b"])): r["kind"] for r in rows}
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.get(c, c) != c:
            c = parent[c]
        return c

    for r in rows:
        if r["kind"] in ("look-alike", "script"):
            ra, rb = find(r["a"]), find(r["b"])
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)  # the smallest code point (digits, then Latin) leads
    chars = {c for r in rows for c in (r["a"], r["b"])}
    return ConfusionTable(kinds, {c: find(c) for c in chars if find(c) != c})


@functools.lru_cache(maxsize=1)
def default_table() -> ConfusionTable:
    return build_table(seed_rows("ocr_confusions.csv"))


def normalise_marking(text: str) -> tuple[str, bool]:
    """Canonical lot text and whether its factory code was circled: ``((10))-04-11`` -> (``10-04-11``, True);
    a double circle with one side's second arc lost (``(10))-04-11``) or both its left arcs lost
    (``10))-04-11``) counts, a single bracket pair does not.

    Unicode compatibility forms are folded, Persian and Arabic-Indic digits become ASCII, letters upper-case,
    runs of spaces collapse.
    """
    t = unicodedata.normalize("NFKC", text).translate(TO_ASCII_DIGITS).upper().strip()
    m = _CIRCLED.match(t)
    circled = m is not None and len(m.group(1)) + len(m.group(3)) >= 3
    if circled:
        t = m.group(2) + t[m.end():]
    elif (m := _RIGHT_ARCS.match(t)) is not None:
        circled, t = True, m.group(1) + t[m.end():]
    return " ".join(t.split()), circled


def skeleton(text: str, table: ConfusionTable | None = None) -> str:
    """Matching key: letters and digits only, look-alikes folded to one class member; ``?`` kept."""
    table = table or default_table()
    t, _ = normalise_marking(text)
    return "".join(table.representative.get(c, c) for c in t if c.isalnum() or c == UNKNOWN)


def deletion_keys(key: str) -> set[str]:
    """The key and every key with one character deleted (symmetric-deletion neighbourhood of radius 1).

    Two keys within one substitution, insertion or deletion share a member of their neighbourhoods.
    After Garbe's SymSpell.
    """
    return {key} | {key[:i] + key[i + 1:] for i in range(len(key))}
