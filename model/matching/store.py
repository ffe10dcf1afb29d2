"""The registry store: lots, headstamp codes and sightings in SQLite (default) or PostgreSQL, via SQLAlchemy.

Opening a store runs the Alembic migrations and, on first use, loads the documented cases from ``seeds/``.
Imports go row by row, each in its own savepoint: a bad row (missing text, duplicate, undecodable bytes) is
reported with its row number and nothing else is lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError

from model.matching.confusion import deletion_keys, skeleton
from model.matching.formats import parse_lot
from model.matching.schema import headstamp_codes, lot_keys, lots, meta, sightings
from model.reference import seed_rows

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SEEDS_VERSION = "1"
LOT_COLUMNS = ("item", "nomenclature", "marking_kind", "lot_text", "circled_factory", "factory_code", "lot_number",
               "year", "manufacturer", "country", "exporter", "consignee", "export_date", "contract_notes", "source")
REQUIRED = ("lot_text",)
_FIELD_COLUMNS = {"factory": "factory_code", "lot": "lot_number", "year": "year"}


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row (the header of a CSV file is row 0)
    message: str


@dataclass(frozen=True)
class ImportReport:
    added: int
    errors: tuple[RowError, ...]


@dataclass(frozen=True)
class LotRecord:
    """A registered lot (or serial) with its provenance."""

    id: int
    lot_text: str
    circled_factory: bool
    nomenclature: str
    item: str
    marking_kind: str
    format: str | None
    factory_code: str | None
    lot_number: str | None
    year: str | None
    manufacturer: str | None
    country: str | None
    exporter: str | None
    consignee: str | None
    export_date: str | None
    contract_notes: str | None
    source: str | None
    skeleton: str  # the matching key (look-alikes folded, separators dropped)

    @property
    def display(self) -> str:
        """The lot as marked: ``((10))-04-11`` for a circled factory code."""
        if self.circled_factory and "-" in self.lot_text:
            head, rest = self.lot_text.split("-", 1)
            return f"(({head}))-{rest}"
        return self.lot_text


@dataclass(frozen=True)
class Sighting:
    id: int
    kind: str
    lot_id: int | None
    headstamp_code: str | None
    read_text: str
    score: float | None
    image_ref: str
    frame_time_s: float | None
    seen_on: str | None
    place: str | None
    description: str | None
    source: str | None
    recorded_at: str


def default_url(data_dir: Path) -> str:
    """SQLite file under ``data_dir`` (created on first use)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'registry.sqlite').resolve()}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def lot_row(raw: dict[str, str | None]) -> dict:
    """A validated ``lots`` row from an import row (strings); raises ValueError on a bad row."""
    clean = {k: (str(v).strip() if v is not None else "") for k, v in raw.items() if k in LOT_COLUMNS}
    if not clean.get("lot_text"):
        raise ValueError("empty lot_text")
    circled_flag = clean.get("circled_factory", "").lower()
    if circled_flag not in ("", "true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"circled_factory must be true or false, not {circled_flag!r}")
    parsed = parse_lot(clean["lot_text"], circled_factory=circled_flag in ("true", "1", "yes"))
    row = {k: (clean.get(k) or None) for k in LOT_COLUMNS}  # every column, so rows batch together
    row.update(lot_text=parsed.text, circled_factory=parsed.circled_factory, format=parsed.format,
               skeleton=skeleton(parsed.text), item=clean.get("item", ""), nomenclature=clean.get("nomenclature", ""),
               marking_kind=clean.get("marking_kind") or "lot")
    for field, column in _FIELD_COLUMNS.items():
        if not row.get(column) and field in parsed.fields:
            row[column] = parsed.fields[field]
    return row


class Registry:
    """Lots, headstamp codes and sightings behind one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, load_seeds: bool = True) -> Registry:
        """Connect, migrate to the latest schema and, on first use, load the seeds."""
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        reg = cls(engine)
        reg.migrate()
        if load_seeds and reg.meta("seeds_version") is None:
            reg.load_seeds()
        return reg

    def migrate(self) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(meta.c.value).where(meta.c.key == key))

    def _set_meta(self, conn, key: str, value: str) -> None:
        conn.execute(meta.delete().where(meta.c.key == key))
        conn.execute(meta.insert().values(key=key, value=value))

    def load_seeds(self) -> ImportReport:
        """Documented lots, their sightings and the headstamp maker codes from ``seeds/``."""
        report = self.import_rows(enumerate(seed_rows("lots.csv"), start=1))
        with self.engine.begin() as conn:
            conn.execute(headstamp_codes.delete())
            conn.execute(headstamp_codes.insert(), [
                {**r, "verified": r["verified"] == "true", "years": r["years"] or None}
                for r in seed_rows("headstamp_codes.csv")])
            self._set_meta(conn, "seeds_version", SEEDS_VERSION)
        for r in seed_rows("sightings.csv"):
            match = [lot for lot in self.lots_by_text(r["lot_text"]) if lot.nomenclature == r["nomenclature"]]
            self.add_sighting(kind="lot", read_text=r["lot_text"], lot_id=match[0].id if match else None,
                              seen_on=r["seen_on"] or None, place=r["place"], description=r["description"],
                              source=r["source"], image_ref="")
        return report

    def import_rows(self, rows: Iterable[tuple[int, dict]]) -> ImportReport:
        """Add lots row by row; each bad row is reported and skipped, the rest are kept."""
        added, errors = 0, []
        with self.engine.begin() as conn:
            for n, raw in rows:
                try:
                    row = lot_row(raw)
                except ValueError as e:
                    errors.append(RowError(n, str(e)))
                    continue
                try:
                    with conn.begin_nested():
                        lot_id = conn.execute(lots.insert().values(**row)).inserted_primary_key[0]
                        conn.execute(lot_keys.insert(), [{"key": k, "lot_id": lot_id}
                                                         for k in deletion_keys(row["skeleton"])])
                    added += 1
                except IntegrityError:
                    what = row["nomenclature"] or "no item"
                    errors.append(RowError(n, f"duplicate lot {row['lot_text']!r} ({what})"))
        return ImportReport(added, tuple(errors))

    def bulk_add_lots(self, rows: Sequence[dict], *, chunk: int = 50_000) -> int:
        """Fast path for large, already clean registries (no per-row savepoints): one transaction per chunk."""
        with self.engine.begin() as conn:
            next_id = (conn.scalar(select(func.max(lots.c.id))) or 0) + 1
        for start in range(0, len(rows), chunk):
            part = [lot_row(r) for r in rows[start:start + chunk]]
            for k, row in enumerate(part):
                row["id"] = next_id + start + k
            keys = [{"key": key, "lot_id": row["id"]} for row in part for key in deletion_keys(row["skeleton"])]
            with self.engine.begin() as conn:
                conn.execute(lots.insert(), part)
                conn.execute(lot_keys.insert(), keys)
        return len(rows)

    def count_lots(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(lots)))

    def lot_ids_by_keys(self, keys: Iterable[str], *, limit: int = 5000) -> list[int]:
        """Ids of the lots whose deletion neighbourhood contains any of ``keys``."""
        keys = sorted(set(keys))
        if not keys:
            return []
        with self.engine.connect() as conn:
            q = select(lot_keys.c.lot_id).where(lot_keys.c.key.in_(keys)).distinct().limit(limit)
            return [int(i) for i in conn.scalars(q)]

    def lots_by_ids(self, ids: Sequence[int]) -> list[LotRecord]:
        if not ids:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(*[lots.c[n] for n in _RECORD_FIELDS]).where(lots.c.id.in_(list(ids))))
            return [LotRecord(**r._mapping) for r in rows]

    def lots_by_text(self, text: str) -> list[LotRecord]:
        """Lots whose skeleton equals the skeleton of ``text`` (look-alikes and separators ignored)."""
        with self.engine.connect() as conn:
            ids = list(conn.scalars(select(lots.c.id).where(lots.c.skeleton == skeleton(text))))
        return self.lots_by_ids(ids)

    def all_lots(self) -> list[LotRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(*[lots.c[n] for n in _RECORD_FIELDS]).order_by(lots.c.id))
            return [LotRecord(**r._mapping) for r in rows]

    def headstamp_codes(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(headstamp_codes))]

    def add_sighting(self, *, kind: str, read_text: str, image_ref: str, lot_id: int | None = None,
                     headstamp_code: str | None = None, score: float | None = None,
                     frame_time_s: float | None = None, seen_on: str | None = None, place: str | None = None,
                     description: str | None = None, source: str | None = None) -> int | None:
        """Record a sighting; the same evidence (read, image, frame, place, date) is stored once (returns None)."""
        row = dict(kind=kind, read_text=read_text, read_key=skeleton(read_text), image_ref=image_ref,
                   lot_id=lot_id, headstamp_code=headstamp_code, score=score, frame_time_s=frame_time_s,
                   seen_on=seen_on, place=place, description=description, source=source,
                   recorded_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        same = [sightings.c[k].is_(row[k]) if row[k] is None else sightings.c[k] == row[k]
                for k in ("kind", "read_key", "image_ref", "frame_time_s", "place", "seen_on")]
        with self.engine.begin() as conn:
            if conn.scalar(select(sightings.c.id).where(*same)) is not None:
                return None
            return int(conn.execute(sightings.insert().values(**row)).inserted_primary_key[0])

    def sightings(self, *, lot_id: int | None = None, text: str | None = None) -> list[Sighting]:
        """Sightings of a registered lot, or of any read with the same skeleton as ``text``, in time order
        (undated ones last, then by recording time)."""
        q = select(*[sightings.c[n] for n in Sighting.__dataclass_fields__])
        if lot_id is not None:
            q = q.where(sightings.c.lot_id == lot_id)
        elif text is not None:
            q = q.where(sightings.c.read_key == skeleton(text))
        q = q.order_by(sightings.c.seen_on.is_(None), sightings.c.seen_on, sightings.c.recorded_at, sightings.c.id)
        with self.engine.connect() as conn:
            return [Sighting(**r._mapping) for r in conn.execute(q)]


_RECORD_FIELDS = tuple(LotRecord.__dataclass_fields__)
