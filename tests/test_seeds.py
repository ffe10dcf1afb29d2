import csv
from pathlib import Path

from model.charset import GLYPHS, normalise_glyphs

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _rows(name):
    with open(SEEDS / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_headstamp_codes_have_sources_and_are_unique():
    rows = _rows("headstamp_codes.csv")
    assert len(rows) >= 20
    assert set(rows[0]) == {"code", "maker", "country", "years", "script", "verified", "source"}
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    for r in rows:
        assert r["source"].strip(), r
        assert r["verified"] in {"true", "false"}, r
        assert all(g in GLYPHS for g in normalise_glyphs(r["code"])), r
    # section B of MARKINGS.md must not be marked verified
    assert {r["code"]: r["verified"] for r in rows}["WCC"] == "false"
    assert {r["code"]: r["verified"] for r in rows}["539"] == "true"


def test_calibres_have_sources():
    rows = _rows("calibres.csv")
    assert {"7.62", "5.56", "9MM", "12.7"} <= {r["stamped"] for r in rows}
    for r in rows:
        assert r["source"].strip() and r["verified"] in {"true", "false"}
        assert all(g in GLYPHS for g in normalise_glyphs(r["stamped"]).replace(" ", "")), r
