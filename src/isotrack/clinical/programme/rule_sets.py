"""The patient's pregnancy prevention programme (rule set) and its rules as data.

A clinic chooses its rule set (parameter ``ppp.default_programme``); a patient's
record names the one chosen at enrolment (:attr:`PatientRecord.programme`). The
requirements of a rule set are ``[[programme_rule]]`` entries of the knowledge base
(``knowledge/data/programme-<id>.toml``); code reads their values by name through a
:class:`RuleSet`, never as literals. A rule binds a patient category
(``applies_to``): patients who can get pregnant, those who cannot, or all.

>>> from datetime import date
>>> from isotrack.knowledge import default_knowledge
>>> kb = default_knowledge()
>>> rules = RuleSet(kb.programme("us-ipledge-2024"), kb)
>>> rules.number("test_window_days"), rules.flag("refills_allowed")
(7.0, False)
>>> rules.applies("monthly_test", can_get_pregnant=False)
False
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from isotrack.clinical.screening import CbpStatus, pregnancy_capability
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.clinical.state import PatientRecord
from isotrack.errors import NotFoundError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Programme, ProgrammeRule

CAN = "can-get-pregnant"
CANNOT = "cannot-get-pregnant"


def programme_of(record: PatientRecord, kb: KnowledgeBase) -> Programme:
    """The patient's rule set: the one recorded at enrolment, else the clinic default."""
    return kb.programme(record.programme or kb.text("ppp.default_programme"))


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one programme, read by name."""

    programme: Programme
    kb: KnowledgeBase

    @property
    def id(self) -> str:
        return self.programme.id

    @property
    def label(self) -> str:
        """'iPLEDGE REMS (2024 modification, approved 2024-02-09)'."""
        return f"{self.programme.name} ({self.programme.version})"

    def rule(self, name: str) -> ProgrammeRule:
        return self.kb.programme_rule(self.programme.id, name)

    def rule_id(self, name: str) -> str:
        return self.rule(name).id

    def number(self, name: str) -> float:
        value = self.rule(name).value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise NotFoundError(f"programme rule {self.programme.id}.{name} is not a number")
        return float(value)

    def whole(self, name: str) -> int:
        return int(self.number(name))

    def days(self, name: str) -> timedelta:
        return timedelta(days=self.number(name))

    def flag(self, name: str) -> bool:
        value = self.rule(name).value
        if not isinstance(value, bool):
            raise NotFoundError(f"programme rule {self.programme.id}.{name} is not true/false")
        return value

    def text(self, name: str) -> str:
        value = self.rule(name).value
        if not isinstance(value, str):
            raise NotFoundError(f"programme rule {self.programme.id}.{name} is not text")
        return value

    def applies(self, name: str, *, can_get_pregnant: bool) -> bool:
        """Whether the rule binds a patient of this category."""
        applies_to = self.rule(name).applies_to
        return applies_to == "all" or applies_to == (CAN if can_get_pregnant else CANNOT)


def rule_set(record: PatientRecord, kb: KnowledgeBase) -> RuleSet:
    return RuleSet(programme_of(record, kb), kb)


def category_of(record: PatientRecord, on: date, kb: KnowledgeBase) -> CbpStatus:
    """Whether the patient can get pregnant on ``on``: the category recorded in isotrack,
    else the assumption from sex and age
    (:func:`isotrack.clinical.screening.pregnancy_capability`)."""
    snapshot = PatientSnapshot(
        record.patient_id,
        birth_date=record.birth_date,
        sex=record.sex,
        pregnancy_capability=record.pregnancy_capability,
    )
    return pregnancy_capability(snapshot, on, kb)
