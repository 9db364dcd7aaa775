"""The subscribed calendar: a per-patient link a calendar app polls.

=================================================  ====================================
page                                               what
=================================================  ====================================
``GET  /calendar/{token}.ics``                     the feed, made from the record on
                                                   every fetch (no sign-in: the token
                                                   is the key); 404 for an unknown,
                                                   replaced or withdrawn token
``POST /me/calendar-feed``                         the patient makes (or replaces) the
                                                   link; it is shown this once
``POST /me/calendar-feed/revoke``                  the patient withdraws it
``GET  /clinic/patients/{id}/calendar-feed``       staff: whether the patient has one
``POST /clinic/patients/{id}/calendar-feed``       staff make or replace it (shown once)
``POST /clinic/patients/{id}/calendar-feed/revoke`` staff withdraw it
=================================================  ====================================

Only the token's digest is stored (:mod:`isotrack.store.calendar_feeds`), so the
link is shown when it is made and never again; every change is audited, and
every fetch is an audited read of the record (actor ``calendar-feed``). Titles are
neutral unless the patient ticks the box for the test names
(:func:`isotrack.ical.schedule_to_feed`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from isotrack.clinical.record import record_schedule
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep, SettingsDep
from isotrack.http.mail import link_base
from isotrack.ical import ICS_MEDIA_TYPE, schedule_to_feed
from isotrack.store.calendar_feeds import feed_for_token, feed_of, issue_feed, revoke_feed
from isotrack.store.service import read_record
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.routes._records import PatientDep
from isotrack.web.routes.clinic_access import PatientId, load_record
from isotrack.web.templating import flash, render

router = APIRouter(include_in_schema=False)

FEED_ACTOR = "calendar-feed"
"""Who the audit trail names for a fetch of the feed (the token, not a user)."""
CACHE_CONTROL = "private, no-cache, max-age=0"
"""Calendar apps and proxies must ask again each time (the record may have changed);
the ETag lets an unchanged feed answer 304."""
Recorder = Annotated[WebUser, Depends(require_page(Action.CLINICAL_RECORD))]
Token = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
ClinicalTitles = Annotated[str, Form(max_length=10)]
STAFF_PAGE = "clinic/calendar_feed.html"
PATIENT_PAGE = "me/calendar_feed.html"


def _not_found() -> Response:
    return Response("Not found", status_code=404, media_type="text/plain")


@router.get("/calendar/{token}.ics", response_model=None)
def calendar_feed(
    request: Request, token: Token, engine: EngineDep, kb: KbDep, now: NowDep
) -> Response:
    feed = feed_for_token(engine, token)
    if feed is None:
        return _not_found()
    record, _ = read_record(engine, feed.patient_id, actor=FEED_ACTOR, now=now, kb=kb)
    schedule = record_schedule(record, on=now.date(), kb=kb)
    # The stamp is the start of the day, so the body (and its ETag) changes only
    # when the record or the day does.
    stamp = datetime.combine(now.date(), time(0), tzinfo=UTC)
    body = schedule_to_feed(schedule, generated=stamp, clinical_titles=feed.clinical_titles)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": etag,
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
        "Content-Disposition": 'inline; filename="calendar.ics"',
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=ICS_MEDIA_TYPE, headers=headers)


def feed_links(request: Request, settings: SettingsDep, token: str) -> tuple[str, str]:
    """(webcal link, https link) of a token."""
    base = link_base(settings, str(request.base_url), anonymous=False) or ""
    https = f"{base}/calendar/{token}.ics"
    return "webcal" + https[https.index(":") :], https


# --- the patient's own link --------------------------------------------------------------------
@router.post("/me/calendar-feed", response_model=None)
def patient_issue(
    request: Request,
    user: PatientDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    now: NowDep,
    settings: SettingsDep,
    clinical_titles: ClinicalTitles = "",
) -> Response:
    assert user.patient_id is not None
    token = issue_feed(
        engine, user.patient_id, actor=user.username, now=now, clinical_titles=bool(clinical_titles)
    )
    webcal, https = feed_links(request, settings, token)
    context = {"webcal": webcal, "https": https, "page_url": "/me"}
    return render(request, PATIENT_PAGE, context, status=201)


@router.post("/me/calendar-feed/revoke", response_model=None)
def patient_revoke(request: Request, user: PatientDep, _csrf: CsrfDep, engine: EngineDep,
                   now: NowDep) -> Response:  # fmt: skip
    assert user.patient_id is not None
    revoked = revoke_feed(engine, user.patient_id, actor=user.username, now=now)
    response = RedirectResponse("/me", status_code=303)
    flash(
        request,
        response,
        "Your calendar link is stopped." if revoked else "You had no calendar link.",
    )
    return response


# --- staff -------------------------------------------------------------------------------------
@router.get("/clinic/patients/{patient_id}/calendar-feed", response_model=None)
def staff_page(request: Request, patient_id: PatientId, user: Recorder, engine: EngineDep,
               kb: KbDep, now: NowDep) -> Response:  # fmt: skip
    record = load_record(engine, patient_id, user, now=now, kb=kb).record
    context = {"record": record, "feed": feed_of(engine, patient_id), "webcal": None}
    return render(request, STAFF_PAGE, context)


@router.post("/clinic/patients/{patient_id}/calendar-feed", response_model=None)
def staff_issue(
    request: Request,
    patient_id: PatientId,
    _csrf: CsrfDep,
    user: Recorder,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    record = load_record(engine, patient_id, user, now=now, kb=kb).record
    old = feed_of(engine, patient_id)
    # Staff keep the titles the patient chose; a new link starts neutral.
    token = issue_feed(
        engine, patient_id, actor=user.username, now=now,
        clinical_titles=old is not None and old.clinical_titles,
    )  # fmt: skip
    webcal, https = feed_links(request, settings, token)
    context = {"record": record, "feed": feed_of(engine, patient_id), "webcal": webcal,
               "https": https}  # fmt: skip
    return render(request, STAFF_PAGE, context, status=201)


@router.post("/clinic/patients/{patient_id}/calendar-feed/revoke", response_model=None)
def staff_revoke(request: Request, patient_id: PatientId, _csrf: CsrfDep, user: Recorder,
                 engine: EngineDep, kb: KbDep, now: NowDep) -> Response:  # fmt: skip
    load_record(engine, patient_id, user, now=now, kb=kb)
    revoked = revoke_feed(engine, patient_id, actor=user.username, now=now)
    response = RedirectResponse(f"/clinic/patients/{patient_id}/calendar-feed", status_code=303)
    flash(
        request,
        response,
        "The calendar link is stopped." if revoked else "There was no calendar link.",
    )
    return response
