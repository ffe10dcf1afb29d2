"""The rooms import in one direction: serve -> model <- datasets <- training; torch only in model/nets."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("model", "serve", "datasets", "training")
FORBIDDEN = {
    "model": {"serve", "datasets", "training", "fastapi"},
    "serve": {"datasets", "training", "torch"},
    "datasets": {"serve", "training"},
    "training": {"serve"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_import_directions():
    bad = []
    for room in ROOMS:
        for path in (ROOT / room).rglob("*.py"):
            names = _imports(path)
            wrong = names & FORBIDDEN[room]
            if room == "model" and "torch" in names and "nets" not in path.parts:
                wrong.add("torch")
            if wrong:
                bad.append(f"{path.relative_to(ROOT)} imports {sorted(wrong)}")
    assert not bad, bad
