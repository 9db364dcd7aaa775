"""Killing the process (SIGKILL) in a stream of commands loses no committed
command and leaves no partial one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, func, select

from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork, read_record, verify_audit
from isotrack.store.models import AuditRow, CommandRow, Patient
from tests.store.command_stream import PATIENT
from tests.store.helpers import NOW, url_of

REPO = Path(__file__).resolve().parents[2]
STREAM_LENGTH = 1000
KILL_AFTER = 120
"""Commits the child reports before it is killed: midway through the stream."""
DEADLINE_S = 60


def _stream_then_kill(engine: Engine, stderr: Path) -> int:
    """Start the stream, SIGKILL it after KILL_AFTER commits; the last reported version."""
    with stderr.open("w") as errors:
        command = [sys.executable, "-m", "tests.store.command_stream", url_of(engine)]
        child = subprocess.Popen(
            [*command, str(STREAM_LENGTH)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert child.stdout is not None
        reported, started = 0, time.monotonic()
        try:
            for line in child.stdout:
                reported = int(line.split()[1])
                if reported >= KILL_AFTER or time.monotonic() - started > DEADLINE_S:
                    break
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait()
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL, stderr.read_text()
    assert reported >= KILL_AFTER, f"only {reported} commits: {stderr.read_text()}"
    return reported


def test_sigkill_mid_stream_loses_no_committed_command_and_leaves_no_partial_one(
    database: Engine, kb: KnowledgeBase, tmp_path: Path
) -> None:
    reported = _stream_then_kill(database, tmp_path / "stream.err")

    with UnitOfWork(database) as uow:
        version = uow.patients.version(PATIENT)
        seqs = [stored.seq for stored in uow.patients.history(PATIENT)]
    with database.connect() as connection:
        audited = connection.scalar(
            select(func.count()).where(AuditRow.action.startswith("command:"))
        )
        patients = connection.scalar(select(func.count()).select_from(Patient))
        commands = connection.scalar(select(func.count()).select_from(CommandRow))
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    # Every command the child saw committed is there ...
    assert version >= reported
    # ... and nothing half-written: the log, the version and the audit trail agree.
    assert version < STREAM_LENGTH
    assert seqs == list(range(1, version + 1))
    assert (patients, commands, audited) == (1, version, version)
    verification = verify_audit(database)
    assert verification.ok, verification.reason
    assert verification.rows == version
    # The record still rebuilds, and the store takes new commands.
    record, read_version = read_record(database, PATIENT, actor="test", now=NOW, kb=kb)
    assert (record.patient_id, read_version) == (PATIENT, version)
