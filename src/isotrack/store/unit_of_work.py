"""One transaction around one use case: it all commits, or none of it does.

>>> from isotrack.store.db import create_engine_for
>>> from isotrack.store.migrate import upgrade
>>> engine = create_engine_for("sqlite://")
>>> upgrade(engine)
>>> with UnitOfWork(engine) as uow:
...     uow.patients.ids()
[]
>>> engine.dispose()
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from isotrack.store.audit import AuditTrail
from isotrack.store.db import storage_error, storage_errors
from isotrack.store.repository import PatientRepository


class UnitOfWork:
    """A transaction with the repositories that work inside it.

    Commits when the ``with`` block ends normally, rolls back when it raises;
    database failures come out as :class:`~isotrack.errors.StorageError`.
    On SQLite the transaction holds the write lock from its first statement.
    """

    patients: PatientRepository
    audit: AuditTrail
    session: Session
    """The transaction's session, for a use case that stores rows of its own with it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._session: Session | None = None

    def __enter__(self) -> Self:
        session = Session(self._engine, expire_on_commit=False, autoflush=False)
        try:
            with storage_errors(self._engine):
                session.begin()
                session.connection()  # begin now: on SQLite, take the write lock
        except BaseException:
            session.close()
            raise
        self._session = session
        self.session = session
        self.patients = PatientRepository(session)
        self.audit = AuditTrail(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session = self._session
        if session is None:
            return
        self._session = None
        try:
            with storage_errors(self._engine):
                if exc is None:
                    session.commit()
                    return
                session.rollback()
            if isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError):
                raise storage_error(self._engine, exc) from exc
        finally:
            session.close()
