"""EHR fixtures: a fresh SQLite database at the newest schema for each test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from isotrack.store import create_engine_for, upgrade

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
"""The moment of every read in these tests (the Synthea records end in 2019)."""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'isotrack.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()
