import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


import numpy as np  # noqa: E402
import pytest  # noqa: E402


def _shard_of(monkeypatch, main, argv: list[str], path: Path) -> dict[str, np.ndarray]:
    """Run a data script's ``main`` under ``argv`` and return the arrays of the shard it wrote at ``path``."""
    monkeypatch.setattr("sys.argv", argv)
    main()
    with np.load(path) as shard:
        return {k: shard[k] for k in shard.files}


@pytest.fixture
def lot_lines(monkeypatch):
    """``lot_lines(folder, *ARGS)``: runs ``make_lot_data --lines-only --out folder ARGS`` and returns the arrays of
    the lines shard it wrote (``pixels``, ``texts``)."""
    from training import make_lot_data

    def run(folder: Path, *args: str) -> dict[str, np.ndarray]:
        argv = ["make_lot_data", "--lines-only", "--out", str(folder), *args]
        return _shard_of(monkeypatch, make_lot_data.main, argv, Path(folder) / "lines.npz")

    return run


@pytest.fixture
def strip_shard(monkeypatch):
    """``strip_shard(path, *ARGS)``: runs ``make_strips --size 48 384 --out path ARGS`` and returns the arrays of the
    shard it wrote (``pixels``, ``texts``, ...)."""
    from training import make_strips

    def run(path: Path, *args: str) -> dict[str, np.ndarray]:
        argv = ["make_strips", "--size", "48", "384", "--out", str(path), *args]
        return _shard_of(monkeypatch, make_strips.main, argv, path)

    return run
