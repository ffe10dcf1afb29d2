"""Registry tables (SQLAlchemy Core). Migrations in ``migrations/`` create and evolve them; this module is the
schema the code reads and writes, kept equal to the latest migration (a test checks it)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

lots = Table(
    "lots", metadata,
    Column("id", Integer, primary_key=True),
    Column("item", String(64), nullable=False, server_default=""),
    Column("nomenclature", String(128), nullable=False, server_default=""),
    Column("marking_kind", String(16), nullable=False, server_default="lot"),  # lot | serial
    Column("lot_text", String(64), nullable=False),  # canonical: circles removed, upper case
    Column("circled_factory", Boolean, nullable=False, server_default="0"),
    Column("skeleton", String(64), nullable=False, index=True),
    Column("format", String(64)),
    Column("factory_code", String(16)),
    Column("lot_number", String(32)),
    Column("year", String(8)),
    Column("manufacturer", String(128)),
    Column("country", String(64)),
    Column("exporter", String(128)),
    Column("consignee", String(128)),
    Column("export_date", String(32)),
    Column("contract_notes", Text),
    Column("source", Text),
    UniqueConstraint("marking_kind", "nomenclature", "lot_text", "circled_factory", name="uq_lots_marking"),
)

# Symmetric-deletion index over skeletons: every lot is reachable from any read within one edit of its key.
lot_keys = Table(
    "lot_keys", metadata,
    Column("key", String(64), primary_key=True),
    Column("lot_id", Integer, ForeignKey("lots.id", ondelete="CASCADE"), primary_key=True),
)

headstamp_codes = Table(
    "headstamp_codes", metadata,
    Column("code", String(16), primary_key=True),
    Column("maker", String(128), nullable=False),
    Column("country", String(64)),
    Column("years", String(32)),
    Column("script", String(16)),
    Column("verified", Boolean, nullable=False),
    Column("source", Text, nullable=False),
)

sightings = Table(
    "sightings", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # lot | headstamp
    Column("lot_id", Integer, ForeignKey("lots.id", ondelete="SET NULL")),
    Column("headstamp_code", String(16)),
    Column("read_text", String(128), nullable=False),
    Column("read_key", String(64), nullable=False),  # skeleton of the read: links unregistered sightings
    Column("score", Float),
    Column("image_ref", Text, nullable=False, server_default=""),
    Column("frame_time_s", Float),
    Column("seen_on", String(32)),  # ISO date, possibly partial (2016-07)
    Column("place", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("description", Text),
    Column("source", Text),
    Column("recorded_at", String(32), nullable=False),
)
Index("ix_sightings_lot", sightings.c.lot_id, sightings.c.seen_on)
Index("ix_sightings_key", sightings.c.read_key)

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
