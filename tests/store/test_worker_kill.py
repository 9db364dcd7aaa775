"""kill -9 of a real `isotrack worker` in the middle of a batch, then a restart:
every message arrives exactly once (read from a real SMTP server's mailbox), on
SQLite and PostgreSQL (issue 16)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from isotrack.delivery import OutgoingMessage, Recipient
from isotrack.delivery.smtp import message_id
from isotrack.store import UnitOfWork
from isotrack.store.outbox import Queued, enqueue, outbox_entries
from tests.smtp_server import SmtpServer, running_smtp_server
from tests.store.helpers import url_of

REPO = Path(__file__).resolve().parents[2]
MESSAGES = 30
KILL_AT_MAIL = 12
"""The worker is killed while the server holds this message's MAIL command."""
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
LEASE_S = 120
SENDER = "reminders@northside.example"


def queue(engine: Engine) -> list[str]:
    recipient = Recipient("patient", "Kara", "kara@example.org", None, "UTC")
    keys = [f"kill-test/visit/m{n}/email" for n in range(MESSAGES)]
    items = [
        Queued(
            OutgoingMessage(key, "email", recipient, "A reminder", "Hello\n", NOW), "visit", None
        )
        for key in keys
    ]
    assert enqueue(engine, items, actor="test", now=NOW) == MESSAGES
    return keys


def worker(
    engine: Engine, smtp: SmtpServer, now: datetime, log: Path, batch: int = MESSAGES
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "ISOTRACK_ENV": "test",
        "ISOTRACK_SMTP_HOST": smtp.host,
        "ISOTRACK_SMTP_PORT": str(smtp.port),
        "ISOTRACK_SMTP_SECURITY": "none",
        "ISOTRACK_MAIL_FROM": SENDER,
    }
    command = [
        *(sys.executable, "-m", "isotrack", "worker", "--once", "--batch", str(batch)),
        *("--lease", str(LEASE_S), "--now", now.isoformat(), "--database", url_of(engine)),
    ]
    with log.open("a") as output:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output, text=True)


def test_kill_9_mid_batch_then_restart_delivers_every_message_once(
    database: Engine, tmp_path: Path
) -> None:
    keys = queue(database)
    log = tmp_path / "worker.log"
    with running_smtp_server(mail_delay=0.05) as smtp:
        first = worker(database, smtp, NOW, log)
        try:
            smtp.wait_for_mail_command(KILL_AT_MAIL, seconds=60)
            os.kill(first.pid, signal.SIGKILL)
        finally:
            first.kill()
            first.wait()
        assert first.returncode == -signal.SIGKILL, log.read_text()
        before = len(smtp.messages)
        assert before == KILL_AT_MAIL - 1, log.read_text()
        statuses = Counter(e.status for e in outbox_entries(database))
        assert statuses == {"sent": before, "sending": MESSAGES - before}

        # Within the lease nobody takes the claimed rows; after it, a restart does.
        within = worker(database, smtp, NOW + timedelta(seconds=LEASE_S - 1), log)
        assert within.wait(timeout=60) == 0, log.read_text()
        assert len(smtp.messages) == before
        restart = worker(database, smtp, NOW + timedelta(seconds=LEASE_S + 1), log)
        assert restart.wait(timeout=60) == 0, log.read_text()
        arrived = Counter(str(m["Message-ID"]) for m in smtp.messages)

    domain = SENDER.rpartition("@")[2]
    assert arrived == Counter({message_id(key, domain): 1 for key in keys})
    assert {e.status for e in outbox_entries(database)} == {"sent"}
    with UnitOfWork(database) as uow:
        sent = [e for e in uow.audit.entries() if e.action == "message:sent"]
    assert len(sent) == MESSAGES


def test_two_workers_at_once_send_every_message_once(database: Engine, tmp_path: Path) -> None:
    """PostgreSQL: SKIP LOCKED hands each row to one worker; SQLite: one claimer at a time."""
    keys = queue(database)
    log = tmp_path / "workers.log"
    with running_smtp_server(mail_delay=0.1) as smtp:
        workers = [worker(database, smtp, NOW, log, batch=4) for _ in range(2)]
        assert [w.wait(timeout=120) for w in workers] == [0, 0], log.read_text()
        arrived = Counter(str(m["Message-ID"]) for m in smtp.messages)
    domain = SENDER.rpartition("@")[2]
    assert arrived == Counter({message_id(key, domain): 1 for key in keys})
    sent_lines = [line for line in log.read_text().splitlines() if line.startswith("queued")]
    assert len(sent_lines) == 2
    # both took part: neither line says it sent all of them
    assert all(f"sent {MESSAGES}," not in line for line in sent_lines), sent_lines


def test_a_kill_after_the_server_took_a_message_but_before_its_mark_sends_it_twice(
    database: Engine, tmp_path: Path
) -> None:
    """The documented limit (docs/reminders.md): the server has the message, the worker
    dies before marking it sent, the restart sends it again, with the same Message-ID."""
    keys = queue(database)
    log = tmp_path / "worker.log"
    with running_smtp_server(reply_delay=30) as smtp:
        first = worker(database, smtp, NOW, log)
        try:
            smtp.wait_for("kara@example.org")  # the server has it; its 250 is 30 s away
            os.kill(first.pid, signal.SIGKILL)
        finally:
            first.kill()
            first.wait()
        smtp.answer_at_once()
        restart = worker(database, smtp, NOW + timedelta(seconds=LEASE_S + 1), log)
        assert restart.wait(timeout=60) == 0, log.read_text()
        arrived = Counter(str(m["Message-ID"]) for m in smtp.messages)
    domain = SENDER.rpartition("@")[2]
    twice = message_id(keys[0], domain)
    assert arrived == Counter({message_id(key, domain): 1 for key in keys}) + Counter([twice])
    assert {e.status for e in outbox_entries(database)} == {"sent"}
