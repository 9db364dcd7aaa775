"""The ``database`` fixture gives each test an empty database at the newest schema."""

from __future__ import annotations

from sqlalchemy import Engine

from isotrack.store import current_revision, head_revision, row_counts
from tests.store.helpers import NOW, enrol


def test_each_test_starts_with_an_empty_database_at_the_newest_schema(database: Engine) -> None:
    assert current_revision(database) == head_revision()
    assert set(row_counts(database).values()) == {0}


def test_a_test_that_writes_leaves_nothing_for_the_next(database: Engine) -> None:
    from isotrack.store import UnitOfWork

    with UnitOfWork(database) as uow:
        uow.patients.append("P-001", enrol(), expected_version=0, actor="t", recorded_at=NOW)
    assert row_counts(database)["patients"] == 1


def test_and_the_next_test_sees_it_empty_again(database: Engine) -> None:
    assert set(row_counts(database).values()) == {0}
