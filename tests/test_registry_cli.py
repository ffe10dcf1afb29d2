"""The registry through the CLI and its migrations, on real SQLite files."""

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect

from datasets.sampler import Segment
from datasets.scenes import render_crop
from model.matching.schema import metadata
from model.matching.store import Registry

ROOT = Path(__file__).resolve().parent.parent


def _run(*args, data_dir: Path):
    env = {"MARKTRACE_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "serve.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


def test_migrated_schema_equals_the_code_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    Registry.open(url, load_seeds=False)
    db = inspect(create_engine(url))
    assert set(db.get_table_names()) - {"alembic_version"} == set(metadata.tables)
    for name, table in metadata.tables.items():
        assert {c["name"] for c in db.get_columns(name)} == {c.name for c in table.columns}, name
        assert {i["name"] for i in db.get_indexes(name)} >= {i.name for i in table.indexes if i.name}, name


def test_import_search_and_export_from_the_command_line(tmp_path):
    lots = tmp_path / "lots.csv"
    lots.write_text("lot_text,nomenclature,country,source\n"
                    "31-15-207,PG-7V 40 mm,Testland,field report 1\n"
                    "31-15-207,PG-7V 40 mm,Testland,the same lot again\n")
    proc = _run("lots", "import", str(lots), data_dir=tmp_path / "data")
    assert proc.returncode == 1  # one row was refused
    assert json.loads(proc.stdout) == {"added": 1, "errors": 1}
    assert "row 2: duplicate lot '31-15-207'" in proc.stderr
    found = _run("lots", "search", "3I-15-2?7", data_dir=tmp_path / "data")
    first = json.loads(found.stdout.splitlines()[0])
    assert (first["lot"], first["country"], first["source"]) == ("31-15-207", "Testland", "field report 1")
    pg9 = json.loads(_run("lots", "search", "12-14-45", data_dir=tmp_path / "data").stdout.splitlines()[0])
    assert pg9["lot"] == "12-14-451" and pg9["sightings"][0]["place"] == "Al Bukamal (Syria)"
    assert "missing from the read" in pg9["explanation"]
    out = tmp_path / "all.json"
    assert _run("lots", "export", str(out), data_dir=tmp_path / "data").returncode == 0
    exported = json.loads(out.read_text())
    assert {lot["lot_text"] for lot in exported["lots"]} >= {"31-15-207", "12-14-451", "10-04-11"}
    assert len(exported["sightings"]) >= 11


def test_match_reads_and_records_sightings(tmp_path):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(2024)
    img = tmp_path / "head.png"
    scene = render_crop(rng, level="clean", size_px=256, segments=[Segment("539", "539"), Segment("83", "83")])
    Image.fromarray(scene.rgb).save(img)
    proc = _run("match", str(img), "--record", "--place", "Test range", "--seen-on", "2026-11",
                data_dir=tmp_path / "data")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    heads = [m for m in row["markings"] if m["kind"] == "headstamp"]
    assert len(heads) == 1
    marking = heads[0]
    assert all({"code", "maker", "score", "explanation", "source"} <= set(m) for m in marking["matches"])
    registry = Registry.open(f"sqlite:///{tmp_path / 'data' / 'registry.sqlite'}")
    seen = [s for s in registry.sightings() if s.kind == "headstamp"]
    assert len(seen) == 1 and seen[0].place == "Test range" and seen[0].image_ref == str(img.resolve())
    assert seen[0].read_text == " ".join(marking["segments"])
    # recording the same photo again does not duplicate the sighting
    _run("match", str(img), "--record", "--place", "Test range", "--seen-on", "2026-11", data_dir=tmp_path / "data")
    assert len([s for s in registry.sightings() if s.kind == "headstamp"]) == 1
