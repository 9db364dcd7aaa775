"""`isotrack ppp status / authorize / verify / keys` end to end, on a temporary SQLite database.

Dana (patient w1) can get pregnant and follows iPLEDGE (us-ipledge-2024): counselled
and on an implant plus condoms from day -40, a screening test on day -40 and the
confirmation test on day -3 (medical setting), this month's questions answered and
her first prescription written on day 0 (2026-03-02). Her window closes on day 3
(day 7 counting the specimen date as day 1)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import Result

import isotrack.cli.ppp_cmd  # noqa: F401  (registers `isotrack ppp` until app.py imports it)
from isotrack.clinical.state.commands import (
    AnyCommand,
    EnrolPatient,
    Prescribe,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordPregnancyTest,
    RecordWeight,
    StartContraception,
    StartCourse,
)
from isotrack.knowledge import KnowledgeBase, default_knowledge
from isotrack.store import create_engine_for, execute, read_history, upgrade
from tests.cli.storage_cli import invoke, one_error_line, sqlite_url

START = date(2026, 3, 2)
SERVER_KEY = "kq3V9pZ0uX2m7LwRr1tYb8NcF4sHj6Ae-session-test-key"


def day(n: int) -> date:
    return START + timedelta(days=n)


def at(on: date) -> datetime:
    return datetime.combine(on, time(9, 0), tzinfo=UTC)


def dana(kb: KnowledgeBase) -> list[AnyCommand]:
    bank = kb.questions("us-ipledge-2024")
    return [
        EnrolPatient(
            on=day(-40), patient_id="w1", name="Dana Petit", birth_date=date(2001, 9, 14),
            sex="female", pregnancy_capability="can-get-pregnant",
            capability_reason="reported by the patient", programme="us-ipledge-2024",
        ),
        RecordCounselling(on=day(-40), topic="enrolment"),
        StartContraception(on=day(-40), method="implant-etonogestrel"),
        StartContraception(on=day(-40), method="male-condom"),
        RecordPregnancyTest(on=day(-40), result="negative"),
        RecordPregnancyTest(on=day(-3), result="negative"),
        RecordComprehensionAnswers(on=day(0), answers=tuple((q.id, q.correct) for q in bank)),
        RecordWeight(on=day(0), value=60),
        StartCourse(on=day(0), course_id="c1", product="conventional"),
        Prescribe(
            on=day(0), prescription_id="p1", dose_mg=30, times_per_day=2, strength_mg=30,
            quantity=60, supply_days=30,
        ),
    ]  # fmt: skip


def sam() -> list[AnyCommand]:
    """A man: he cannot get pregnant, so counselling at enrolment is all the programme asks."""
    return [
        EnrolPatient(
            on=day(-7), patient_id="m1", name="Sam Moreau", birth_date=date(1998, 5, 4),
            sex="male",
        ),
        RecordCounselling(on=day(-7), topic="enrolment"),
        RecordWeight(on=day(0), value=70),
        StartCourse(on=day(0), course_id="c1", product="conventional"),
        Prescribe(
            on=day(0), prescription_id="p1", dose_mg=35, times_per_day=2, strength_mg=35,
            quantity=60, supply_days=30,
        ),
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def server_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOTRACK_ENV", "test")
    monkeypatch.setenv("ISOTRACK_SECRET_KEY", SERVER_KEY)


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, Engine]:
    url = sqlite_url(tmp_path / "ppp.db")
    engine = create_engine_for(url)
    upgrade(engine)
    return url, engine


@pytest.fixture
def dana_db(database: tuple[str, Engine]) -> str:
    url, engine = database
    kb = default_knowledge()
    for command in dana(kb):
        execute(engine, "w1", command, actor="test", now=at(command.on), kb=kb)
    engine.dispose()
    return url


@pytest.fixture
def sam_db_other(tmp_path: Path) -> str:
    """Another clinic's database (its own keys), holding Sam."""
    url = sqlite_url(tmp_path / "other.db")
    engine = create_engine_for(url)
    upgrade(engine)
    kb = default_knowledge()
    for command in sam():
        execute(engine, "m1", command, actor="test", now=at(command.on), kb=kb)
    engine.dispose()
    result = invoke("ppp", "authorize", "m1", "--date", day(0).isoformat(), "--database", url)
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture
def sam_db(database: tuple[str, Engine]) -> str:
    url, engine = database
    kb = default_knowledge()
    for command in sam():
        execute(engine, "m1", command, actor="test", now=at(command.on), kb=kb)
    engine.dispose()
    return url


