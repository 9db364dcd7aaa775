"""``/api/v1/patients/{id}/commands`` and the typed command endpoints.

Every change to a record is a command (:mod:`isotrack.clinical.state.commands`),
checked by the record and stored with its audit row in one transaction. The
generic endpoint takes any command as JSON; the typed ones (``/prescribe``,
``/weights`` ...) document their bodies. All take ``If-Match`` (or
``?expected_version=``) for optimistic locking: 409 when the record moved.

Which action of the role matrix each command type needs (``COMMAND_ACTIONS``;
docs/api.md shows it next to the matrix). A type with two actions is allowed
to a caller holding either: staff record it, a patient reports it themself.

=============================  ==========================================
command type                   action(s)
=============================  ==========================================
EnrolPatient                   patient.create
RecordWeight, RecordLabResult, clinical.record
RecordLesionCount,
RecordPregnancyCapability,
RecordCounselling
RecordPregnancyTest            clinical.record; a home test: also self.report
RecordPregnancyStatus          clinical.record
StartContraception,            clinical.record or self.report (confirmation)
StopContraception
RecordSymptoms, RecordPHQ9,    self.report or clinical.record (on behalf)
RecordComprehensionAnswers,
RecordMissedDoses
StartCourse, PauseCourse,      course.manage
ResumeCourse, EndCourse,
ChangeDose
Prescribe                      prescribe
Dispense                       dispense
RecordAuthorization            authorization.create
RecordOverride                 finding.override
AssignWorkItem,                clinical.record
AcknowledgeWorkItem,
ResolveWorkItem
=============================  ==========================================
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Response

from isotrack.api.schemas_commands import (
    CommandBody,
    ContraceptionBody,
    DispenseBody,
    EndBody,
    GenericCommand,
    LabBody,
    PauseBody,
    Phq9Body,
    PregnancyStatusBody,
    PregnancyTestBody,
    PrescribeBody,
    ResumeBody,
    StartCourseBody,
    SymptomsBody,
    WeightBody,
)
from isotrack.clinical.state import AnyCommand, RecordPregnancyTest, command_from_dict
from isotrack.errors import InvalidInputError
from isotrack.http.access import (
    ExpectedVersionQuery,
    IfMatchHeader,
    PatientIdPath,
    etag,
    expected_version,
    store_command,
)
from isotrack.http.authz import Action, Principal, ensure_action, require
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.http.schemas import CommandResult

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["commands"])

_RECORD = frozenset({Action.CLINICAL_RECORD})
_REPORT = frozenset({Action.SELF_REPORT, Action.CLINICAL_RECORD})
COMMAND_ACTIONS: dict[str, frozenset[Action]] = {
    "EnrolPatient": frozenset({Action.PATIENT_CREATE}),
    "RecordWeight": _RECORD,
    "RecordLabResult": _RECORD,
    "RecordLesionCount": _RECORD,
    "RecordPregnancyCapability": _RECORD,
    "RecordCounselling": _RECORD,
    "RecordPregnancyTest": _RECORD,
    "RecordPregnancyStatus": _RECORD,
    "StartContraception": _REPORT,
    "StopContraception": _REPORT,
    "RecordSymptoms": _REPORT,
    "RecordPHQ9": _REPORT,
    "RecordComprehensionAnswers": _REPORT,
    "RecordMissedDoses": _REPORT,
    "StartCourse": frozenset({Action.COURSE_MANAGE}),
    "PauseCourse": frozenset({Action.COURSE_MANAGE}),
    "ResumeCourse": frozenset({Action.COURSE_MANAGE}),
    "EndCourse": frozenset({Action.COURSE_MANAGE}),
    "ChangeDose": frozenset({Action.COURSE_MANAGE}),
    "Prescribe": frozenset({Action.PRESCRIBE}),
    "Dispense": frozenset({Action.DISPENSE}),
    "RecordAuthorization": frozenset({Action.AUTHORIZATION_CREATE}),
    "RecordOverride": frozenset({Action.FINDING_OVERRIDE}),
    "AssignWorkItem": _RECORD,
    "AcknowledgeWorkItem": _RECORD,
    "ResolveWorkItem": _RECORD,
}
"""The actions a command type needs (any one of them); the table in the docstring."""


def actions_for(command: AnyCommand) -> frozenset[Action]:
    """The actions that allow ``command``: a home pregnancy test is also a self-report."""
    if isinstance(command, RecordPregnancyTest) and command.setting == "home":
        return _REPORT
    return COMMAND_ACTIONS[type(command).__name__]


def decode(body: dict[str, Any]) -> AnyCommand:
    try:
        return command_from_dict(body)
    except msgspec.ValidationError as error:
        raise InvalidInputError("body", f"not a valid command: {error}") from None


Authenticated = Annotated[Principal, Depends(require(None))]
Versions = tuple[ExpectedVersionQuery, IfMatchHeader]


@router.post(
    "/commands",
    response_model=CommandResult,
    summary="Record any command (JSON with a type)",
    description=__doc__,
)
def record_command(
    patient_id: PatientIdPath,
    body: GenericCommand,
    response: Response,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    principal: Authenticated,
    expected: ExpectedVersionQuery = None,
    if_match: IfMatchHeader = None,
) -> CommandResult:
    command = decode(body.model_dump())
    ensure_action(principal, actions_for(command))
    result = store_command(
        engine, patient_id, command, principal, now=now, kb=kb,
        version=expected_version(expected, if_match),
    )  # fmt: skip
    response.headers["ETag"] = etag(result.version)
    return result


def _typed_endpoint(path: str, body_type: type[CommandBody], summary: str) -> None:
    """Register ``POST <path>`` taking ``body_type``; the command's actions decide who may."""

    def endpoint(
        patient_id: PatientIdPath,
        body: CommandBody,
        response: Response,
        engine: EngineDep,
        kb: KbDep,
        now: NowDep,
        principal: Authenticated,
        expected: ExpectedVersionQuery = None,
        if_match: IfMatchHeader = None,
    ) -> CommandResult:
        command = body.to_command(now.date())
        ensure_action(principal, actions_for(command))
        result = store_command(
            engine, patient_id, command, principal, now=now, kb=kb,
            version=expected_version(expected, if_match),
        )  # fmt: skip
        response.headers["ETag"] = etag(result.version)
        return result

    # FastAPI reads the body model from the annotation: the class chosen here.
    # (module annotations are strings, and the class is known only here).
    endpoint.__annotations__["body"] = body_type
    endpoint.__name__ = f"record_{path.strip('/').replace('-', '_')}"
    router.add_api_route(
        path, endpoint, methods=["POST"], response_model=CommandResult, summary=summary
    )


for _path, _body, _summary in (
    ("/courses", StartCourseBody, "Start an isotretinoin course"),
    ("/prescribe", PrescribeBody, "Prescribe (checked by the programme)"),
    ("/dispense", DispenseBody, "Record a dispense (needs an authorisation)"),
    ("/weights", WeightBody, "Record a weight"),
    ("/labs", LabBody, "Record a lab result"),
    ("/pregnancy-tests", PregnancyTestBody, "Record a pregnancy test"),
    ("/pregnancy-statuses", PregnancyStatusBody, "Record a pregnancy status"),
    ("/contraception", ContraceptionBody, "Start or stop contraception"),
    ("/symptoms", SymptomsBody, "Report symptoms"),
    ("/phq9", Phq9Body, "Report a PHQ-9 mood screen"),
    ("/pause", PauseBody, "Pause the course"),
    ("/resume", ResumeBody, "Resume the course"),
    ("/end", EndBody, "End the course"),
):
    _typed_endpoint(_path, _body, _summary)
