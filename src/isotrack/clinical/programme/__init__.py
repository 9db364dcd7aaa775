"""The pregnancy prevention programme (iPLEDGE, the EU programme): what it
requires of a patient each month, and whether a prescription or a dispense is
allowed today.

- :mod:`.rule_sets`: the patient's programme and its rules as data;
- :mod:`.requirements`: each requirement, one function each;
- :mod:`.status`: :func:`programme_status`, the programme as a state machine
  per patient-month (months counted by :mod:`.months`);
- :mod:`.dispense`: the dispensing window and an authorisation's terms;
- :mod:`.authorization`: dispensing authorisations and what their signed token
  states (the claims; the signature is :mod:`isotrack.http.ppp_tokens`);
- :mod:`.authorization_use`: each authorisation is used once;
- :mod:`.comprehension`: the comprehension questions and this month's check.

Reads the record's data model and screening's pregnancy and contraception
answers; the record (:mod:`isotrack.clinical.record`) asks it before a
command is accepted.
"""

from __future__ import annotations

from isotrack.clinical.programme.authorization import (
    Authorization,
    as_command,
    authorization_claims,
    authorization_from_claims,
    authorize_dispense,
    check_in_force,
    recorded_authorization,
)
from isotrack.clinical.programme.authorization_use import check_authorization_use
from isotrack.clinical.programme.comprehension import (
    answer_problems,
    comprehension_requirement,
    questions_to_ask,
    wrong_answers,
)
from isotrack.clinical.programme.dispense import (
    DispenseTerms,
    authorization_requirements,
    check_recorded_terms,
    first_use,
    require_dispensable,
    used_text,
    valid_authorization,
)
from isotrack.clinical.programme.requirements import (
    Requirement,
    contraception_requirement,
    course_as_of,
    course_ended,
    refusal,
    supply_requirement,
)
from isotrack.clinical.programme.rule_sets import RuleSet, category_of, programme_of, rule_set
from isotrack.clinical.programme.status import (
    MonthState,
    ProgrammeStatus,
    prescribing_requirements,
    programme_status,
    require_prescribable,
)

__all__ = [
    "Authorization",
    "DispenseTerms",
    "MonthState",
    "ProgrammeStatus",
    "Requirement",
    "RuleSet",
    "answer_problems",
    "as_command",
    "authorization_claims",
    "authorization_from_claims",
    "authorization_requirements",
    "authorize_dispense",
    "category_of",
    "check_authorization_use",
    "check_in_force",
    "check_recorded_terms",
    "comprehension_requirement",
    "contraception_requirement",
    "course_as_of",
    "course_ended",
    "first_use",
    "prescribing_requirements",
    "programme_of",
    "programme_status",
    "questions_to_ask",
    "recorded_authorization",
    "refusal",
    "require_dispensable",
    "require_prescribable",
    "rule_set",
    "supply_requirement",
    "used_text",
    "valid_authorization",
    "wrong_answers",
]
