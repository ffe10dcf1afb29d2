"""Matching: skeletons and the deletion index, alignment, lot formats, and the matcher on a real SQLite file."""

import random

import pytest

from model.matching.align import CharRead, align, chars_of
from model.matching.confusion import deletion_keys, normalise_marking, skeleton
from model.matching.formats import is_designation, parse_lot
from model.matching.headstamps import HeadstampMatcher, SegmentsCandidate
from model.matching.matcher import LotMatcher, ReadCandidate, query_keys
from model.matching.store import Registry, default_url
from model.reference import seed_rows


@pytest.fixture()
def registry(tmp_path):
    return Registry.open(default_url(tmp_path / "data"))


def test_skeleton_folds_look_alikes_scripts_and_separators():
    assert skeleton("12-14-45I") == skeleton("12 14 451") == skeleton("l2.I4.45l")
    assert skeleton("ВЗ-О1") == skeleton("B3-01")  # Cyrillic look-alikes
    assert skeleton("۱۲-۱۴") == skeleton("12-14")  # Persian digits
    assert skeleton("12-14-451") != skeleton("12-14-452")
    assert normalise_marking("((10))-04-11") == ("10-04-11", True)
    assert normalise_marking("(10))-04-11") == normalise_marking("((10)-04-11") == ("10-04-11", True)
    assert normalise_marking("(10)-04-11") == ("(10)-04-11", False)  # one bracket pair is not a double circle
    assert normalise_marking("10))-04-11") == ("10-04-11", True)  # both left arcs lost
    assert normalise_marking("10-04))-11") == ("10-04))-11", False)  # arcs after more than the first field
    assert normalise_marking(" 12-14-451 ") == ("12-14-451", False)


def test_any_single_edit_shares_a_deletion_key():
    rnd = random.Random(0)
    alphabet = "0123456789ABCDEFGHJKMNPRUVWXY"
    for _ in range(300):
        key = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(3, 9)))
        i = rnd.randrange(len(key))
        c = rnd.choice(alphabet)
        edits = [key[:i] + c + key[i + 1:], key[:i] + key[i + 1:], key[:i] + c + key[i:]]
        for edited in edits:
            assert deletion_keys(key) & deletion_keys(edited), (key, edited)
    # an unknown reaches every filling of it
    keys = query_keys(skeleton("12-1?-451"))
    assert all(deletion_keys(skeleton(f"12-1{d}-451")) & keys for d in "0123456789")


def test_alignment_charges_confusions_less_than_unrelated_substitutions():
    read = chars_of("12-14-45I")
    look_alike = align(read, "12-14-451")
    unrelated = align(read, "12-14-458")
    assert look_alike.logp > unrelated.logp
    assert "'I' read for '1' (look-alike" in look_alike.explain()
    dropped = align(chars_of("12-1-451"), "12-14-451")
    assert any(s.op == "dropped" and s.truth == "4" for s in dropped.steps)
    confident = align((CharRead("7", 0.99),), "1")
    unsure = align((CharRead("7", 0.4),), "1")
    assert unsure.logp > confident.logp  # a doubtful character is cheap to overrule


def test_lot_formats_parse_their_sourced_examples():
    for row in seed_rows("lot_formats.csv"):
        if row["example"]:
            parsed = parse_lot(row["example"])
            assert parsed.format == row["name"], row
            assert parsed.fields
    rheat = parse_lot("((10))-04-11")
    assert (rheat.text, rheat.circled_factory, rheat.fields) == (
        "10-04-11", True, {"factory": "10", "lot": "04", "year": "11"})
    assert parse_lot("SRB 8702-01").fields == {"producer": "SRB", "year": "87", "series": "02", "wartime": "01"}
    assert parse_lot("no format here").format is None


def test_designations_and_calibres_are_never_lots():
    import numpy as np

    from datasets.lot_text import NOMENCLATURE, sample_lot

    assert all(is_designation(t) for t in NOMENCLATURE)
    assert is_designation("762X39") and is_designation("7,62 ПС")  # a calibre read without its point; a decimal
    rng = np.random.default_rng(0)
    lots = [sample_lot(rng).text for _ in range(2000)]
    assert not [t for t in lots if is_designation(t)]
    assert not any(is_designation(t) for t in ("22.23-69", "7.10", "K9122", "88/98", "((10))-04-11"))


def test_seeds_load_once_with_sources_and_sightings_in_time_order(registry, tmp_path):
    lots = registry.all_lots()
    assert {lot.display for lot in lots} >= {"12-14-451", "((10))-04-11"}
    assert all(lot.source for lot in lots)
    rheat = registry.lots_by_text("10-04-11")[0]
    assert (rheat.factory_code, rheat.lot_number, rheat.year, rheat.consignee) == ("10", "04", "11", "Saudi Arabia")
    seen = registry.sightings(lot_id=rheat.id)
    dated = [s.seen_on for s in seen if s.seen_on]
    assert len(seen) == 5 and dated == sorted(dated)
    again = Registry.open(default_url(tmp_path / "data"))  # the same file: no second copy of the seeds
    assert again.count_lots() == len(lots) and len(again.sightings()) == len(registry.sightings())


