"""EHR patients linked to isotrack records, and the EHR resources read into them.

Revision ID: 0014_ehr_links
Revises: 0013_contact_preferences
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_ehr_links"
down_revision: str | None = "0013_contact_preferences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ehr_links",
        sa.Column("fhir_base", sa.String(length=500), nullable=False),
        sa.Column("ehr_patient_id", sa.String(length=64), nullable=False),
        sa.Column("identifier_system", sa.String(length=500), nullable=False),
        sa.Column("identifier_value", sa.String(length=200), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("linked_by", sa.String(length=200), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_ehr_links_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("fhir_base", "ehr_patient_id", name=op.f("pk_ehr_links")),
    )
    op.create_index(op.f("ix_ehr_links_patient_id"), "ehr_links", ["patient_id"])
    op.create_table(
        "ehr_resources",
        sa.Column("fhir_base", sa.String(length=500), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("last_updated", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("read_by", sa.String(length=200), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_ehr_resources_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint(
            "fhir_base", "resource_type", "resource_id", name=op.f("pk_ehr_resources")
        ),
    )
    op.create_index(op.f("ix_ehr_resources_patient_id"), "ehr_resources", ["patient_id"])
    op.create_table(
        "ehr_command_sources",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("fhir_base", sa.String(length=500), nullable=False),
        sa.Column("resources", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_ehr_command_sources_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("patient_id", "seq", name=op.f("pk_ehr_command_sources")),
    )


def downgrade() -> None:
    op.drop_table("ehr_command_sources")
    op.drop_index(op.f("ix_ehr_resources_patient_id"), table_name="ehr_resources")
    op.drop_table("ehr_resources")
    op.drop_index(op.f("ix_ehr_links_patient_id"), table_name="ehr_links")
    op.drop_table("ehr_links")
