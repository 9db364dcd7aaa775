"""``isotrack ppp``: the pregnancy prevention programme of one patient — this
month's status with every requirement, and a pharmacy authorisation signed with
the clinic's private key. The offline check and the keys: :mod:`.ppp_keys_cmd`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from isotrack import SAFETY_LINE
from isotrack.cli.app import (
    PolicyOption,
    app,
    knowledge,
    out,
    parse_day,
    print_json,
    translate_errors,
)
from isotrack.cli.db_cmd import CLI_ACTOR, DatabaseOption, now, open_database
from isotrack.clinical.programme import (
    Authorization,
    ProgrammeStatus,
    Requirement,
    as_command,
    authorize_dispense,
    programme_status,
)
from isotrack.http.ids import new_authorization_id
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.describe import programme_line
from isotrack.store import execute, read_record
from isotrack.store.ppp_records import prescriber_of_current, signed_token

PatientArgument = Annotated[str, typer.Argument(metavar="PATIENT", help="The patient's id.")]
DateOption = Annotated[
    str | None,
    typer.Option("--date", metavar="YYYY-MM-DD", help="The day to look at (default: today)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


ppp_app = typer.Typer(
    name="ppp",
    help="The pregnancy prevention programme: a patient's month, pharmacy authorisations "
    "and their offline check.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(ppp_app, name="ppp")


# --- isotrack ppp status ----------------------------------------------------------------------
@ppp_app.command("status")
@translate_errors
def status_command(
    patient_id: PatientArgument,
    on: DateOption = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Show where a patient stands in the programme this month, and why.

    The rule set and version, the patient's category, this month's state,
    each requirement met or unmet with what would satisfy it, the months so
    far with the rule-set version applied, and the valid authorisation if
    any. The read is written to the audit trail.

    Example: [bold]isotrack ppp status demo-ana --database sqlite:///clinic.db[/bold]
    Example: [bold]isotrack ppp status demo-ana --date 2026-03-02 --json[/bold]
    """
    kb = knowledge(policy)
    moment = now()
    day = parse_day("--date", on)
    with open_database(database) as engine:
        record, _ = read_record(engine, patient_id, actor=CLI_ACTOR, now=moment, kb=kb)
    status = programme_status(record, on=day, kb=kb)
    if as_json:
        print_json(status_json(status, kb))
        return
    print_status(status, kb)


def print_status(status: ProgrammeStatus, kb: KnowledgeBase) -> None:
    programme = kb.programme(status.programme)
    month = f", course month {status.month}" if status.month is not None else ""
    course = f" (course {status.course_id})" if status.course_id else ""
    out.print(Rule(f"Pregnancy prevention programme: {status.patient_id} on {status.on}"))
    out.print(f"Rule set: {programme_line(programme)}", markup=False)
    if status.version != programme.version:
        out.print(f"Version applied to this patient: {status.version}", markup=False)
    out.print(f"Category: {status.category_reason}", markup=False)
    out.print(f"This month: {state_text(status.state)}{month}{course}", markup=False, style="bold")
    if status.requirements:
        out.print(requirements_table(status.requirements))
    unmet = status.unmet
    if unmet:
        out.print(f"{len(unmet)} requirement(s) unmet: the next step waits for them.", markup=False)
    if status.history:
        history = Table(title="Months of the course")
        columns = ("month", "from", "to", "prescription", "rule set", "version", "state")
        for column in columns:
            history.add_column(column, overflow="fold")
        for month_record in status.history:
            history.add_row(
                str(month_record.month),
                month_record.start.isoformat(),
                month_record.end.isoformat(),
                month_record.prescription_id or "",
                month_record.programme,
                month_record.version,
                state_text(month_record.state),
            )
        out.print(history)
    authorization = status.authorization
    if authorization is None:
        out.print("No valid pharmacy authorisation.", markup=False)
    else:
        out.print(f"Valid pharmacy authorisation: {describe(authorization)}", markup=False)
    out.print(SAFETY_LINE, markup=False)


def status_json(status: ProgrammeStatus, kb: KnowledgeBase) -> dict[str, Any]:
    programme = kb.programme(status.programme)
    return {
        "patient_id": status.patient_id,
        "evaluated_on": status.on.isoformat(),
        "programme": {"id": programme.id, "name": status.programme_name, "version": status.version},
        "category": status.category,
        "category_reason": status.category_reason,
        "state": str(status.state),
        "month": status.month,
        "course_id": status.course_id,
        "requirements": [requirement_json(r) for r in status.requirements],
        "history": [
            {
                "month": m.month,
                "start": m.start.isoformat(),
                "end": m.end.isoformat(),
                "programme": m.programme,
                "version": m.version,
                "state": str(m.state),
                "prescription_id": m.prescription_id,
            }
            for m in status.history
        ],
        "authorization": (
            None if status.authorization is None else authorization_json(status.authorization)
        ),
        "safety": SAFETY_LINE,
    }


