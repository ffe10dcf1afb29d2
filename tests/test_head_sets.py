"""The named headstamp benchmark sets: runs of the fresh-render benches logged, summed, and not run again."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (their dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


head_sets = _load("head_sets")


def test_sets_name_each_run_once_with_its_seed_and_confirmation_seeds_are_fresh():
    for name, (_prefix, runs) in head_sets.SETS.items():
        names = [n for n, _, _ in runs]
        assert len(set(names)) == len(names), name
        for run_name, kind, args in runs:
            assert kind in head_sets.SCRIPTS and args[args.index("--seed") + 1] in run_name, (name, run_name)
    seeds = {k: {(kind, args[args.index("--seed") + 1]) for _, kind, args in runs}
             for k, (_, runs) in head_sets.SETS.items()}
    confirm = [k for k in seeds if k.startswith("confirm")]
    for k in confirm:  # a confirmation set's seeds are read for no other set
        assert not seeds[k] & set().union(*(s for j, s in seeds.items() if j != k)), k


def test_tables_are_summed_and_unfinished_ones_seen():
    crops = "| level | exact | in n-best | ms/crop |\n|---|---|---|---|\n| clean | 50/60 | 55/60 | 60 |\n" \
            "| worn | 30/60 | 40/60 | 70 |\n| obscured | 10/60 | 20/60 | 75 |\n"
    frames = "| level | heads | found | read exactly | in n-best | ms/frame |\n|---|---|---|---|---|---|\n" \
             "| clean | 95 | 90 | 80 | 85 | 300 |\n| worn | 100 | 80 | 40 | 50 | 310 |\n"
    c, f = head_sets.counts(crops), head_sets.counts(frames)
    assert (c.crops_exact, c.crops_nbest, c.crops, c.rows) == (90, 115, 180, 3)
    assert (f.frame_exact, f.frame_found, f.frame_heads, f.rows) == (120, 170, 195, 2)
    assert (c + f).exact == 210
    assert head_sets.counts(crops.rsplit("| obscured", 1)[0]).rows == 2


@pytest.mark.slow
def test_a_run_is_logged_summed_and_not_repeated(tmp_path):
    runs = (("h7", "crops", ("--seed", "7", "--faces", "held")), ("f7", "frames", ("--seed", "7")))
    paths = head_sets.run_set("held", "t", recognizer="headstamp_recognizer", detector="case_head_detector",
                              logs=tmp_path, lanes=2, runs=runs, n=2)
    assert [p.name for p in paths] == ["hb_t_h7.txt", "hb_t_f7.txt"]
    crops, frames = (head_sets.counts(p.read_text()) for p in paths)
    assert "held faces" in paths[0].read_text()
    assert crops.rows == 3 and crops.crops == 6 and 0 <= crops.crops_exact <= crops.crops_nbest <= 6
    assert frames.rows == 2 and frames.frame_heads > 0 and frames.frame_exact <= frames.frame_found
    assert crops.crops_nbest >= 1  # the shipped reader finds some of six fresh heads among its candidates
    stamps = [p.stat().st_mtime_ns for p in paths]
    head_sets.run_set("held", "t", recognizer="headstamp_recognizer", detector="case_head_detector",
                      logs=tmp_path, lanes=2, runs=runs, n=2)
    assert [p.stat().st_mtime_ns for p in paths] == stamps  # whole tables are not run again
    paths[0].write_text(paths[0].read_text().rsplit("| obscured", 1)[0])  # an interrupted run is
    head_sets.run_set("held", "t", recognizer="headstamp_recognizer", detector="case_head_detector",
                      logs=tmp_path, lanes=2, runs=runs, n=2)
    assert head_sets.counts(paths[0].read_text()) == crops  # the same heads, read the same way