def status_json(url: str, on: date) -> dict[str, object]:
    result = invoke("ppp", "status", "w1", "--date", on.isoformat(), "--json", "--database", url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def authorize_json(url: str, on: date) -> dict[str, object]:
    result = invoke("ppp", "authorize", "w1", "--date", on.isoformat(), "--json", "--database", url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def stored_types(url: str) -> list[str]:
    engine = create_engine_for(url)
    try:
        history = read_history(engine, "w1", actor="test", now=at(day(0)))
    finally:
        engine.dispose()
    return [type(stored.command).__name__ for stored in history]


# --- isotrack ppp status ---------------------------------------------------------------------
def test_status_shows_the_rule_set_category_state_and_requirements(dana_db: str) -> None:
    result = invoke("ppp", "status", "w1", "--date", day(0).isoformat(), "--database", dana_db)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Rule set: iPLEDGE REMS (us-ipledge-2024, version 2024 modification" in text
    assert "can get pregnant" in text
    assert "This month: prescribed, course month 1 (course c1)" in text
    assert "Requirements of the next step" in text
    assert "Months of the course" in text
    assert "No valid pharmacy authorisation." in text
    assert "decision support" in text


def test_status_json_has_each_requirement_with_its_rules_and_the_months(dana_db: str) -> None:
    document = status_json(dana_db, day(0))
    assert document["programme"] == {
        "id": "us-ipledge-2024",
        "name": "iPLEDGE REMS",
        "version": "2024 modification, approved 2024-02-09",
    }
    assert (document["category"], document["state"], document["month"]) == (
        "can-get-pregnant",
        "prescribed",
        1,
    )
    requirements = document["requirements"]
    assert isinstance(requirements, list)
    assert all(r["met"] for r in requirements), requirements
    keys = {r["key"] for r in requirements}
    assert {"start-tests", "contraception", "comprehension", "dispense-window"} <= keys
    assert all(rule.startswith("us-ipledge-2024.") for r in requirements for rule in r["rules"])
    [month] = document["history"]  # type: ignore[misc]
    assert month["programme"] == "us-ipledge-2024"
    assert month["version"] == "2024 modification, approved 2024-02-09"
    assert document["authorization"] is None


def test_status_before_the_confirmation_test_says_what_would_satisfy_each_unmet_requirement(
    dana_db: str,
) -> None:
    document = status_json(dana_db, day(-10))
    assert document["state"] == "enrolled"
    unmet = [r for r in document["requirements"] if not r["met"]]  # type: ignore[union-attr]
    assert unmet
    assert all(r["needs"] for r in unmet)
    result = invoke("ppp", "status", "w1", "--date", day(-10).isoformat(), "--database", dana_db)
    assert "UNMET" in result.stdout
    assert "needs " in result.stdout


def test_status_of_an_unknown_patient_is_one_line_and_exit_1(dana_db: str) -> None:
    result = invoke("ppp", "status", "nobody", "--database", dana_db)
    assert result.exit_code == 1
    assert "nobody" in one_error_line(result)


# --- isotrack ppp authorize ------------------------------------------------------------------
def test_authorize_records_the_authorisation_and_prints_a_signed_token(dana_db: str) -> None:
    issued = authorize_json(dana_db, day(0))
    assert str(issued["id"]).startswith("PA-")
    assert issued["prescription_id"] == "p1"
    assert issued["not_after"] == day(3).isoformat()  # day 7 from the specimen on day -3
    assert issued["max_quantity"] == 60
    assert issued["capsules"] == [{"strength_mg": 30.0, "capsules": 60}]
    assert (issued["patient_name"], issued["birth_date"]) == ("Dana Petit", "2001-09-14")
    assert issued["prescriber"] == "test"  # who recorded the prescription
    assert issued["max_days"] == 30
    assert issued["programme"] == "us-ipledge-2024"
    header = json.loads(unb64(str(issued["token"]).split(".")[0]))
    assert header["alg"] == "EdDSA"
    assert stored_types(dana_db)[-1] == "RecordAuthorization"
    document = status_json(dana_db, day(1))
    assert document["state"] == "dispense-authorised"
    authorization = document["authorization"]
    assert isinstance(authorization, dict)
    assert authorization["id"] == issued["id"]


def test_authorize_prints_the_id_the_last_day_the_quantity_and_the_token(
    dana_db: str, tmp_path: Path
) -> None:
    result = invoke("ppp", "authorize", "w1", "--date", day(0).isoformat(), "--database", dana_db)
    assert result.exit_code == 0, result.output
    assert "Authorisation id: PA-" in result.stdout
    assert f"Do not dispense after: {day(3)}" in result.stdout
    assert "Maximum quantity: 60 capsules, 60 × 30 mg (30 days' supply)" in result.stdout
    token = result.stdout.split("--jwks FILE`):", 1)[1].split()[0]
    jwks = export(dana_db, tmp_path)
    verified = invoke("ppp", "verify", token, "--jwks", str(jwks), "--date", day(0).isoformat())
    assert verified.exit_code == 0, verified.output


def test_a_pharmacy_can_dispense_under_the_authorisation_it_was_given(dana_db: str) -> None:
    issued = authorize_json(dana_db, day(0))
    dispense = json.dumps(
        {"type": "Dispense", "on": day(1).isoformat(), "prescription_id": "p1", "quantity": 60,
         "authorization_id": issued["id"], "dispensed_by": "pharm.lee at Main St"}
    )  # fmt: skip
    recorded = invoke("record", "w1", "-", "--database", dana_db, stdin=dispense)
    assert recorded.exit_code == 0, recorded.output
    document = status_json(dana_db, day(1))
    assert document["state"] == "dispensed"
    assert document["history"][0]["state"] == "dispensed"  # type: ignore[index]
    again = invoke("record", "w1", "-", "--database", dana_db, stdin=dispense)
    assert again.exit_code == 1
    assert (
        f"authorisation {issued['id']} was already dispensed on {day(1)} (60 capsules, by "
        "pharm.lee at Main St)" in one_error_line(again)
    )


def test_authorize_after_the_window_is_refused_with_the_reason_and_records_nothing(
    dana_db: str,
) -> None:
    before = stored_types(dana_db)
    result = invoke("ppp", "authorize", "w1", "--date", day(4).isoformat(), "--database", dana_db)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "refused" in line
    assert "window" in line
    assert "a new negative pregnancy test" in line  # what would satisfy it
    assert day(3).isoformat() in line  # and the date it closed
    assert stored_types(dana_db) == before
    assert status_json(dana_db, day(4))["state"] == "window-missed"


def test_authorize_before_any_prescription_names_what_is_missing(dana_db: str) -> None:
    result = invoke("ppp", "authorize", "w1", "--date", day(-10).isoformat(), "--database", dana_db)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "refused" in line
    assert "needs" in line


def test_authorize_needs_no_server_secret(dana_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOTRACK_ENV", "production")
    monkeypatch.delenv("ISOTRACK_SECRET_KEY", raising=False)
    result = invoke("ppp", "authorize", "w1", "--date", day(0).isoformat(), "--database", dana_db)
    assert result.exit_code == 0, result.output


def test_a_patient_who_cannot_get_pregnant_has_no_monthly_test_or_questions(
    sam_db: str,
) -> None:
    result = invoke(
        "ppp", "status", "m1", "--date", day(0).isoformat(), "--json", "--database", sam_db
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["category"], document["state"]) == ("cannot-get-pregnant", "prescribed")
    keys = {r["key"] for r in document["requirements"]}
    assert not keys & {"pregnancy-test", "start-tests", "comprehension", "contraception"}
    issued = invoke(
        "ppp", "authorize", "m1", "--date", day(0).isoformat(), "--json", "--database", sam_db
    )
    assert issued.exit_code == 0, issued.output
    authorization = json.loads(issued.stdout)
    assert authorization["not_after"] == day(29).isoformat()  # 30 days, the visit is day 1
    assert authorization["max_quantity"] == 60


# --- isotrack ppp verify and keys -------------------------------------------------------------
def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def export(url: str, tmp_path: Path) -> Path:
    out = tmp_path / "clinic-keys.json"
    result = invoke("ppp", "keys", "export", "--out", str(out), "--database", url)
    assert result.exit_code == 0, result.output
    return out


def verify(token: str, jwks: Path, on: date, *extra: str) -> Result:
    """``isotrack ppp verify`` with no database, no secret and no network."""
    return invoke("ppp", "verify", token, "--jwks", str(jwks), "--date", on.isoformat(), *extra)


def test_verify_checks_a_token_offline_with_the_public_keys_only(
    dana_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = str(authorize_json(dana_db, day(0))["token"])
    jwks = export(dana_db, tmp_path)
    assert '"d"' not in jwks.read_text()  # no private key
    monkeypatch.delenv("ISOTRACK_SECRET_KEY")
    monkeypatch.setenv("ISOTRACK_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = verify(token, jwks, day(3), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["signature"] == "valid"
    assert document["in_force"] is True
    assert document["authorization"]["max_quantity"] == 60
    assert document["authorization"]["patient_name"] == "Dana Petit"
    assert document["authorization"]["not_after"] == day(3).isoformat()
    text = " ".join(verify(token, jwks, day(3)).stdout.split())
    assert "Signature: valid" in text
    assert "Dana Petit (born 2001-09-14" in text
    assert (
        f"In force on {day(3)}: check the name and date of birth, then dispense at most 60 × 30 mg"
        in text
    )


def test_verify_refuses_a_token_after_its_last_day(dana_db: str, tmp_path: Path) -> None:
    token = str(authorize_json(dana_db, day(0))["token"])
    result = verify(token, export(dana_db, tmp_path), day(4))
    assert result.exit_code == 1
    assert f"do not dispense after {day(3)}" in one_error_line(result)


def test_verify_refuses_a_token_signed_with_another_clinics_key(
    dana_db: str, sam_db_other: str, tmp_path: Path
) -> None:
    token = str(authorize_json(dana_db, day(0))["token"])
    result = verify(token, export(sam_db_other, tmp_path), day(0))
    assert result.exit_code == 1
    assert "unknown key" in one_error_line(result)


def test_verify_refuses_a_token_whose_quantity_was_changed(dana_db: str, tmp_path: Path) -> None:
    token = str(authorize_json(dana_db, day(0))["token"])
    header, payload, signature = token.split(".")
    fields = json.loads(unb64(payload))
    fields["caps"] = [[30, 600]]
    forged = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    result = verify(f"{header}.{forged}.{signature}", export(dana_db, tmp_path), day(0))
    assert result.exit_code == 1
    assert "signature does not match" in one_error_line(result)


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c"])
def test_verify_refuses_a_malformed_token(token: str, dana_db: str, tmp_path: Path) -> None:
    authorize_json(dana_db, day(0))
    result = verify(token, export(dana_db, tmp_path), day(0))
    assert result.exit_code == 1
    assert "token" in one_error_line(result)


def test_verify_without_a_readable_jwks_says_so(tmp_path: Path) -> None:
    result = verify("a.b.c", tmp_path / "missing.json", day(0))
    assert result.exit_code == 1
    assert "--jwks" in one_error_line(result)


def test_keys_rotate_list_and_export(dana_db: str, tmp_path: Path) -> None:
    empty = invoke("ppp", "keys", "list", "--database", dana_db)
    assert "No signing key yet" in empty.stdout
    token = str(authorize_json(dana_db, day(0))["token"])
    rotated = invoke("ppp", "keys", "rotate", "--overlap-days", "30", "--database", dana_db)
    assert rotated.exit_code == 0, rotated.output
    assert "New signing key" in rotated.stdout
    listed = invoke("ppp", "keys", "list", "--database", dana_db).stdout
    assert "active" in listed
    assert "overlap" in listed
    jwks = export(dana_db, tmp_path)
    assert len(json.loads(jwks.read_text())["keys"]) == 2
    assert verify(token, jwks, day(0)).exit_code == 0  # signed before the rotation
    printed = invoke("ppp", "keys", "export", "--database", dana_db)
    assert json.loads(printed.stdout) == json.loads(jwks.read_text())
    assert (
        invoke("ppp", "keys", "rotate", "--overlap-days", "-1", "--database", dana_db).exit_code
        == 2
    )


def test_ppp_without_a_subcommand_shows_its_help() -> None:
    result = invoke("ppp")
    assert "status" in result.stdout
    assert "authorize" in result.stdout
    assert "verify" in result.stdout
