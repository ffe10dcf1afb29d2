"""Registry: lots with their deletion-key index, headstamp codes, sightings, meta.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "lots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item", sa.String(64), nullable=False, server_default=""),
        sa.Column("nomenclature", sa.String(128), nullable=False, server_default=""),
        sa.Column("marking_kind", sa.String(16), nullable=False, server_default="lot"),
        sa.Column("lot_text", sa.String(64), nullable=False),
        sa.Column("circled_factory", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("skeleton", sa.String(64), nullable=False),
        sa.Column("format", sa.String(64)),
        sa.Column("factory_code", sa.String(16)),
        sa.Column("lot_number", sa.String(32)),
        sa.Column("year", sa.String(8)),
        sa.Column("manufacturer", sa.String(128)),
        sa.Column("country", sa.String(64)),
        sa.Column("exporter", sa.String(128)),
        sa.Column("consignee", sa.String(128)),
        sa.Column("export_date", sa.String(32)),
        sa.Column("contract_notes", sa.Text),
        sa.Column("source", sa.Text),
        sa.UniqueConstraint("marking_kind", "nomenclature", "lot_text", "circled_factory", name="uq_lots_marking"),
    )
    op.create_index("ix_lots_skeleton", "lots", ["skeleton"])
    op.create_table(
        "lot_keys",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("lot_id", sa.Integer, sa.ForeignKey("lots.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "headstamp_codes",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("maker", sa.String(128), nullable=False),
        sa.Column("country", sa.String(64)),
        sa.Column("years", sa.String(32)),
        sa.Column("script", sa.String(16)),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    )
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lot_id", sa.Integer, sa.ForeignKey("lots.id", ondelete="SET NULL")),
        sa.Column("headstamp_code", sa.String(16)),
        sa.Column("read_text", sa.String(128), nullable=False),
        sa.Column("read_key", sa.String(64), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("image_ref", sa.Text, nullable=False, server_default=""),
        sa.Column("frame_time_s", sa.Float),
        sa.Column("seen_on", sa.String(32)),
        sa.Column("place", sa.Text),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("description", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_sightings_lot", "sightings", ["lot_id", "seen_on"])
    op.create_index("ix_sightings_key", "sightings", ["read_key"])
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("meta", "sightings", "headstamp_codes", "lot_keys", "lots"):
        op.drop_table(name)
