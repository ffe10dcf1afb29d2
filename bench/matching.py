"""Lot matching at registry scale: build a synthetic registry (SQLite file), draw registered lots, corrupt their
reads the way damage does, and report top-1 / top-5 accuracy, calibration and query latency.

    python bench/matching.py --lots 1000000 --queries 2000 [--db cache/bench_registry.sqlite]

Conditions (each query is one marking's candidate reads):
- ``in n-best``: the first read is wrong (1-2 look-alike or random substitutions, low confidence there) and
  the truth is 2nd-4th among 3-5 candidates.
- ``look-alikes``: one read, 1-2 look-alike substitutions, not the truth.
- ``dropped``: one read with a character missing.
- ``unknowns``: one typed pattern with 1-2 characters unknown (``?``).
- ``unregistered``: a read (one look-alike substitution) of a lot that is *not* in the registry: the right
  answer is no confident match; "top-1" counts queries whose best score stays below 0.5.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.matching.confusion import default_table  # noqa: E402
from model.matching.matcher import LotMatcher, ReadCandidate  # noqa: E402
from model.matching.store import Registry  # noqa: E402

ITEMS = ["PG-9 73 mm", "PG-7V 40 mm", "OG-7V 40 mm", "RHEAT-9MA 73 mm", "M67 grenade", "60 mm HE mortar",
         "120 mm HE mortar", "7.62x39 ball", "12.7x108 ball", "9M111 ATGW"]


def _digits(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice(string.digits) for _ in range(n))


def _letters(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))


def random_lot(rnd: random.Random) -> tuple[str, bool]:
    """A lot text in one of the seeded formats, and whether its factory code is circled."""
    k = rnd.random()
    if k < 0.3:
        return f"{_digits(rnd, 2)}-{_digits(rnd, 2)}-{_digits(rnd, 3)}", False
    if k < 0.5:
        return f"{_digits(rnd, 2)}-{_digits(rnd, 2)}-{_digits(rnd, 2)}", True
    if k < 0.65:
        return f"{_letters(rnd, 3)} {_digits(rnd, 4)}-{_digits(rnd, 2)}", False
    if k < 0.75:
        return f"{_digits(rnd, 3)} {_digits(rnd, 4)}", False
    if k < 0.85:
        return f"{_letters(rnd, 2)}-{_digits(rnd, 2)}-{_digits(rnd, 2)}{_letters(rnd, 1)}", False
    month = rnd.choice("ABCDEFGHJKLM")
    return f"{_letters(rnd, 2)}{_digits(rnd, 2)}{month}{_digits(rnd, 3)}-{_digits(rnd, 3)}", False


def build(registry: Registry, n: int, rnd: random.Random) -> list[dict]:
    seen, rows = set(), []
    while len(rows) < n:
        text, circled = random_lot(rnd)
        item = rnd.choice(ITEMS)
        if (item, text, circled) in seen:
            continue
        seen.add((item, text, circled))
        rows.append({"lot_text": text, "circled_factory": "true" if circled else "false", "nomenclature": item,
                     "source": "synthetic benchmark registry"})
    registry.bulk_add_lots(rows)
    return rows


def _look_alike(c: str, rnd: random.Random) -> str:
    table = default_table()
    pals = [b for pair, kind in table.kinds.items() if c in pair and kind in ("look-alike", "damage")
            for b in pair if b != c and b.isascii()]
    return rnd.choice(pals) if pals else rnd.choice(string.digits if c.isdigit() else string.ascii_uppercase)


def corrupt(text: str, rnd: random.Random, n_subs: int, *, look_alike_only: bool) -> tuple[str, list[float]]:
    """Substitute ``n_subs`` alphanumeric characters; per-character probabilities low where substituted."""
    chars, probs = list(text), [rnd.uniform(0.85, 0.99) for _ in text]
    spots = rnd.sample([i for i, c in enumerate(chars) if c.isalnum()], n_subs)
    for i in spots:
        if look_alike_only or rnd.random() < 0.7:
            chars[i] = _look_alike(chars[i], rnd)
        else:
            chars[i] = rnd.choice([c for c in string.digits + "ABEHKMPSTZ" if c != chars[i]])
        probs[i] = rnd.uniform(0.25, 0.6)
    return "".join(chars), probs


def _fresh_lot(rnd: random.Random, registered: set[str]) -> str:
    while True:
        text, _ = random_lot(rnd)
        if text not in registered and "-" in text:
            return text


def make_query(row: dict, cond: str, rnd: random.Random) -> list[ReadCandidate]:
    text = ("((" + row["lot_text"].split("-", 1)[0] + "))-" + row["lot_text"].split("-", 1)[1]
            if row["circled_factory"] == "true" else row["lot_text"])
    if cond == "in n-best":
        n = rnd.randint(3, 5)
        rank = rnd.randint(1, n - 1)
        weights = sorted((rnd.random() for _ in range(n)), reverse=True)
        cands = []
        for k in range(n):
            if k == rank:
                cands.append(ReadCandidate(text, weights[k], tuple(rnd.uniform(0.5, 0.9) for _ in text)))
            else:
                t, p = corrupt(text, rnd, rnd.randint(1, 2), look_alike_only=False)
                cands.append(ReadCandidate(t, weights[k], tuple(p)))
        return cands
    if cond == "look-alikes":
        t, p = corrupt(text, rnd, rnd.randint(1, 2), look_alike_only=True)
        return [ReadCandidate(t, 1.0, tuple(p))]
    if cond == "dropped":
        spots = [i for i, c in enumerate(text) if c.isalnum()]
        i = rnd.choice(spots)
        return [ReadCandidate(text[:i] + text[i + 1:], 1.0)]
    spots = rnd.sample([i for i, c in enumerate(text) if c.isalnum()], rnd.randint(1, 2))
    return [ReadCandidate("".join("?" if i in spots else c for i, c in enumerate(text)), 1.0)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lots", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--db", type=Path, default=ROOT / "cache" / "bench_registry.sqlite")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    a.db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(a.db) + suffix).unlink(missing_ok=True)
    registry = Registry.open(f"sqlite:///{a.db}", load_seeds=False)
    t0 = time.perf_counter()
    rows = build(registry, a.lots, rnd)
    build_s = time.perf_counter() - t0
    print(f"registry: {registry.count_lots():,} lots built in {build_s:.0f} s "
          f"({a.db.stat().st_size / 1e6:.0f} MB SQLite file)\n")
    matcher = LotMatcher(registry)
    drawn = rnd.sample(rows, a.queries)
    conditions = ("in n-best", "look-alikes", "dropped", "unknowns", "unregistered")
    registered = {r["lot_text"] for r in rows}
    print("| condition | queries | top-1 | top-5 | p50 ms | p95 ms |\n|---|---|---|---|---|---|")
    calib: list[tuple[float, bool]] = []
    for cond in conditions:
        top1 = top5 = 0
        times = []
        for row in drawn[: a.queries // len(conditions)]:
            if cond == "unregistered":
                row = dict(row, lot_text=_fresh_lot(rnd, registered), nomenclature="")
            q = make_query(row, "look-alikes" if cond == "unregistered" else cond, rnd)
            t = time.perf_counter()
            ranked = matcher.match(q) if cond != "unknowns" else matcher.search(q[0].text)
            times.append((time.perf_counter() - t) * 1000)
            texts = [(r.lot.lot_text, r.lot.nomenclature) for r in ranked]
            want = (row["lot_text"], row["nomenclature"])
            hit = [(t[0] == want[0]) for t in texts]  # the nomenclature is not part of the marking
            if cond == "unregistered":
                top1 += not ranked or ranked[0].score < 0.5
                top5 += not ranked or ranked[0].score < 0.5
            else:
                top1 += bool(hit[:1] and hit[0])
                top5 += any(hit[:5])
            if ranked:
                calib.append((ranked[0].score, bool(hit[0])))
        n = len(times)
        q50, q95 = statistics.quantiles(times, n=20)[9], statistics.quantiles(times, n=20)[18]
        print(f"| {cond} | {n} | {top1 / n:.3f} | {top5 / n:.3f} | {q50:.1f} | {q95:.1f} |")
    print("\nCalibration of the top match's score (all conditions):\n")
    print("| score | matches | correct |\n|---|---|---|")
    for lo, hi in ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 0.9), (0.9, 1.01)):
        sel = [ok for s, ok in calib if lo <= s < hi]
        if sel:
            print(f"| {lo:.1f}-{min(hi, 1.0):.1f} | {len(sel)} | {sum(sel) / len(sel):.3f} |")


if __name__ == "__main__":
    main()