def requirements_table(requirements: tuple[Requirement, ...]) -> Table:
    """Each requirement: met (with the evidence) or UNMET (with what would satisfy it)."""
    table = Table(title="Requirements of the next step", expand=True)
    for column, ratio in (("", 1), ("requirement", 4), ("found, or what would satisfy it", 7)):
        table.add_column(column, overflow="fold", ratio=ratio)
    for requirement in requirements:
        if requirement.met:
            table.add_row(
                Text("met", style="green"), Text(requirement.text), Text(requirement.found)
            )
        else:
            table.add_row(
                Text("UNMET", style="bold red"),
                Text(requirement.text),
                Text(f"needs {requirement.needs}"),
            )
    return table


def requirement_json(requirement: Requirement) -> dict[str, Any]:
    return {
        "key": requirement.key,
        "met": requirement.met,
        "text": requirement.text,
        "needs": requirement.needs,
        "found": requirement.found,
        "rules": list(requirement.rule_ids),
    }


def state_text(state: object) -> str:
    """'dispense-authorised' -> 'dispense authorised'."""
    return str(state).replace("-", " ")


# --- isotrack ppp authorize -------------------------------------------------------------------
@ppp_app.command("authorize")
@translate_errors
def authorize_command(
    patient_id: PatientArgument,
    on: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help="The day of the authorisation (default: today)."
        ),
    ] = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Authorise the pharmacy to dispense this month's prescription, or say why not.

    Checks the programme (negative test in the window, contraception, this
    month's comprehension check, the prescription), records the
    authorisation in the patient's log and prints its id, the
    do-not-dispense-after date, the capsules per strength and a token signed
    with the clinic's private key (Ed25519; the first key is made when none
    exists) that a pharmacy checks offline with the published public keys:
    [bold]isotrack ppp verify TOKEN --jwks FILE[/bold]. When it cannot: every unmet
    requirement and what would satisfy it, exit 1, nothing recorded.

    Example: [bold]isotrack ppp authorize demo-ana --database sqlite:///clinic.db[/bold]
    """
    kb = knowledge(policy)
    moment = now()
    day = parse_day("--date", on)
    with open_database(database) as engine:
        record, version = read_record(engine, patient_id, actor=CLI_ACTOR, now=moment, kb=kb)
        authorization = authorize_dispense(
            record, on=day, kb=kb, authorization_id=new_authorization_id(),
            prescriber=prescriber_of_current(engine, record),
        )  # fmt: skip
        execute(
            engine, patient_id, as_command(authorization), actor=CLI_ACTOR, now=moment, kb=kb,
            expected_version=version,
        )  # fmt: skip
        token = signed_token(engine, authorization, now=moment, actor=CLI_ACTOR)
    if as_json:
        print_json({**authorization_json(authorization), "token": token})
        return
    out.print(f"Dispense authorised: {describe(authorization)}", markup=False)
    out.print(f"Authorisation id: {authorization.id}", markup=False)
    out.print(f"Do not dispense after: {authorization.not_after}", markup=False)
    out.print(
        f"Maximum quantity: {authorization.max_quantity} capsules, "
        f"{capsules_text(authorization)} ({authorization.max_days} days' supply)",
        markup=False,
    )
    out.print(
        "Signed token (check offline with `isotrack ppp verify TOKEN --jwks FILE`):",
        markup=False,
    )
    out.print(token, markup=False, soft_wrap=True)
    out.print(SAFETY_LINE, markup=False)


def capsules_text(authorization: Authorization) -> str:
    """'30 × 30 mg + 30 × 25 mg'."""
    return " + ".join(f"{n} × {mg:g} mg" for mg, n in authorization.capsules)


def describe(authorization: Authorization) -> str:
    prescriber = f", prescribed by {authorization.prescriber}" if authorization.prescriber else ""
    return (
        f"{authorization.id} for {authorization.patient_name} (born "
        f"{authorization.birth_date}, patient {authorization.patient_id}): "
        f"{authorization.product}, {capsules_text(authorization)} "
        f"({authorization.max_days} days' supply) of prescription "
        f"{authorization.prescription_id}{prescriber}, issued {authorization.issued_on}, "
        f"do not dispense after {authorization.not_after} ({authorization.programme})"
    )


def authorization_json(authorization: Authorization) -> dict[str, Any]:
    return {
        "id": authorization.id,
        "patient_id": authorization.patient_id,
        "patient_name": authorization.patient_name,
        "birth_date": authorization.birth_date.isoformat(),
        "course_id": authorization.course_id,
        "prescription_id": authorization.prescription_id,
        "product": authorization.product,
        "capsules": [{"strength_mg": mg, "capsules": n} for mg, n in authorization.capsules],
        "issued_on": authorization.issued_on.isoformat(),
        "not_after": authorization.not_after.isoformat(),
        "max_quantity": authorization.max_quantity,
        "max_days": authorization.max_days,
        "prescriber": authorization.prescriber,
        "programme": authorization.programme,
        "version": authorization.version,
    }
