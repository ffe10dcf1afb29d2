"""The named lot benchmark sets: a run of bench/lots.py written to its log, summed, and not run again."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("lot_sets", ROOT / "bench" / "lot_sets.py")
lot_sets = importlib.util.module_from_spec(spec)
sys.modules["lot_sets"] = lot_sets  # (its dataclass looks its module up)
spec.loader.exec_module(lot_sets)


def test_sets_name_each_run_once_with_its_seed():
    for name, (_prefix, runs) in lot_sets.SETS.items():
        names = [n for n, _ in runs]
        assert len(set(names)) == len(names), name
        for run_name, args in runs:
            assert args[args.index("--seed") + 1] in run_name, (name, run_name)
    seeds = {k: {args[args.index("--seed") + 1] for _, args in runs} for k, (_, runs) in lot_sets.SETS.items()}
    for k in (k for k in seeds if k.startswith("confirm")):  # a confirmation set's seeds are read for no other set
        assert not seeds[k] & set().union(*(s for j, s in seeds.items() if j != k)), k


@pytest.mark.slow
def test_a_run_is_logged_summed_and_not_repeated(tmp_path):
    runs = (("p5", ("--seed", "5", "--width", "320")),)
    [path] = lot_sets.run_set("level", "t", detector="line_detector", recognizer="lot_recognizer",
                              logs=tmp_path, lanes=1, n=1, runs=runs)
    table = path.read_text()
    assert path.name == "lb_t_p5.txt" and "320 pixels wide" in table
    c = lot_sets.counts(table)
    assert c.cells == lot_sets.CELLS and c.n_lines >= 9  # every marking has a lot line
    assert 0 <= c.exact <= c.nbest <= 9 and c.tight <= c.found <= c.n_lines
    assert c.exact >= 3  # the shipped reader reads most of nine fresh lots, the clean ones at least
    stamp = path.stat().st_mtime_ns
    lot_sets.run_set("level", "t", detector="line_detector", recognizer="lot_recognizer",
                     logs=tmp_path, lanes=1, n=1, runs=runs)
    assert path.stat().st_mtime_ns == stamp  # a whole table is not run again
    path.write_text(table.splitlines()[0] + "\n")  # an interrupted run is
    lot_sets.run_set("level", "t", detector="line_detector", recognizer="lot_recognizer",
                     logs=tmp_path, lanes=1, n=1, runs=runs)
    assert lot_sets.counts(path.read_text()) == c  # the same scenes, read the same way
