"""SMART App Launch: launches under way, and the EHR side of a launched session.

Revision ID: 0015_smart_launch
Revises: 0014_ehr_links
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_smart_launch"
down_revision: str | None = "0014_ehr_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "smart_launches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("browser", sa.String(length=64), nullable=False),
        sa.Column("iss", sa.String(length=500), nullable=False),
        sa.Column("ehr_launch", sa.Boolean(), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=2000), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_launches")),
    )
    op.create_index(
        op.f("ix_smart_launches_expires_at"), "smart_launches", ["expires_at"], unique=False
    )
    op.create_table(
        "smart_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("iss", sa.String(length=500), nullable=False),
        sa.Column("patient", sa.String(length=128), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=2000), nullable=False),
        sa.Column("app_context", sa.Text(), nullable=False),
        sa.Column("embedded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["refresh_tokens.id"],
            name=op.f("fk_smart_sessions_session_id_refresh_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_smart_sessions")),
    )
    op.create_index(
        op.f("ix_smart_sessions_expires_at"), "smart_sessions", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_smart_sessions_expires_at"), table_name="smart_sessions")
    op.drop_table("smart_sessions")
    op.drop_index(op.f("ix_smart_launches_expires_at"), table_name="smart_launches")
    op.drop_table("smart_launches")
