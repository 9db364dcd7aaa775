"""Pregnancy: can the patient get pregnant, is she pregnant, and what the
pregnancy tests show (rules.md "CBP"; facts.md §7).

Pregnancy capability ("CBP", iPLEDGE's "patient who can get pregnant"):

1. a category recorded in isotrack (``snapshot.pregnancy_capability``) wins;
2. otherwise it is assumed, and the assumption is said. Every sex and gender
   element of the record is weighed: administrative gender (``snapshot.sex``)
   and ``snapshot.sex_elements`` (sex assigned at birth, documented sex, sex
   parameter for clinical use, a transgender identity's sex assigned at birth),
   each pointing to female or male reproductive organs, or to neither:
   - elements that point only to male organs: cannot get pregnant;
   - a coded hysterectomy or bilateral oophorectomy (procedure or condition) or
     menopause condition: cannot get pregnant (tubal sterilisation changes
     nothing; a record recognised by name only is not used: too weak a reason
     to drop every pregnancy safeguard);
   - age outside ``ppp.cbp_assumed_min_age``–``ppp.cbp_assumed_max_age``: cannot;
   - otherwise can: female organs presumed present. Conservative choices: an
     unknown birth date, no element pointing either way, and elements that
     disagree (e.g. administrative gender male, sex assigned at birth female) are
     treated as able to get pregnant, because wrongly dropping the safeguards is
     the worse error; disagreeing elements also ask for a recorded category
     (``CbpStatus.disagreement``: PPP-CATEGORY-UNCONFIRMED).
   Hormone therapy never rules pregnancy out (testosterone is not
   contraception); a recorded testosterone therapy is only mentioned.

>>> from datetime import date
>>> from isotrack.knowledge import default_knowledge
>>> from isotrack.clinical.snapshot import PatientSnapshot, Sex
>>> snap = PatientSnapshot("p1", birth_date=date(2001, 6, 1), sex=Sex.FEMALE)
>>> pregnancy_capability(snap, date(2026, 3, 2), default_knowledge()).label
'can get pregnant (assumed: female, 24 years)'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from isotrack.clinical.codes import matches_in
from isotrack.clinical.contraception import ContraceptionStatus, contraception_status
from isotrack.clinical.screening import Hit, ScreeningContext
from isotrack.clinical.snapshot import (
    PatientSnapshot,
    PregnancyCapability,
    PregnancyTest,
    RecordedSex,
    Sex,
    TestResult,
)
from isotrack.knowledge.base import KnowledgeBase

CbpBasis = Literal["recorded", "sex", "record", "age", "assumed"]
"""Why: recorded in isotrack; administrative gender; a hysterectomy/oophorectomy/
menopause record; age outside the assumed range; assumed able (sex and age)."""


@dataclass(frozen=True, slots=True)
class CbpStatus:
    """Whether the patient can get pregnant, and on what grounds."""

    can_get_pregnant: bool
    assumed: bool
    reason: str
    basis: CbpBasis = "assumed"
    disagreement: str = ""
    """How the record's sex and gender elements disagree ('' when they agree or no
    assumption was needed): PPP-CATEGORY-UNCONFIRMED asks for a recorded category."""

    @property
    def label(self) -> str:
        """'can get pregnant (assumed: female, 24 years)'."""
        verdict = "can get pregnant" if self.can_get_pregnant else "cannot get pregnant"
        return f"{verdict} ({'assumed' if self.assumed else 'recorded'}: {self.reason})"

    @property
    def assumption(self) -> str:
        """The sentence for the assessment's assumptions ('' when recorded)."""
        if not self.assumed:
            return ""
        verdict = "able" if self.can_get_pregnant else "not able"
        return (
            f"Pregnancy capability is not recorded in isotrack: assumed {verdict} to get "
            f"pregnant ({self.reason}); record the category in isotrack to override."
        )

    @property
    def pregnancy_evidence_counts(self) -> bool:
        """A recorded pregnancy or positive test is reported for patients who can get
        pregnant, and for those assumed unable from their age alone."""
        return self.can_get_pregnant or self.basis == "age"


def age_on(birth_date: date | None, on: date) -> int | None:
    if birth_date is None:
        return None
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - before_birthday


