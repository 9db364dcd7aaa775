"""Who may receive a minor's reminders: a guardian, set by a clinician.

A guardian is accepted only while the patient is under the age of majority
(knowledge parameter ``consent.age_of_majority_years``, a clinic-policy value: 18
in most US states), counted from the record's date of birth on the day of the
change. For an adult the change is refused (:class:`InvalidInputError` on
``guardian_name``): an adult receives their own reminders. A guardian already on
file when the patient comes of age is kept until a clinician removes it; the
clinician's page says that the patient is now an adult.

>>> age_on(date(2010, 6, 15), date(2026, 6, 14)), age_on(date(2010, 6, 15), date(2026, 6, 15))
(15, 16)
"""

from __future__ import annotations

from datetime import date

from isotrack.delivery.preferences import Guardian
from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase

AGE_OF_MAJORITY = "consent.age_of_majority_years"


def age_on(birth_date: date, on: date) -> int:
    """Completed years on ``on`` (a birthday on 29 February counts from 1 March)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def age_of_majority(kb: KnowledgeBase) -> int:
    return int(kb.number(AGE_OF_MAJORITY))


def is_minor(birth_date: date, on: date, kb: KnowledgeBase) -> bool:
    return age_on(birth_date, on) < age_of_majority(kb)


def check_guardian_change(
    before: Guardian | None,
    after: Guardian | None,
    *,
    birth_date: date,
    on: date,
    kb: KnowledgeBase,
) -> None:
    """InvalidInputError when ``after`` sets or changes a guardian of an adult; removing
    one, or keeping the one on file, is always allowed."""
    if after is None or after == before or is_minor(birth_date, on, kb):
        return
    majority = age_of_majority(kb)
    raise InvalidInputError(
        "guardian_name",
        f"the patient is {age_on(birth_date, on)}, an adult (the age of majority is "
        f"{majority}): an adult receives their own reminders, so no guardian can be set",
    )
