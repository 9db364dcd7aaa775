"""Patients' consent to reminders: channels, opt-out, a minor's guardian.

Revision ID: 0013_contact_preferences
Revises: 0012_reminders
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_contact_preferences"
down_revision: str | None = "0012_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_preferences",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("by_email", sa.Boolean(), nullable=False),
        sa.Column("by_sms", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("guardian_name", sa.String(length=200), nullable=True),
        sa.Column("guardian_email", sa.String(length=254), nullable=True),
        sa.Column("guardian_phone", sa.String(length=16), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_contact_preferences")),
    )


def downgrade() -> None:
    op.drop_table("contact_preferences")
