"""The staff's daily digest on the demo clinic: one email a day to each active
prescriber and nurse with an address, keyed (user, day) so the worker sends it
once; its counts are the worklist's; no patient and nothing clinical in the subject,
no patient's name or id anywhere in it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from isotrack.clinical.record import replay
from isotrack.clinical.state import AssignWorkItem
from isotrack.delivery import Recipient
from isotrack.delivery.digest import clinic_work, digest_messages
from isotrack.demo.story import DemoPatient
from isotrack.http.authz import Role
from isotrack.http.passwords import create_user
from isotrack.knowledge import KnowledgeBase
from isotrack.store import create_engine_for, execute, read_histories_for_summary
from isotrack.store.models import AuditRow
from isotrack.store.users import user_transaction
from isotrack.web.views.worklist import clinic_worklist
from tests.web.demo_db import load_demo_clinic

ZONE = timezone(timedelta(hours=-5), "EST")
NOW = datetime(2026, 3, 2, 5, 30, tzinfo=ZONE)
BASE = "https://isotrack.example.org"
CLINICAL_WORDS = ("pregnan", "symptom", "mood", "test", "lab", "isotretinoin", "contracept",
                  "dispens", "period", "phq", "suicid", "depress", "window")  # fmt: skip


@pytest.fixture(scope="module")
def demo_template(
    tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase
) -> tuple[Path, list[DemoPatient]]:
    path = tmp_path_factory.mktemp("digest") / "isotrack.db"
    engine = create_engine_for(f"sqlite:///{path}")
    clinic = load_demo_clinic(engine, NOW, kb)
    engine.dispose()
    return path, clinic


@pytest.fixture
def engine(demo_template: tuple[Path, list[DemoPatient]], tmp_path: Path) -> Iterator[Engine]:
    shutil.copyfile(demo_template[0], tmp_path / "isotrack.db")
    engine = create_engine_for(f"sqlite:///{tmp_path / 'isotrack.db'}")
    yield engine
    engine.dispose()


def _staff(engine: Engine) -> dict[str, str]:
    """Users of every kind; the ids of those who should get a digest."""
    users = {
        "dr.lee": create_user(engine, "dr.lee", Role.PRESCRIBER, now=NOW, actor="t",
                              email="lee@clinic.example"),
        "nurse.kim": create_user(engine, "nurse.kim", Role.NURSE, now=NOW, actor="t",
                                 email="kim@clinic.example"),
        "nurse.noemail": create_user(engine, "nurse.noemail", Role.NURSE, now=NOW, actor="t"),
        "pharm.ray": create_user(engine, "pharm.ray", Role.PHARMACIST, now=NOW, actor="t",
                                 email="ray@clinic.example"),
        "dr.gone": create_user(engine, "dr.gone", Role.PRESCRIBER, now=NOW, actor="t",
                               email="gone@clinic.example"),
    }  # fmt: skip
    with user_transaction(engine) as tx:
        tx.users.deactivate(users["dr.gone"].user_id)
    return {name: user.user_id for name, user in users.items()}


def _records(engine: Engine, kb: KnowledgeBase) -> list:  # type: ignore[type-arg]
    histories = read_histories_for_summary(engine, actor="test", now=NOW, purpose="test")
    return [replay(((s.command, s.recorded_on) for s in h), kb=kb) for h in histories.values()]


def test_each_active_clinician_with_an_address_gets_one_digest_keyed_by_user_and_day(
    engine: Engine, kb: KnowledgeBase, demo_template: tuple[Path, list[DemoPatient]]
) -> None:
    ids = _staff(engine)
    rows = clinic_worklist(_records(engine, kb), on=NOW.date(), kb=kb)
    assert rows, "the demo clinic has open worklist items"
    first = rows[0]
    execute(engine, first.patient_id, AssignWorkItem(on=NOW.date(), item=first.item.id,
            assignee="dr.lee"), actor="dr.lee", now=NOW, kb=kb)  # fmt: skip
    messages = digest_messages(engine, NOW, kb=kb, base_url=BASE, time_zone="America/New_York")
    by_name = {m.recipient.name: m for m in messages}
    assert sorted(by_name) == ["dr.lee", "nurse.kim"]
    lee = by_name["dr.lee"]
    assert lee.idempotency_key == f"digest:{ids['dr.lee']}:2026-03-02"
    assert lee.channel == "email"
    assert lee.recipient == Recipient("staff", "dr.lee", "lee@clinic.example", None,
                                      "America/New_York")  # fmt: skip
    # 05:30 in New York: it may go from 07:00 there
    assert lee.not_before == datetime(2026, 3, 2, 12, 0, tzinfo=ZONE.utc)
    total = len(rows)
    assert lee.subject == f"Your isotrack worklist for Monday 2 March: {total} items"
    assert "Assigned to you: 1 (" in lee.body
    assert f"Not assigned to anyone yet: {total - 1} (" in lee.body
    assert "Assigned to you: 0 (critical 0, warning 0, info 0)" in by_name["nurse.kim"].body
    assert f"{BASE}/clinic/worklist" in lee.body
    critical = sum(1 for r in rows[1:] if r.item.severity.label == "critical")
    assert f"Not assigned to anyone yet: {total - 1} (critical {critical}," in lee.body
    for patient in demo_template[1]:
        for message in messages:
            for part in (message.subject, message.body):
                assert patient.patient_id not in part
                assert patient.name not in part
                assert patient.name.split()[0] not in part
    for message in messages:
        assert not any(word in message.subject.lower() for word in CLINICAL_WORDS)


def test_asked_again_the_same_day_the_keys_are_the_same_and_the_next_day_new(
    engine: Engine, kb: KnowledgeBase
) -> None:
    _staff(engine)
    once = digest_messages(engine, NOW, kb=kb, base_url=BASE, time_zone="America/New_York")
    again = digest_messages(engine, NOW + timedelta(hours=5), kb=kb, base_url=BASE,
                            time_zone="America/New_York")  # fmt: skip
    tomorrow = digest_messages(engine, NOW + timedelta(days=1), kb=kb, base_url=BASE,
                               time_zone="America/New_York")  # fmt: skip
    keys = {m.idempotency_key for m in once}
    assert keys == {m.idempotency_key for m in again}
    assert keys.isdisjoint({m.idempotency_key for m in tomorrow})
    assert again[0].not_before == NOW + timedelta(hours=5)  # past 07:00: now
    with engine.connect() as connection:
        reads = connection.execute(
            select(AuditRow.actor, AuditRow.detail).where(AuditRow.action == "read:summary",
                                                          AuditRow.actor == "digest")
        ).all()  # fmt: skip
    assert len(reads) == 3  # one audit row per digest run, not one per record


def test_no_clinician_no_digest(engine: Engine, kb: KnowledgeBase) -> None:
    assert digest_messages(engine, NOW, kb=kb, base_url=BASE) == []
    work = clinic_work(engine, NOW, day=NOW.date(), kb=kb)
    assert work.unreadable == 0
    assert work.items