def _exclusion(snapshot: PatientSnapshot, on: date, kb: KnowledgeBase) -> tuple[str, str]:
    """(coded exclusion, text-only look-alike) descriptions; '' when none."""
    coded, by_text = "", ""
    memory = matches_in(kb)
    records = [(p.concept, p.performed) for p in snapshot.procedures if p.done_by(on)]
    records += [(c.concept, c.onset) for c in snapshot.conditions if c.ever_on(on)]
    memos = [(memory.of(concept), day) for concept, day in records]
    for valueset_id in ("hysterectomy-oophorectomy", "menopause"):
        kb.valueset(valueset_id)  # an unknown id fails even when there is no record
        for memo, day in memos:
            found = memo.match(valueset_id)
            if not found.matched:
                continue
            text = memo.concept.label + (f" ({day.isoformat()})" if day else "")
            if not found.by_text and not coded:
                coded = text
            elif found.by_text and not by_text:
                by_text = text
    return coded, by_text


@dataclass(frozen=True, slots=True)
class SexEvidence:
    """The record's sex and gender elements by the reproductive organs they point to."""

    female: tuple[str, ...]
    male: tuple[str, ...]
    administrative: Sex

    @property
    def disagree(self) -> bool:
        return bool(self.female and self.male)

    def describe(self) -> str:
        """'female', 'female (sex assigned at birth F)', 'sex elements disagree' ..."""
        if self.disagree:
            return "sex and gender elements disagree"
        if self.female:
            said = self.administrative is Sex.FEMALE
            return "female" if said else f"female ({', '.join(self.female)})"
        return f"administrative gender {self.administrative}"

    def disagreement(self) -> str:
        if not self.disagree:
            return ""
        return f"female: {', '.join(self.female)}; male: {', '.join(self.male)}"


def _administrative(sex: Sex) -> str:
    return f"administrative gender {sex}"


def sex_evidence(snapshot: PatientSnapshot, on: date) -> SexEvidence:
    """Which elements point to female and which to male reproductive organs on ``on``."""
    female: list[str] = []
    male: list[str] = []
    if snapshot.sex in (Sex.FEMALE, Sex.MALE):
        (female if snapshot.sex is Sex.FEMALE else male).append(_administrative(snapshot.sex))
    current: list[RecordedSex] = [e for e in snapshot.sex_elements if e.current_on(on)]
    for element in current:
        if element.indicates is Sex.FEMALE:
            female.append(element.describe())
        elif element.indicates is Sex.MALE:
            male.append(element.describe())
    return SexEvidence(tuple(dict.fromkeys(female)), tuple(dict.fromkeys(male)), snapshot.sex)


def pregnancy_capability(snapshot: PatientSnapshot, on: date, kb: KnowledgeBase) -> CbpStatus:
    """Decide whether the patient can get pregnant on ``on`` (see the module doc)."""
    recorded = snapshot.pregnancy_capability
    if recorded is not None:
        return CbpStatus(recorded is PregnancyCapability.CAN, False, "recorded in isotrack")
    evidence = sex_evidence(snapshot, on)
    if evidence.male and not evidence.female:
        return CbpStatus(False, True, "; ".join(evidence.male), "sex")
    sex = evidence.describe()
    age = age_on(snapshot.birth_date, on)
    who = f"{sex}, {age} years" if age is not None else f"{sex}, age unknown"
    coded, by_text = _exclusion(snapshot, on, kb)
    if coded:
        return CbpStatus(False, True, f"{who}; {coded} recorded", "record")
    low, high = kb.number("ppp.cbp_assumed_min_age"), kb.number("ppp.cbp_assumed_max_age")
    if age is not None and not low <= age <= high:
        return CbpStatus(False, True, f"{who}, outside the assumed {low:g}–{high:g}", "age")
    notes = [who]
    if evidence.disagree:
        notes.append(
            f"{evidence.disagreement()}: treated as able to get pregnant until a programme "
            "category is recorded"
        )
    elif not evidence.female:
        notes.append("treated as able to get pregnant: no sex recorded as female or male")
    if age is None:
        notes.append("no birth date: treated as within the child-bearing age range")
    if by_text:
        notes.append(f"{by_text} is recognised by name only, no code: not used")
    hormone = _testosterone(snapshot, on, kb)
    if hormone:
        notes.append(f"{hormone} recorded: testosterone is not contraception")
    return CbpStatus(True, True, "; ".join(notes), "assumed", evidence.disagreement())


