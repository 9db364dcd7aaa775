"""Alembic migrations of the isotrack schema (run them with :mod:`isotrack.store.migrate`)."""
