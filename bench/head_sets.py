"""The named sets of fresh headstamp runs that decide which headstamp bundles ship, run in lanes and summed.

    python bench/head_sets.py run SET --tag TAG [--recognizer DIR] [--detector DIR] [--lanes 2]
    python bench/head_sets.py sum SET TAG [TAG ...]

A crop run is one ``bench/fresh_heads.py --n 60 --threads 1`` call (180 single-head crops), a frame run one
``bench/fresh_frames.py --threads 1`` call (25 frames per level), each with its seed and options; tables go to
``logs/PREFIX_TAG_NAME.txt`` (``--logs``), and a run whose log holds a whole table is not run again. ``sum``
prints, per tag, the heads read exactly in each run and the set's totals (crops exact and in the n-best of their
number, frame heads exact and found of their number). Sets (``SETS``): ``table``, the crops that chose v23 and
v26 (default type, seeds 4242 / 5151 / 777 / 9090 and 1111 / 2222, Roboto, Persian); ``frames``, seeds 31 and 32;
``held``, heads stamped in families no training draws (``datasets.fonts.HELD_OUT_FACES``); ``stamp``, in the faces
training may draw (``STAMP_FACES``); ``confirm1`` to ``confirm4``, the confirmation sets, each drawn before it was
first read and read once for the candidate of its stop (when, beside each set below).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from lot_sets import Summed, log_path, run_lanes, set_parser  # noqa: E402

HeadRun = tuple[str, str, tuple[str, ...]]  # (name, "crops" or "frames", options)
SCRIPTS = {"crops": "fresh_heads.py", "frames": "fresh_frames.py"}


def _runs(kind: str, spec: str) -> tuple[HeadRun, ...]:
    """``"d4242 --seed 4242; r4242 --seed 4242 --more-fonts"`` as runs of one kind."""
    return tuple((name, kind, tuple(args)) for name, *args in (part.split() for part in spec.split(";")))


TABLE = _runs("crops", "d4242 --seed 4242; d5151 --seed 5151; d777 --seed 777; d9090 --seed 9090; "
                       "d1111 --seed 1111; d2222 --seed 2222; r4242 --seed 4242 --more-fonts; "
                       "r5151 --seed 5151 --more-fonts; p1111 --seed 1111 --persian")
SETS: dict[str, tuple[str, tuple[HeadRun, ...]]] = {  # name: (log prefix, runs)
    "table": ("hb", TABLE),
    "frames": ("hb", _runs("frames", "f31 --seed 31; f32 --seed 32")),
    "held": ("hb", _runs("crops", "h4242 --seed 4242 --faces held; h5151 --seed 5151 --faces held; "
                                  "h777 --seed 777 --faces held")),
    "stamp": ("hb", _runs("crops", "s4242 --seed 4242 --faces stamp")),
    "confirm1": ("hc", _runs("crops", "c3131 --seed 3131; c5353 --seed 5353; c7575 --seed 7575; c9797 --seed 9797")
                 + _runs("frames", "f39 --seed 39; f40 --seed 40")),  # drawn in stop 37, read in stop 52 (v27)
    "confirm2": ("hc", _runs("crops", "c2468 --seed 2468; c3579 --seed 3579; c4680 --seed 4680; c5791 --seed 5791")
                 + _runs("frames", "f41 --seed 41; f42 --seed 42")),  # drawn in stop 52, read in stop 54 (t31)
    "confirm3": ("hc", _runs("crops", "c1357 --seed 1357; c2579 --seed 2579; c3690 --seed 3690; c4802 --seed 4802")
                 + _runs("frames", "f43 --seed 43; f44 --seed 44")),  # drawn in stop 54, read in stop 56 (v28)
    "confirm4": ("hc", _runs("crops", "c1468 --seed 1468; c2680 --seed 2680; c3791 --seed 3791; c4913 --seed 4913")
                 + _runs("frames", "f45 --seed 45; f46 --seed 46")),  # drawn in stop 56, not yet read
}

CROP_ROW = re.compile(r"\| (?:clean|worn|obscured) \| (\d+)/(\d+) \| (\d+)/\d+ \| \d+ \|")
FRAME_ROW = re.compile(r"\| (?:clean|worn|obscured) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| \d+ \|")
ROWS = {"crops": 3, "frames": 2}  # the level rows of a whole table


@dataclass
class HeadCounts(Summed):
    """One run's (or a set's) sums over the level rows of its table."""

    crops_exact: int = 0
    crops_nbest: int = 0
    crops: int = 0
    frame_exact: int = 0
    frame_found: int = 0
    frame_heads: int = 0
    rows: int = 0

    @property
    def exact(self) -> int:
        return self.crops_exact + self.frame_exact


def counts(table: str) -> HeadCounts:
    """The sums of a ``fresh_heads.py`` or ``fresh_frames.py`` table (``rows``: the level rows read)."""
    total = HeadCounts()
    for line in table.splitlines():
        if m := CROP_ROW.match(line):
            exact, n, nbest = (int(x) for x in m.groups())
            total += HeadCounts(crops_exact=exact, crops_nbest=nbest, crops=n, rows=1)
        elif m := FRAME_ROW.match(line):
            heads, found, exact, _nbest = (int(x) for x in m.groups())
            total += HeadCounts(frame_exact=exact, frame_found=found, frame_heads=heads, rows=1)
    return total


def run_set(set_name: str, tag: str, *, recognizer: str, detector: str, logs: Path, lanes: int = 2,
            runs: tuple[HeadRun, ...] | None = None, n: int | None = None) -> list[Path]:
    """Runs the set's runs not yet complete in ``lanes`` parallel one-thread processes; their log paths. ``n``
    (crops per level or frames per level) only for trying the machinery."""
    prefix, default = SETS[set_name]
    todo = runs if runs is not None else default
    jobs, kinds = [], {}
    for name, kind, args in todo:
        path = log_path(logs, prefix, tag, name)
        size = ["--n", str(n if n is not None else 60 if kind == "crops" else 25)]
        jobs.append((path, [sys.executable, str(ROOT / "bench" / SCRIPTS[kind]), *size, "--threads", "1",
                            "--recognizer", recognizer, "--detector", detector, *args]))
        kinds[path] = kind
    return run_lanes(jobs, lambda path, table: counts(table).rows == ROWS[kinds[path]], lanes)


def summary(set_name: str, tag: str, logs: Path) -> str:
    """One line: heads exact per run (``-`` where not run, ``N?`` where unfinished), then the set's totals."""
    prefix, runs = SETS[set_name]
    per, total = [], HeadCounts()
    for name, kind, _ in runs:
        path = log_path(logs, prefix, tag, name)
        if not path.exists():
            per.append("-")
            continue
        c = counts(path.read_text())
        per.append(f"{c.exact}" + ("" if c.rows == ROWS[kind] else "?"))
        total += c
    out = f"{tag}: {' / '.join(per)} | exact {total.exact}"
    if total.crops:
        out += f" | crops {total.crops_exact}/{total.crops}, n-best {total.crops_nbest}"
    if total.frame_heads:
        out += f" | frames {total.frame_exact}/{total.frame_heads}, found {total.frame_found}"
    return out


def main() -> None:
    a = set_parser(__doc__, SETS, {"--recognizer": {"default": "model/weights/headstamp_recognizer"},
                                   "--detector": {"default": "model/weights/case_head_detector"}}, "heads").parse_args()
    if a.cmd == "run":
        run_set(a.set, a.tag, recognizer=a.recognizer, detector=a.detector, logs=a.logs, lanes=a.lanes)
    for tag in [a.tag] if a.cmd == "run" else a.tags:
        print(summary(a.set, tag, a.logs))


if __name__ == "__main__":
    main()