def _testosterone(snapshot: PatientSnapshot, on: date, kb: KnowledgeBase) -> str:
    """The name of an active testosterone therapy, or ''."""
    memory = matches_in(kb)
    kb.valueset("testosterone-therapy")  # an unknown id fails even without medications
    for medication in snapshot.medications:
        if (
            medication.active_on(on)
            and memory.match(medication.concept, "testosterone-therapy").matched
        ):
            return medication.concept.label
    return ""


def cbp_status(ctx: ScreeningContext) -> CbpStatus:
    """Pregnancy capability for a screening (decided once per screening); an
    assumption is added to ``ctx.assumptions``."""
    status = ctx.derived("cbp", lambda: pregnancy_capability(ctx.snapshot, ctx.on, ctx.kb))
    if status.assumed and status.assumption not in ctx.assumptions:
        ctx.assumptions.append(status.assumption)
    return status


def screening_contraception(ctx: ScreeningContext) -> ContraceptionStatus:
    """The contraception status on the evaluation date under the default programme,
    decided once per screening (the rules and the context lines share it)."""
    return ctx.derived(
        "contraception-status", lambda: contraception_status(ctx.snapshot, ctx.on, ctx.kb)
    )


# --- Pregnancy tests -------------------------------------------------------------------
def pregnancy_tests_newest_first(snapshot: PatientSnapshot, on: date) -> list[PregnancyTest]:
    """Results up to ``on``, newest first; on the same day a positive comes first."""
    found = [t for t in snapshot.pregnancy_tests if t.on <= on]
    return sorted(found, key=lambda t: (t.on, t.result is TestResult.POSITIVE), reverse=True)


def window_first_day(on: date, kb: KnowledgeBase) -> date:
    """First specimen date inside the window ending on ``on`` (day 1 = specimen date)."""
    return on - timedelta(days=kb.number("ppp.test_window_days") - 1)


def negative_in_window(
    snapshot: PatientSnapshot, on: date, kb: KnowledgeBase
) -> PregnancyTest | None:
    first = window_first_day(on, kb)
    negatives = [
        t for t in pregnancy_tests_newest_first(snapshot, on) if t.result is TestResult.NEGATIVE
    ]
    return next((t for t in negatives if t.on >= first), None)


def describe_pregnancy_test(test: PregnancyTest) -> str:
    """'negative on 2026-02-20 (medical setting)'."""
    return f"{test.result} on {test.on.isoformat()} ({test.setting} setting)"


def procedures_without_result(ctx: ScreeningContext) -> list[Hit]:
    """Pregnancy tests recorded only as procedures: they are not results."""
    return ctx.procedures_done("pregnancy-test-procedure")


# --- Pregnancy and lactation records ------------------------------------------------------
def active_pregnancies(ctx: ScreeningContext) -> list[Hit]:
    """Active pregnancy conditions without a recorded end. A pregnancy whose onset is
    known is also over once a later outcome (miscarriage, termination, birth) is recorded."""
    outcomes = [
        h.on
        for h in [*ctx.conditions_ever("pregnancy-ended"), *ctx.procedures_done("pregnancy-ended")]
        if h.on is not None
    ]
    return [
        hit
        for hit in ctx.active_conditions("pregnancy")
        if hit.on is None or not any(day >= hit.on for day in outcomes)
    ]


def pregnancy_context(ctx: ScreeningContext) -> list[tuple[str, str]]:
    """Lines for the assessment display: capability, contraception, last test."""
    cbp = cbp_status(ctx)
    lines = [("pregnancy capability", cbp.label)]
    if not cbp.can_get_pregnant:
        return lines
    status = screening_contraception(ctx)
    lines.append(("contraception", status.describe()))
    tests = pregnancy_tests_newest_first(ctx.snapshot, ctx.on)
    lines.append(
        ("last pregnancy test", describe_pregnancy_test(tests[0]) if tests else "none recorded")
    )
    return lines
