"""The same registry on PostgreSQL, when a server is given (``.ci/run`` starts Debian's PostgreSQL and sets
MARKTRACE_TEST_POSTGRES_URL); skipped otherwise."""

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from model.matching.matcher import LotMatcher, ReadCandidate
from model.matching.store import Registry

URL = os.environ.get("MARKTRACE_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="no PostgreSQL server (set MARKTRACE_TEST_POSTGRES_URL)")


@pytest.fixture()
def pg_registry():
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = URL + ("&" if "?" in URL else "?") + f"options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def test_registry_migrates_imports_and_matches_on_postgres(pg_registry):
    reg = Registry.open(pg_registry)
    assert {lot.display for lot in reg.all_lots()} >= {"12-14-451", "((10))-04-11"}
    report = reg.import_rows([(1, {"lot_text": "31-15-207", "source": "test"}), (2, {"lot_text": "31-15-207"}),
                              (3, {"lot_text": ""})])
    assert report.added == 1 and [e.row for e in report.errors] == [2, 3]
    top = LotMatcher(reg).match([ReadCandidate("3I-15-2O7", 1.0)])
    assert top[0].lot.lot_text == "31-15-207"
    again = Registry.open(pg_registry)  # migrations and seeds are not applied twice
    assert again.count_lots() == reg.count_lots()
    rheat = again.lots_by_text("10-04-11")[0]
    assert [s.seen_on for s in again.sightings(lot_id=rheat.id)][:2] == ["2016", "2016-06"]
