"""Signed checkpoints anchor the audit trail (issue 14, point 5), on both databases.

Without one, a row changed with every later hash recomputed, or the newest rows
deleted, still verifies; with one, both are found. A restore verifies the
backup's trail before it touches the target.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.engine import URL

from isotrack.errors import InvalidInputError, StorageError
from isotrack.knowledge import KnowledgeBase
from isotrack.store import (
    backup,
    create_engine_for,
    execute,
    read_record,
    restore,
    row_counts,
    upgrade,
    verify_audit,
)
from isotrack.store.checkpoint import (
    Checkpoint,
    read_checkpoint,
    read_checkpoint_document,
    sign_checkpoint,
    write_checkpoint,
)
from isotrack.store.hashing import GENESIS, audit_fields, chain
from isotrack.store.models import AuditRow
from tests.store.helpers import NOW, enrol, measurement, start_course

KEY = Ed25519PrivateKey.generate()


def _clinic(engine: Engine, kb: KnowledgeBase, patient_id: str = "P-001") -> None:
    execute(engine, patient_id, enrol(patient_id), actor="ann", now=NOW, kb=kb)
    execute(engine, patient_id, start_course(), actor="ann", now=NOW, kb=kb)
    for n in range(3):
        execute(engine, patient_id, measurement(n), actor="bob", now=NOW, kb=kb)
        read_record(engine, patient_id, actor="bob", now=NOW, kb=kb)


def _checkpoint(engine: Engine) -> Checkpoint:
    found = verify_audit(engine)
    assert found.ok, found.reason
    document = sign_checkpoint(rows=found.rows, head_hash=found.head_hash, at="now", key=KEY)
    return read_checkpoint_document(document, KEY.public_key())


def _rewrite_actor_and_recompute(engine: Engine, row_id: int, actor: str) -> None:
    """What someone with write access to the database can do: change a row and
    recompute every hash from it on, so that the chain is intact again."""
    with engine.begin() as connection:
        connection.execute(update(AuditRow).where(AuditRow.id == row_id).values(actor=actor))
        previous = GENESIS
        for row in connection.execute(select(AuditRow).order_by(AuditRow.id)).all():
            fields = audit_fields(
                id_=row.id, at=row.at, actor=row.actor, action=row.action,
                patient_id=row.patient_id, detail=row.detail,
                before_hash=row.before_hash, after_hash=row.after_hash,
            )  # fmt: skip
            new_hash = chain(previous, fields)
            connection.execute(
                update(AuditRow)
                .where(AuditRow.id == row.id)
                .values(prev_hash=previous, row_hash=new_hash)
            )
            previous = new_hash


def _delete_newest_reads(engine: Engine, count: int) -> None:
    with engine.begin() as connection:
        newest = connection.scalars(
            select(AuditRow.id).order_by(AuditRow.id.desc()).limit(count)
        ).all()
        connection.execute(delete(AuditRow).where(AuditRow.id.in_(newest)))


def test_a_recomputed_chain_passes_plain_verify_but_not_the_checkpoint(
    database: Engine, kb: KnowledgeBase
) -> None:
    _clinic(database, kb)
    anchor = _checkpoint(database)
    _rewrite_actor_and_recompute(database, 3, "mallory")
    assert verify_audit(database).ok  # the fault: an unkeyed chain cannot tell
    found = verify_audit(database, checkpoint=anchor)
    assert not found.ok
    assert found.first_broken == anchor.rows
    assert "recomputed" in found.reason


def test_deleted_newest_rows_pass_plain_verify_but_not_the_checkpoint(
    database: Engine, kb: KnowledgeBase
) -> None:
    _clinic(database, kb)
    anchor = _checkpoint(database)
    _delete_newest_reads(database, 1)
    assert verify_audit(database).ok  # the fault: no gap is left
    found = verify_audit(database, checkpoint=anchor)
    assert not found.ok
    assert f"row {anchor.rows} deleted" in found.reason


def test_rows_added_after_the_checkpoint_still_verify(database: Engine, kb: KnowledgeBase) -> None:
    _clinic(database, kb)
    anchor = _checkpoint(database)
    read_record(database, "P-001", actor="bob", now=NOW, kb=kb)
    found = verify_audit(database, checkpoint=anchor)
    assert found.ok, found.reason
    assert found.rows == anchor.rows + 1


def test_a_changed_checkpoint_or_one_of_another_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    write_checkpoint(sign_checkpoint(rows=4, head_hash="ab" * 32, at="now", key=KEY), path)
    assert read_checkpoint(path, KEY.public_key()).rows == 4
    with pytest.raises(InvalidInputError, match="signature does not match"):
        read_checkpoint(path, Ed25519PrivateKey.generate().public_key())
    document = json.loads(path.read_text())
    path.write_text(json.dumps(document | {"rows": 9}))
    with pytest.raises(InvalidInputError, match="signature does not match"):
        read_checkpoint(path, KEY.public_key())


def test_restore_refuses_a_tampered_backup_and_changes_nothing(
    database: Engine, kb: KnowledgeBase, tmp_path: Path
) -> None:
    _clinic(database, kb)
    path = tmp_path / "backup.json"
    backup(database, path, format="json")
    document = json.loads(path.read_text())
    audit = document["tables"]["audit"]
    actor = audit["columns"].index("actor")
    audit["rows"][2][actor] = "mallory"
    path.write_text(json.dumps(document))
    execute(database, "P-002", enrol("P-002"), actor="ann", now=NOW, kb=kb)
    before = row_counts(database)
    with pytest.raises(StorageError, match=r"fails the audit check at row 3.*nothing was restored"):
        restore(path, database, replace=True)
    assert row_counts(database) == before


def test_restore_with_a_checkpoint_refuses_a_backup_with_a_recomputed_chain(
    database: Engine, kb: KnowledgeBase, tmp_path: Path, blank_database_url: URL
) -> None:
    _clinic(database, kb)
    anchor = _checkpoint(database)
    _rewrite_actor_and_recompute(database, 2, "mallory")
    path = tmp_path / "backup.file"
    backup(database, path)
    restore(path, blank_database_url)  # without the anchor the rewrite goes unseen
    with pytest.raises(StorageError, match="recomputed"):
        restore(path, blank_database_url, replace=True, checkpoint=anchor)


def test_restore_of_an_sqlite_backup_verifies_it_before_touching_the_target(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    source = create_engine_for(f"sqlite:///{tmp_path / 'source.db'}")
    try:
        upgrade(source)
        _clinic(source, kb)
        with source.begin() as connection:
            connection.execute(update(AuditRow).where(AuditRow.id == 4).values(actor="mallory"))
        backup(source, tmp_path / "backup.db")
    finally:
        source.dispose()
    with pytest.raises(StorageError, match="fails the audit check at row 4"):
        restore(tmp_path / "backup.db", f"sqlite:///{tmp_path / 'target.db'}")
    assert not (tmp_path / "target.db").exists()
