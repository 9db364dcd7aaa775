"""The subscribed calendar over HTTP: the patient and staff make, replace and stop
the link (audited, token stored hashed), the feed is made from the record on every
fetch (a result recorded removes the done item), and a replaced, withdrawn or
unknown token gets a bare 404 (the demo patient is Ana Moreau)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from icalendar import Calendar
from sqlalchemy import Engine, select

from isotrack.clinical.monitoring import ItemStatus
from isotrack.clinical.record import record_schedule
from isotrack.clinical.state.commands import RecordPregnancyTest
from isotrack.http.authz import Role
from isotrack.http.deps import current_time
from isotrack.ical import NEUTRAL_TITLES, feed_uid
from isotrack.knowledge import KnowledgeBase
from isotrack.store import read_record
from isotrack.store.calendar_feeds import feed_digest
from isotrack.store.models import AuditRow, CalendarFeedRow
from isotrack.store.service import execute
from tests.web.conftest import WEB_NOW, SignIn, TestClient, csrf_token

ANA = "demo-ana"
_LINK = re.compile(r'id="calendar-link">https?://[^/]+(/calendar/([A-Za-z0-9_-]+)\.ics)<')


@pytest.fixture
def patient(sign_in: SignIn) -> TestClient:
    return sign_in(Role.PATIENT)


def make_link(client: TestClient, path: str = "/me/calendar-feed", **form: str) -> str:
    page_path = "/me" if path.startswith("/me") else path
    answer = client.post(path, data={"csrf_token": csrf_token(client, page_path), **form})
    assert answer.status_code == 201, answer.text
    match = _LINK.search(answer.text)
    assert match, answer.text
    assert 'href="webcal://' in answer.text
    return match.group(1)


def feed_actions(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditRow.action, AuditRow.actor).where(AuditRow.action.like("calendar-feed:%"))
        )
        return [(r.action, r.actor) for r in rows]


def stored_feeds(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(CalendarFeedRow.patient_id, CalendarFeedRow.token_digest))
        return [(r.patient_id, r.token_digest) for r in rows]


def test_the_patient_makes_a_link_and_the_feed_is_a_valid_neutral_calendar(
    patient: TestClient, anonymous: TestClient, web_engine: Engine
) -> None:
    assert "Make my calendar link" in patient.get("/me").text
    path = make_link(patient)
    answer = anonymous.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert "no-cache" in answer.headers["cache-control"]
    assert answer.headers["etag"]
    calendar = Calendar.from_ical(answer.content)
    summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert summaries
    assert all(s.removeprefix("Overdue: ") in NEUTRAL_TITLES.values() for s in summaries)
    assert b"regnan" not in answer.content
    assert b"Ana" not in answer.content
    # Only the digest is stored; making the link is audited with who did it.
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    assert stored_feeds(web_engine) == [(ANA, feed_digest(token))]
    assert feed_actions(web_engine) == [("calendar-feed:create", "demo-patient")]
    assert "You have a calendar link" in patient.get("/me").text


def test_an_unchanged_feed_answers_304_to_its_etag(
    patient: TestClient, anonymous: TestClient
) -> None:
    path = make_link(patient)
    etag = anonymous.get(path).headers["etag"]
    assert anonymous.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_the_feed_updates_when_a_result_is_recorded(
    patient: TestClient, anonymous: TestClient, web_app: FastAPI, web_engine: Engine,
    kb: KnowledgeBase,
) -> None:  # fmt: skip
    path = make_link(patient)
    # Ten days on, Ana's month-4 pregnancy test window is open.
    later = WEB_NOW + timedelta(days=10)
    web_app.dependency_overrides[current_time] = lambda: later
    record = read_record(web_engine, ANA, actor="test", now=later, kb=kb)[0]
    schedule = record_schedule(record, on=later.date(), kb=kb)
    item = next(i for i in schedule.with_status(ItemStatus.DUE) if i.is_pregnancy_test)
    uid = feed_uid(ANA, item)
    before = anonymous.get(path)
    assert uid in {str(e["UID"]) for e in Calendar.from_ical(before.content).walk("VEVENT")}
    command = RecordPregnancyTest(on=later.date(), result="negative")
    execute(web_engine, ANA, command, actor="test", now=later, kb=kb)
    after = anonymous.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    uids = {str(e["UID"]) for e in Calendar.from_ical(after.content).walk("VEVENT")}
    assert uid not in uids
    assert len(uids) == len(schedule.items) - len(schedule.with_status(ItemStatus.DONE)) - 1


def test_a_revoked_a_replaced_and_an_unknown_token_get_the_same_bare_404(
    patient: TestClient, anonymous: TestClient, web_engine: Engine
) -> None:
    first = make_link(patient)
    second = make_link(patient)
    assert anonymous.get(second).status_code == 200
    answers = [anonymous.get(first), anonymous.get("/calendar/not-a-token.ics")]
    revoke = patient.post(
        "/me/calendar-feed/revoke", data={"csrf_token": csrf_token(patient, "/me")}
    )
    assert revoke.status_code == 303
    answers.append(anonymous.get(second))
    assert {(a.status_code, a.text) for a in answers} == {(404, "Not found")}
    assert feed_actions(web_engine) == [
        ("calendar-feed:create", "demo-patient"),
        ("calendar-feed:rotate", "demo-patient"),
        ("calendar-feed:revoke", "demo-patient"),
    ]
    assert "Make my calendar link" in patient.get("/me").text


def test_the_patient_may_choose_the_test_names(patient: TestClient, anonymous: TestClient) -> None:
    path = make_link(patient, clinical_titles="yes")
    calendar = Calendar.from_ical(anonymous.get(path).content)
    summaries = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    assert not summaries <= set(NEUTRAL_TITLES.values())


def test_staff_make_and_stop_the_link_on_the_patient_page(
    sign_in: SignIn, anonymous: TestClient, web_engine: Engine
) -> None:
    nurse = sign_in(Role.NURSE)
    page = f"/clinic/patients/{ANA}/calendar-feed"
    assert f'href="{page}"' in nurse.get(f"/clinic/patients/{ANA}").text
    assert "has no calendar link" in nurse.get(page).text
    path = make_link(nurse, page)
    assert anonymous.get(path).status_code == 200
    assert "has a calendar link" in nurse.get(page).text
    stop = nurse.post(f"{page}/revoke", data={"csrf_token": csrf_token(nurse, page)})
    assert stop.status_code == 303
    assert anonymous.get(path).status_code == 404
    assert [a for a, _ in feed_actions(web_engine)] == [
        "calendar-feed:create",
        "calendar-feed:revoke",
    ]


def test_the_pharmacy_and_anonymous_visitors_cannot_make_links(
    sign_in: SignIn, anonymous: TestClient, web_engine: Engine
) -> None:
    pharmacist = sign_in(Role.PHARMACIST)
    page = f"/clinic/patients/{ANA}/calendar-feed"
    assert pharmacist.get(page).status_code == 403
    assert anonymous.post("/me/calendar-feed").status_code in {303, 401, 403}
    assert feed_actions(web_engine) == []
