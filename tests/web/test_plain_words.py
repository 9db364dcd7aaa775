"""Plain words (issue 13): every page of every role on the demo clinic, rendered
over HTTP, shows no internal identifier: no command type name, knowledge key,
record version or "(s)" plural (:mod:`tests.web.page_words`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from isotrack.demo.clinic import demo_clinic
from isotrack.http.authz import Role
from isotrack.http.passwords import create_user
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.web.conftest import WEB_NOW, SignIn, TestClient, page_client, sign_in_as
from tests.web.demo_db import Account
from tests.web.page_words import internal_words, visible_text

PATIENT_IDS = tuple(p.patient_id for p in demo_clinic(WEB_NOW.date(), default_knowledge()))
KNOWLEDGE_PAGES = ("/knowledge", "/knowledge/rules", "/knowledge/claims", "/knowledge/sources")
PORTAL_PAGES = (
    "/me",
    "/me/contraception",
    "/me/symptoms",
    "/me/symptoms/advice",
    "/me/mood",
    "/me/mood/result",
    "/me/questions",
    "/me/questions/result",
    "/me/reminders",
)


def staff_pages(role: Role, kb: KnowledgeBase) -> Iterator[str]:
    """Every page a member of staff of ``role`` may open on the demo clinic."""
    yield from KNOWLEDGE_PAGES
    yield from (f"/knowledge/rules/{rule.id}" for rule in kb.rules)
    if role in (Role.PRESCRIBER, Role.NURSE):
        yield from ("/clinic", "/clinic/patients/new")
        for patient_id in PATIENT_IDS:
            yield f"/clinic/patients/{patient_id}"
            yield f"/clinic/patients/{patient_id}/prescribe"
            yield f"/clinic/patients/{patient_id}/reminders"
    if role is Role.PHARMACIST:
        yield "/pharmacy"
        yield from (f"/pharmacy/patients/{patient_id}" for patient_id in PATIENT_IDS)


def problems_on(client: TestClient, paths: Iterator[str], kb: KnowledgeBase) -> list[str]:
    problems = []
    opened = 0
    for path in paths:
        response = client.get(path)
        if response.status_code in (401, 403):
            continue  # not this role's page: the access tests cover that
        assert response.status_code == 200, f"{path}: {response.status_code}"
        opened += 1
        problems += [
            f"{path}: {found}" for found in internal_words(visible_text(response.text), kb)
        ]
    assert opened, "no page was opened"
    return problems


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.PATIENT])
def test_no_staff_page_shows_an_internal_identifier(
    sign_in: SignIn, kb: KnowledgeBase, role: Role
) -> None:
    problems = problems_on(sign_in(role), staff_pages(role, kb), kb)
    assert not problems, "internal words on the pages:\n" + "\n".join(problems)


def test_the_sign_in_page_shows_no_internal_identifier(
    anonymous: TestClient, kb: KnowledgeBase
) -> None:
    assert problems_on(anonymous, iter(("/login",)), kb) == []


def test_no_patient_page_of_any_demo_patient_shows_an_internal_identifier(
    web_app: FastAPI, web_engine: Engine, kb: KnowledgeBase
) -> None:
    problems: list[str] = []
    for patient_id in PATIENT_IDS:
        user = create_user(
            web_engine, f"{patient_id}-words", Role.PATIENT,
            now=WEB_NOW, actor="test", patient_id=patient_id,
        )  # fmt: skip
        with page_client(web_app) as client:
            sign_in_as(
                client, Account(user.username, Role.PATIENT, user.password, None, patient_id)
            )
            found = problems_on(client, iter(PORTAL_PAGES), kb)
            problems += [f"{patient_id} {line}" for line in found]
    assert not problems, "internal words on the pages:\n" + "\n".join(problems)


def test_the_check_finds_each_kind_of_internal_word(kb: KnowledgeBase) -> None:
    """The detector itself: each kind the issue names is caught, plain words are not."""
    page = (
        "<p>answered (RecordComprehensionAnswers)</p><p>500 mg/dL (tg.warning_mg_dl)</p>"
        "<dl><dt>Record version</dt><dd>26</dd></dl><p>40 mg 2 time(s) a day</p>"
        '<p title="missed-period">x</p><script>var RecordPHQ9 = 1</script>'
    )
    found = internal_words(visible_text(page), kb)
    assert [line.split(" '")[0] for line in found] == [
        "command type name",
        "knowledge key",
        "knowledge key",
        "record version",
        "plural left to the reader",
    ]
    plain = "<p>Triglycerides 620 mg/dL (LIPIDS-HIGH), 40 mg twice a day; male condom</p>"
    assert internal_words(visible_text(plain), kb) == []
