"""The patient record's data model: the commands that may be recorded and the
frozen state they build.

- :mod:`.commands`: every command (``EnrolPatient`` … ``RecordAuthorization``),
  their JSON encoding and ``AnyCommand``;
- :mod:`.patient`: :class:`PatientRecord`, who the patient is and all that was
  measured and reported;
- :mod:`.course`: :class:`CourseState`, one isotretinoin course.

Values only: how a command changes a record, and whether it may, is
:mod:`isotrack.clinical.record`. This package imports no other clinical package,
so every other one can build on it.
"""

from __future__ import annotations

from isotrack.clinical.state.commands import (
    COMMAND_TYPES,
    AnyCommand,
    CapabilityName,
    ChangeDose,
    Command,
    Dispense,
    EndCourse,
    EnrolPatient,
    PauseCourse,
    Prescribe,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordLabResult,
    RecordLesionCount,
    RecordMissedDoses,
    RecordOverride,
    RecordPHQ9,
    RecordPregnancyCapability,
    RecordPregnancyStatus,
    RecordPregnancyTest,
    RecordSymptoms,
    RecordWeight,
    ResumeCourse,
    SexName,
    StartContraception,
    StartCourse,
    StopContraception,
    TestResultName,
    TestSettingName,
    command_from_dict,
    command_type,
    decode_command,
    encode_command,
    prescription_of,
)
from isotrack.clinical.state.course import (
    AuthorizationState,
    CourseState,
    CourseStatus,
    DispenseState,
    DoseChangeState,
    DoseStep,
    PrescriptionState,
)
from isotrack.clinical.state.patient import (
    ComprehensionCheck,
    Counselling,
    Override,
    PatientRecord,
    SymptomReport,
)

__all__ = [
    "COMMAND_TYPES",
    "AnyCommand",
    "AuthorizationState",
    "CapabilityName",
    "ChangeDose",
    "Command",
    "ComprehensionCheck",
    "Counselling",
    "CourseState",
    "CourseStatus",
    "Dispense",
    "DispenseState",
    "DoseChangeState",
    "DoseStep",
    "EndCourse",
    "EnrolPatient",
    "Override",
    "PatientRecord",
    "PauseCourse",
    "Prescribe",
    "PrescriptionState",
    "RecordAuthorization",
    "RecordComprehensionAnswers",
    "RecordCounselling",
    "RecordLabResult",
    "RecordLesionCount",
    "RecordMissedDoses",
    "RecordOverride",
    "RecordPHQ9",
    "RecordPregnancyCapability",
    "RecordPregnancyStatus",
    "RecordPregnancyTest",
    "RecordSymptoms",
    "RecordWeight",
    "ResumeCourse",
    "SexName",
    "StartContraception",
    "StartCourse",
    "StopContraception",
    "SymptomReport",
    "TestResultName",
    "TestSettingName",
    "command_from_dict",
    "command_type",
    "decode_command",
    "encode_command",
    "prescription_of",
]