def test_documented_lots_match_from_damaged_reads(registry):
    m = LotMatcher(registry)
    top = m.match([ReadCandidate("12-14-45I", 0.6, (0.9,) * 8 + (0.45,)), ReadCandidate("12-14-457", 0.4)])
    assert top[0].lot.lot_text == "12-14-451"
    assert "look-alike" in top[0].explanation
    assert m.search("12-1?-451")[0].lot.lot_text == "12-14-451"
    assert m.search("1O-O4-11")[0].lot.display == "((10))-04-11"
    assert m.search("((10))-4-11")[0].lot.display == "((10))-04-11"  # a dropped character
    assert m.search("ZZZZZZ") == []


def test_truth_second_in_the_n_best_wins_on_character_evidence(registry):
    registry.import_rows([(1, {"lot_text": "12-14-457", "nomenclature": "PG-9 73 mm", "source": "test"})])
    m = LotMatcher(registry)
    # both lots are registered; the reader's first choice is shaky in its last character
    cands = [ReadCandidate("12-14-457", 0.55, (0.95,) * 8 + (0.5,)), ReadCandidate("12-14-451", 0.45)]
    ranked = m.match(cands)
    assert {r.lot.lot_text for r in ranked[:2]} == {"12-14-451", "12-14-457"}
    assert abs(sum(r.score for r in ranked) - 1) < 0.2  # most of the mass is on the two real lots


def test_import_reports_bad_rows_and_keeps_the_rest(registry, tmp_path):
    from model.matching.files import export_file, import_file

    before = registry.count_lots()
    good = "lot_text,nomenclature,source\n01-02-333,PG-7V,test\n"
    bad_encoding = "02-03-444,PG-7V,\xe9t\xe9\n".encode("latin-1")
    dup = "01-02-333,PG-7V,test\n,PG-7V,empty text\n01-02-334,PG-7V,test,extra\n04-05-666,PG-7V,test\n"
    path = tmp_path / "lots.csv"
    path.write_bytes(good.encode() + bad_encoding + dup.encode())
    report = import_file(registry, path)
    assert report.added == 2
    reasons = {e.row: e.message for e in report.errors}
    assert set(reasons) == {2, 3, 4, 5}
    assert "UTF-8" in reasons[2] and "duplicate" in reasons[3] and "empty" in reasons[4] and "more fields" in reasons[5]
    assert registry.count_lots() == before + 2
    missing = tmp_path / "missing.csv"
    missing.write_text("nomenclature,source\nPG-9,x\n")
    assert import_file(registry, missing).errors[0].message.startswith("missing column")
    assert registry.count_lots() == before + 2
    # round trip through both export formats into fresh stores
    for suffix in (".csv", ".json"):
        out = tmp_path / f"export{suffix}"
        assert export_file(registry, out) == before + 2
        fresh = Registry.open(default_url(tmp_path / f"fresh{suffix[1:]}"), load_seeds=False)
        assert import_file(fresh, out).added == before + 2
        assert {lot.display for lot in fresh.all_lots()} == {lot.display for lot in registry.all_lots()}


def test_sightings_link_reads_of_the_same_lot(registry):
    lot = registry.lots_by_text("12-14-451")[0]
    first = registry.add_sighting(kind="lot", read_text="12-14-45I", image_ref="a.jpg", lot_id=lot.id,
                                  seen_on="2018-03-01", place="Raqqa")
    again = registry.add_sighting(kind="lot", read_text="12-14-45I", image_ref="a.jpg", lot_id=lot.id,
                                  seen_on="2018-03-01", place="Raqqa")
    assert first is not None and again is None
    unregistered = [registry.add_sighting(kind="lot", read_text=t, image_ref=f"{i}.jpg", seen_on=d)
                    for i, (t, d) in enumerate([("77-01-123", "2019-05"), ("77-O1-l23", "2019-01")])]
    assert all(unregistered)
    chain = registry.sightings(text="77-01-123")
    assert [s.seen_on for s in chain] == ["2019-01", "2019-05"]
    dated = [(s.seen_on, s.place) for s in registry.sightings(lot_id=lot.id) if s.seen_on]
    assert dated == [("2016-07", "Al Bukamal (Syria)"), ("2018-03-01", "Raqqa")]  # undated reports follow


def test_headstamp_codes_match_in_any_order_and_orientation(registry):
    m = HeadstampMatcher(registry.headstamp_codes())
    for segs in [("539", "83"), ("83", "539")]:  # any starting clock position
        best = m.match([SegmentsCandidate(segs)])[0]
        assert (best.code, best.year) == ("539", "83"), segs
    turned = m.match([SegmentsCandidate(("881", "83"))])[0]  # 188 read upside down: reversed, 6/9 swapped
    assert turned.code == "188" and not turned.verified
    assert m.match([SegmentsCandidate(("71", "08"))])[0].maker.startswith("Chinese")
    persian = m.match([SegmentsCandidate(("۷۱", "۱۳۸۲"))])[0]
    assert persian.code == "71" and persian.year.startswith("1382 SH = 2003")
