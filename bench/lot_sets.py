"""The named sets of painted-lot runs that decide which lot bundles ship, run in parallel lanes and summed.

    python bench/lot_sets.py run SET --tag TAG [--detector DIR] [--recognizer DIR] [--lanes 2] [--n 30]
    python bench/lot_sets.py sum SET TAG [TAG ...]

Each run is one ``bench/lots.py --n 30 --threads 1`` call with its seed and options, its table written to
``logs/PREFIX_TAG_NAME.txt`` (``--logs``); a run whose log already holds a whole table is not run again, so an
interrupted set resumes. ``sum`` prints, per tag, the lots read exactly in each run of the set and the set's
totals (lots in the n-best, other lines read exactly, lines found and framed tightly). Sets (``SETS``): ``bench``,
the benchmark runs (``level``: plain, wider type, soft, whole circles, glyph cut and varied lines; ``tilted``;
``rusted``); ``width``, markings rendered 320 and 640 pixels wide; ``faces``, lines drawn in families of type no
training draws (``datasets.fonts.HELD_OUT_FACES``); ``confirm1`` to ``confirm13``, the
confirmation sets, each drawn before it was first read and read once for the candidate of its stop
(``training/README.md``, "Shipping a bundle").
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent

Run = tuple[str, tuple[str, ...]]  # (name, bench/lots.py options)


def _runs(spec: str) -> tuple[Run, ...]:
    """``"p606 --seed 606; w606 --seed 606 --more-fonts"`` as runs."""
    out = []
    for part in spec.split(";"):
        name, *args = part.split()
        out.append((name, tuple(args)))
    return tuple(out)


LEVEL = _runs("p606 --seed 606; p707 --seed 707; w606 --seed 606 --more-fonts; w707 --seed 707 --more-fonts; "
              "s606 --seed 606 --soft; c606 --seed 606 --whole-circles; g606 --seed 606 --glyph-cut; "
              "v606 --seed 606 --varied")
TILTED = _runs("t606 --seed 606 --tilt 10 30; t707 --seed 707 --tilt 10 30; T606 --seed 606 --tilt 30 45")
RUSTED = _runs("r606 --seed 606 --rusty; r707 --seed 707 --rusty")


def _confirm(p: int, w: int, s: int, v: int, t: int, tt: int, r: int | None = None) -> tuple[Run, ...]:
    spec = (f"p{p} --seed {p}; w{w} --seed {w} --more-fonts; s{s} --seed {s} --soft; v{v} --seed {v} --varied; "
            f"t{t} --seed {t} --tilt 10 30; T{tt} --seed {tt} --tilt 30 45")
    return _runs(spec + (f"; r{r} --seed {r} --rusty" if r is not None else ""))


SETS: dict[str, tuple[str, tuple[Run, ...]]] = {  # name: (log prefix, runs)
    "bench": ("lb", LEVEL + TILTED + RUSTED),
    "level": ("lb", LEVEL),
    "tilted": ("lb", TILTED),
    "rusted": ("lb", RUSTED),
    "width": ("lw", _runs("n606 --seed 606 --width 320; n707 --seed 707 --width 320; "
                          "x606 --seed 606 --width 640; x707 --seed 707 --width 640")),
    "faces": ("lf", _runs("h606 --seed 606 --faces held; h707 --seed 707 --faces held")),
    "confirm1": ("lc", _confirm(1313, 2424, 3535, 4646, 5757, 6868)),  # stop 47 (line detector v10)
    "confirm2": ("lc", _confirm(1414, 2525, 3636, 4747, 5858, 6969)),  # stop 48 (refined angles)
    "confirm3": ("lc", _confirm(1515, 2626, 3737, 4848, 5959, 7070)),  # stop 49 (line detector v11)
    "confirm4": ("lc", _confirm(1616, 2727, 3838, 4949, 6060, 7171)),  # stop 50 (soup(v29, t31))
    "confirm5": ("lc", _confirm(1717, 2828, 3939, 5050, 6161, 7272, 8383)),  # stops 50-51 (line detector t10)
    "confirm6": ("lc", _confirm(1818, 2929, 4040, 5151, 6262, 7373, 8484)),  # stop 51 (soup(v11, t10))
    "confirm7": ("lc", _confirm(1919, 3030, 4141, 5252, 6363, 7474, 8585)),  # stop 51 (lot recognizer v30)
    "confirm8": ("lc", _confirm(2021, 3132, 4243, 5354, 6465, 7576, 8687)),  # stop 53 (lot recognizer v31)
    "confirm9": ("lc", _confirm(2122, 3233, 4344, 5455, 6566, 7677, 8788)),  # stop 57 (soup(v31, t36))
    "confirm10": ("lc", _confirm(2223, 3334, 4445, 5556, 6667, 7778, 8889)),  # stop 58 (t38)
    "confirm11": ("lc", _confirm(2324, 3435, 4546, 5657, 6768, 7879, 8990)),  # stop 58 (t39)
    "confirm12": ("lc", _confirm(2425, 3536, 4647, 5758, 6869, 7980, 9091)),  # stop 59 (t40 = v32)
    "confirm13": ("lc", _confirm(2526, 3637, 4748, 5859, 6970, 8081, 9192)),  # drawn in stop 59, not yet read
}

ROW = re.compile(r"\| [^|]+ \| (?:clean|worn|obscured) \| (\d+)/(\d+) \| (\d+)/\d+ \| (\d+)/\d+ \| (\d+)/\d+ "
                 r"\| [^|]+\| (\d+)/(\d+) \|")
CELLS = 9  # three scene settings x three levels: the rows of a whole table


class Summed:
    """A dataclass of counts that adds field by field (a run's sums plus another's)."""

    def __add__(self, o: Self) -> Self:
        return type(self)(*(a + b for a, b in zip(astuple(self), astuple(o))))


@dataclass
class Counts(Summed):
    """One run's (or a set's) sums over the table rows of ``bench/lots.py``."""

    exact: int = 0
    nbest: int = 0
    other: int = 0
    n_other: int = 0
    found: int = 0
    tight: int = 0
    n_lines: int = 0
    cells: int = 0


def counts(table: str) -> Counts:
    """The sums of a ``bench/lots.py`` table (its cells read; ``cells`` < 9 when the run did not finish)."""
    total = Counts()
    for line in table.splitlines():
        if m := ROW.match(line):
            found, n_lines, tight, exact, nbest, other, n_other = (int(x) for x in m.groups())
            total += Counts(exact, nbest, other, n_other, found, tight, n_lines, 1)
    return total


def log_path(logs: Path, prefix: str, tag: str, name: str) -> Path:
    return logs / f"{prefix}_{tag}_{name}.txt"


def run_set(set_name: str, tag: str, *, detector: str, recognizer: str, logs: Path, lanes: int = 2, n: int = 30,
            runs: tuple[Run, ...] | None = None) -> list[Path]:
    """Runs the set's runs not yet complete in ``lanes`` parallel one-thread processes; their log paths."""
    prefix, default = SETS[set_name]
    todo = runs if runs is not None else default
    jobs = [(log_path(logs, prefix, tag, name),
             [sys.executable, str(ROOT / "bench" / "lots.py"), "--n", str(n), "--threads", "1",
              "--detector", detector, "--recognizer", recognizer, *args]) for name, args in todo]
    return run_lanes(jobs, lambda _path, table: counts(table).cells == CELLS, lanes)


