"""Patients' subscribed calendar links (the digest of each link's token).

Revision ID: 0010_calendar_feed
Revises: 0009_limits
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_calendar_feed"
down_revision: str | None = "0009_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("clinical_titles", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_calendar_feeds")),
    )
    op.create_index(
        op.f("ix_calendar_feeds_token_digest"), "calendar_feeds", ["token_digest"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_feeds_token_digest"), table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
