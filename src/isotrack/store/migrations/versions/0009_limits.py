"""Shared rate limits and the CDS Hooks replay cache, for many workers.

Revision ID: 0009_limits
Revises: 0005_onboarding
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_limits"
down_revision: str | None = "0005_onboarding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )
    op.create_index(
        op.f("ix_rate_buckets_updated_at"), "rate_buckets", ["updated_at"], unique=False
    )
    op.create_table(
        "seen_tokens",
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("jti", sa.String(length=256), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_seen_tokens")),
    )
    op.create_index(op.f("ix_seen_tokens_expires_at"), "seen_tokens", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_seen_tokens_expires_at"), table_name="seen_tokens")
    op.drop_table("seen_tokens")
    op.drop_index(op.f("ix_rate_buckets_updated_at"), table_name="rate_buckets")
    op.drop_table("rate_buckets")