def run_lanes(jobs: list[tuple[Path, list[str]]], complete: Callable[[Path, str], bool], lanes: int) -> list[Path]:
    """Runs each command whose log does not yet hold a table ``complete(log, text)`` accepts, its output written
    to the log, in ``lanes`` parallel processes; the log paths, in order."""

    def one(job: tuple[Path, list[str]]) -> Path:
        path, cmd = job
        if path.exists() and complete(path, path.read_text()):
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as f:
            subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=False, cwd=ROOT)
        return path

    with ThreadPoolExecutor(max_workers=max(1, lanes)) as pool:
        return list(pool.map(one, jobs))


def summary(set_name: str, tag: str, logs: Path) -> str:
    """One line: lots exact per run (``-`` where not run, ``N?`` where unfinished), then the set's totals."""
    prefix, runs = SETS[set_name]
    per, total = [], Counts()
    for name, _ in runs:
        path = log_path(logs, prefix, tag, name)
        if not path.exists():
            per.append("-")
            continue
        c = counts(path.read_text())
        per.append(f"{c.exact}" + ("" if c.cells == CELLS else "?"))
        total += c
    return (f"{tag}: {' / '.join(per)} | exact {total.exact} | n-best {total.nbest} | "
            f"other {total.other}/{total.n_other} | found {total.found}/{total.n_lines} | "
            f"tight {total.tight}/{total.n_lines}")


def set_parser(doc: str, sets: dict, run_options: dict[str, dict], counted: str) -> argparse.ArgumentParser:
    """The ``run SET --tag TAG`` / ``sum SET TAG...`` command line of a sets script: ``run_options`` are the run
    command's own options (``{"--detector": {"default": ...}}``: bundles, sizes), ``counted`` what ``sum`` counts."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a set's runs (those whose logs are incomplete)")
    r.add_argument("set", choices=sorted(sets))
    r.add_argument("--tag", required=True, help="names the logs: PREFIX_TAG_RUN.txt")
    for option, kwargs in run_options.items():
        r.add_argument(option, **kwargs)
    r.add_argument("--lanes", type=int, default=2, help="runs at once, one thread each")
    r.add_argument("--logs", type=Path, default=ROOT / "logs")
    s = sub.add_parser("sum", help=f"{counted} exact per run and the set's totals, per tag")
    s.add_argument("set", choices=sorted(sets))
    s.add_argument("tags", nargs="+")
    s.add_argument("--logs", type=Path, default=ROOT / "logs")
    return ap


def main() -> None:
    a = set_parser(__doc__, SETS, {
        "--detector": {"default": "model/weights/line_detector"},
        "--recognizer": {"default": "model/weights/lot_recognizer"},
        "--n": {"type": int, "default": 30, "help": "markings per cell (the sets' figures: 30)"}}, "lots").parse_args()
    if a.cmd == "run":
        run_set(a.set, a.tag, detector=a.detector, recognizer=a.recognizer, logs=a.logs, lanes=a.lanes, n=a.n)
    for tag in [a.tag] if a.cmd == "run" else a.tags:
        print(summary(a.set, tag, a.logs))


if __name__ == "__main__":
    main()
