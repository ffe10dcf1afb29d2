"""Painted lot markings read by the shipped line detector and lot recognizer (fresh renders, never the
evaluation set), and matched to the registry."""

import numpy as np
import pytest

from datasets.lot_text import LotText
from datasets.lots import render_marking
from model.matching.matcher import LotMatcher, line_candidates
from model.matching.store import Registry, default_url
from model.pipeline import LotReader

CYRILLIC = set("АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ")


@pytest.fixture(scope="module")
def reader():
    r = LotReader.from_bundles(threads=2)
    assert r is not None, "the lot bundles (line_detector, lot_recognizer) must ship"
    return r


def _lot_read(reads):
    return next((r for r in reads if r.kind == "lot"), None)


def test_reads_fresh_clean_lot_lines(reader):
    rng = np.random.default_rng(606)
    n, exact, in_nbest = 20, 0, 0
    for _ in range(n):
        scene = render_marking(rng, level="clean")
        reads = reader.read(scene.rgb)
        texts = [r.text for r in reads]
        cands = [c.text for r in reads for c in r.candidates]
        exact += scene.lot.text in texts
        in_nbest += scene.lot.text in texts or scene.lot.text in cands
    assert exact >= FLOOR_EXACT, f"{exact}/{n} lot lines read exactly"
    assert in_nbest >= exact


@pytest.mark.xfail(strict=True, reason="lot recognizer v1 reads the double circle as letters (0/6 here); it needs "
                   "more circled training lines. Strict: this starts failing CI once a bundle reads them.")
def test_circled_factory_code_and_fields(reader):
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(6):
        scene = render_marking(rng, level="clean", lot=LotText("10-04-11", True, "circled-factory-lot-year"),
                               nomenclature="RHEAT-9MA")
        lot = _lot_read(reader.read(scene.rgb))
        if lot is not None and lot.text == "10-04-11":
            hits += 1
            assert lot.circled_factory and dict(lot.fields) == {"factory": "10", "lot": "04", "year": "11"}
    assert hits >= 2


def test_cyrillic_lines_read_in_cyrillic(reader):
    rng = np.random.default_rng(11)
    cyrillic_reads = 0
    for _ in range(6):
        scene = render_marking(rng, level="clean", nomenclature="ПГ-7ВМ")
        for r in reader.read(scene.rgb):
            if "7" in r.text and r.kind != "lot":
                cyrillic_reads += len(CYRILLIC & set(r.text)) >= 2 and not set("PBM") & set(r.text)
    assert cyrillic_reads >= 3


def test_repainted_documented_lot_matches_at_rank_one(reader, tmp_path):
    registry = Registry.open(default_url(tmp_path))
    matcher = LotMatcher(registry)
    rng = np.random.default_rng(451)
    top1 = 0
    for _ in range(6):
        scene = render_marking(rng, level="worn", lot=LotText("12-14-451", False, "three-field-numeric"),
                               nomenclature="PG-9", overpaint=True)
        lot = _lot_read(reader.read(scene.rgb))
        if lot is None:
            continue
        ranked = matcher.match(line_candidates(lot), circled=lot.circled_factory)
        top1 += bool(ranked) and ranked[0].lot.lot_text == "12-14-451"
    assert top1 >= 3, f"{top1}/6 repainted renders matched to the documented lot at rank 1"


FLOOR_EXACT = 8  # lot_recognizer v2 + line_detector v1 read 10/20 of these exactly (v1: 7); raise it later
