"""How a demo patient's story is written: :class:`Story` collects the commands
of one made-up patient, each recorded on its clinical date (enrolment,
weights, labs, contraception, a course of monthly prescriptions with the
programme's steps), and gives the :class:`DemoPatient` that
:func:`isotrack.demo.clinic.demo_clinic` lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from isotrack.clinical.dosing import Regimen
from isotrack.clinical.state import (
    AnyCommand,
    CapabilityName,
    Dispense,
    EnrolPatient,
    Prescribe,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordLabResult,
    RecordPHQ9,
    RecordPregnancyTest,
    RecordWeight,
    SexName,
    StartContraception,
    StartCourse,
    prescription_of,
)
from isotrack.knowledge import KnowledgeBase

MONTH = 30
"""Days between two monthly visits of the made-up courses (demo data, not a rule)."""


@dataclass(frozen=True, slots=True)
class DemoPatient:
    patient_id: str
    name: str
    story: str
    """One line: what this patient shows."""
    commands: list[tuple[AnyCommand, date]] = field(default_factory=list)
    """Each command with the day it is recorded (its clinical date), oldest first."""


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


class Story:
    """Collects one patient's commands; each is recorded on its clinical date."""

    def __init__(self, today: date, patient_id: str, kb: KnowledgeBase) -> None:
        self.today, self.patient_id, self.kb = today, patient_id, kb
        self.commands: list[AnyCommand] = []
        self.rx = 0
        self.kg = 0.0
        self.can_get_pregnant = False

    def day(self, offset: int) -> date:
        """``today + offset`` (offsets are zero or negative)."""
        return self.today + timedelta(days=offset)

    def add(self, *commands: AnyCommand) -> None:
        self.commands.extend(commands)

    def last_item(self, kind: type[AnyCommand], prefix: str) -> str:
        """The worklist id of the latest report of ``kind`` so far ('mood-3')."""
        return f"{prefix}-{sum(isinstance(c, kind) for c in self.commands)}"

    def enrol(
        self,
        offset: int,
        name: str,
        age: int,
        sex: SexName,
        *,
        capability: CapabilityName | None = None,
        reason: str = "",
    ) -> None:
        self.can_get_pregnant = capability == "can-get-pregnant"
        self.add(
            EnrolPatient(
                on=self.day(offset),
                patient_id=self.patient_id,
                name=name,
                birth_date=years_before(self.today, age) - timedelta(days=40),
                sex=sex,
                pregnancy_capability=capability,
                capability_reason=reason,
            ),
            RecordCounselling(
                on=self.day(offset),
                topic="enrolment: isotretinoin risks and the pregnancy prevention programme",
            ),
        )

    def weigh(self, offset: int, kg: float | None = None) -> None:
        """A weight (default: the last one again): a dose is checked in mg/kg against it."""
        self.kg = kg if kg is not None else self.kg
        on = self.day(offset)
        if not any(isinstance(c, RecordWeight) and c.on == on for c in self.commands):
            self.add(RecordWeight(on=on, value=self.kg))

    def labs(self, offset: int, triglycerides: float, alt: float) -> None:
        on = self.day(offset)
        self.add(
            RecordLabResult(on=on, analyte="triglycerides", value=triglycerides, unit="mg/dL"),
            RecordLabResult(on=on, analyte="alt", value=alt, unit="U/L", reference_high=40),
        )

    def contraception(self, offset: int, *methods: str) -> None:
        self.add(*(StartContraception(on=self.day(offset), method=m) for m in methods))

    def start_tests(self, course_start: int) -> None:
        """A screening test, then a confirmation test in a medical setting the day before."""
        self.add(
            RecordPregnancyTest(on=self.day(course_start - 35), result="negative"),
            RecordPregnancyTest(on=self.day(course_start - 1), result="negative"),
        )

    def course(
        self,
        offset: int,
        product: str,
        *,
        dose_mg: float,
        strength_mg: float,
        months: int,
        monthly_tests: bool = False,
        phq9: int = 3,
        regimen: Regimen | None = None,
    ) -> None:
        """Start a course and write ``months`` monthly prescriptions of 30 days,
        each dispensed on the day, with a PHQ-9 at each visit."""
        self.add(
            StartCourse(on=self.day(offset), course_id=f"{self.patient_id}-c1", product=product)
        )
        for month in range(months):
            visit = offset + month * MONTH
            if monthly_tests and month > 0:
                self.add(RecordPregnancyTest(on=self.day(visit - 1), result="negative"))
            self.prescribe(visit, dose_mg, strength_mg, phq9=phq9, regimen=regimen)

    def prescribe(
        self,
        offset: int,
        dose_mg: float,
        strength_mg: float,
        *,
        phq9: int,
        regimen: Regimen | None = None,
    ) -> None:
        """A monthly prescription, authorised and dispensed on the day: ``dose_mg`` of
        ``strength_mg`` capsules twice a day, or ``regimen`` (e.g. morning 30 mg,
        evening 25 mg) when given."""
        self.rx += 1
        prescription = f"{self.patient_id}-rx{self.rx}"
        on = self.day(offset)
        written = (
            Prescribe(
                on=on,
                prescription_id=prescription,
                dose_mg=dose_mg,
                times_per_day=2,
                strength_mg=strength_mg,
                quantity=round(dose_mg / strength_mg) * 2 * MONTH,
                supply_days=MONTH,
            )
            if regimen is None
            else prescription_of(
                on=on, prescription_id=prescription, regimen=regimen, supply_days=MONTH
            )
        )
        capsules = written.quantity
        self.weigh(offset)
        if self.can_get_pregnant:
            bank = self.kb.questions(self.kb.text("ppp.default_programme"))
            answers = tuple((q.id, q.correct) for q in bank)
            self.add(RecordComprehensionAnswers(on=on, answers=answers))
        self.add(
            RecordPHQ9(on=on, total=phq9, item9=0),
            written,
            RecordAuthorization(
                on=on,
                authorization_id=f"{prescription}-pa",
                prescription_id=prescription,
                not_after=on,
                max_quantity=capsules,
            ),
            Dispense(on=on, prescription_id=prescription, quantity=capsules),
        )

    def patient(self, name: str, story: str) -> DemoPatient:
        ordered = sorted(self.commands, key=lambda c: c.on)  # stable: same-day order kept
        return DemoPatient(self.patient_id, name, story, [(c, c.on) for c in ordered])
