"""A made-up patient of their own for a browser test that changes a patient's
record (a "stop" report), so that the demo patients the other tests read stay as
they are: a 19-year-old man mid-course on 40 mg twice a day, with a patient
account (username and password returned)."""

from __future__ import annotations

from datetime import UTC, datetime

from isotrack.demo.story import Story
from isotrack.http.authz import Role
from isotrack.http.passwords import create_user
from isotrack.knowledge import default_knowledge
from isotrack.store import create_engine_for, execute

DOSE = "40 mg twice a day (80 mg a day)"


def fresh_patient(database_url: str, patient_id: str, name: str) -> tuple[str, str]:
    """Store the patient and their account; (username, password)."""
    kb = default_knowledge()
    now = datetime.now(UTC).astimezone()
    story = Story(now.date(), patient_id, kb)
    story.enrol(-60, name, 19, "male")
    story.weigh(-60, 82)
    story.labs(-50, 160, 28)
    story.course(-40, "conventional", dose_mg=40, strength_mg=40, months=2)
    story.labs(-12, 150, 30)
    engine = create_engine_for(database_url)
    try:
        for command, recorded in story.patient(name, "browser test").commands:
            at = datetime.combine(recorded, now.timetz())
            execute(engine, patient_id, command, actor="e2e", now=at, kb=kb)
        password = f"{patient_id}-test-passphrase-42"
        user = create_user(engine, patient_id, Role.PATIENT, now=now, actor="e2e",
                           patient_id=patient_id, password=password)  # fmt: skip
    finally:
        engine.dispose()
    return user.username, password
