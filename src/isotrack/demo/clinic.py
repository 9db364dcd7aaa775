"""The demo clinic: a dozen made-up patients (no real person) in different states.

Every patient is a list of commands, each with the day it is recorded, dated
relative to ``today`` so that the demo is always current: ``isotrack demo load``
feeds them to the store one by one, exactly as a clinic would have recorded
them. No command is recorded after ``today``.

The clinic follows the default pregnancy prevention programme: every patient is
counselled at enrolment; a patient who can get pregnant answers the
comprehension questions (all right) before each prescription; the pharmacy
records a dispensing authorisation before each dispense.

>>> from datetime import date
>>> clinic = demo_clinic(date(2026, 3, 2))
>>> len(clinic), clinic[0].patient_id
(12, 'demo-ana')
>>> all(day <= date(2026, 3, 2) for p in clinic for _, day in p.commands)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from isotrack.clinical.state import (
    AnyCommand,
    CapabilityName,
    ChangeDose,
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
    RecordPregnancyTest,
    RecordSymptoms,
    RecordWeight,
    SexName,
    StartContraception,
    StartCourse,
)
from isotrack.knowledge import KnowledgeBase, default_knowledge

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


class _Story:
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
            self.prescribe(visit, dose_mg, strength_mg, phq9=phq9)

    def prescribe(self, offset: int, dose_mg: float, strength_mg: float, *, phq9: int) -> None:
        self.rx += 1
        prescription = f"{self.patient_id}-rx{self.rx}"
        capsules = round(dose_mg / strength_mg) * 2 * MONTH
        on = self.day(offset)
        self.weigh(offset)
        if self.can_get_pregnant:
            bank = self.kb.questions(self.kb.text("ppp.default_programme"))
            answers = tuple((q.id, q.correct) for q in bank)
            self.add(RecordComprehensionAnswers(on=on, answers=answers))
        self.add(
            RecordPHQ9(on=on, total=phq9, item9=0),
            Prescribe(
                on=on,
                prescription_id=prescription,
                dose_mg=dose_mg,
                times_per_day=2,
                strength_mg=strength_mg,
                quantity=capsules,
                supply_days=MONTH,
            ),
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


def demo_clinic(today: date, kb: KnowledgeBase | None = None) -> list[DemoPatient]:
    """The twelve demo patients as they stand on ``today``."""
    kb = kb or default_knowledge()
    window = int(kb.number("ppp.test_window_days"))
    return [
        _ana(today, kb),
        _ben(today, kb),
        _carlos(today, kb),
        _dev(today, kb),
        _eva(today, kb),
        _farah(today, kb),
        _grace(today, kb),
        _hugo(today, kb),
        _iris(today, kb),
        _jonas(today, kb),
        _kara(today, kb, window),
        _luca(today, kb),
    ]


def _ana(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-ana", kb)
    s.enrol(-140, "Ana Moreau", 24, "female", capability="can-get-pregnant")
    s.weigh(-140, 60)
    s.contraception(-135, "implant-etonogestrel", "male-condom")
    s.start_tests(-75)
    s.labs(-85, 110, 22)
    s.course(-75, "absorica", dose_mg=30, strength_mg=30, months=3, monthly_tests=True)
    s.labs(-47, 135, 25)
    s.add(RecordSymptoms(on=s.day(-15), symptoms=("dry-lips",)))
    return s.patient(
        "Ana Moreau",
        "Can get pregnant, mid-course: monthly negative tests, implant (primary) and condoms.",
    )


def _ben(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-ben", kb)
    s.enrol(-60, "Ben Okafor", 19, "male")
    s.weigh(-60, 82)
    s.labs(-50, 160, 28)
    s.course(-40, "conventional", dose_mg=40, strength_mg=40, months=2)
    s.labs(-12, 620, 35)
    return s.patient(
        "Ben Okafor", "Triglycerides 620 mg/dL at the one-month recheck: decide before the next."
    )


def _carlos(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-carlos", kb)
    s.enrol(-70, "Carlos Mendes", 22, "male")
    s.weigh(-70, 74)
    s.labs(-60, 120, 30)
    s.course(-50, "absorica", dose_mg=35, strength_mg=35, months=2)
    s.labs(-22, 140, 31)
    missed = tuple(s.day(offset) for offset in range(-27, -21))
    s.add(RecordMissedDoses(on=s.day(-18), days=missed))
    return s.patient(
        "Carlos Mendes", "Missed six days of doses on a trip: the cumulative dose is behind plan."
    )


def _dev(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-dev", kb)
    s.enrol(-70, "Dev Sharma", 27, "male")
    s.weigh(-70, 85)
    s.labs(-55, 130, 26)
    s.course(-45, "conventional", dose_mg=40, strength_mg=40, months=2)
    s.labs(-17, 150, 29)
    s.add(
        RecordSymptoms(on=s.day(-1), symptoms=("low-mood",), note="Feels flat since the winter"),
        RecordPHQ9(on=s.day(-1), total=12, item9=0),
    )
    return s.patient("Dev Sharma", "PHQ-9 of 12 yesterday (item 9 = 0): a positive mood screen.")


def _eva(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-eva", kb)
    s.enrol(-250, "Eva Lind", 29, "female", capability="can-get-pregnant")
    s.weigh(-250, 58)
    s.contraception(-240, "iud-levonorgestrel", "male-condom")
    s.start_tests(-175)
    s.labs(-185, 95, 18)
    s.course(-175, "absorica", dose_mg=25, strength_mg=25, months=5, monthly_tests=True)
    s.labs(-147, 120, 21)
    s.add(EndCourse(on=s.day(-25), reason="Skin clear after five months; stopped by agreement"))
    return s.patient(
        "Eva Lind", "Finished 25 days ago: the post-course pregnancy test is due in 5 days."
    )


def _farah(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-farah", kb)
    s.enrol(-120, "Farah Haddad", 31, "female", capability="can-get-pregnant")
    s.weigh(-120, 60)
    s.contraception(-110, "iud-levonorgestrel")
    s.contraception(-60, "male-condom")
    s.start_tests(-20)
    s.labs(-30, 105, 20)
    s.course(-20, "absorica-ld", dose_mg=24, strength_mg=24, months=1)
    return s.patient(
        "Farah Haddad", "On Absorica LD (micronized) 24 mg twice daily: 0.8 mg/kg/day."
    )


def _grace(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-grace", kb)
    s.enrol(
        -60,
        "Grace Kim",
        47,
        "female",
        capability="cannot-get-pregnant",
        reason="Hysterectomy in 2019 (report seen)",
    )
    s.weigh(-60, 68)
    s.labs(-45, 140, 24)
    s.course(-35, "conventional", dose_mg=30, strength_mg=30, months=2)
    s.labs(-7, 160, 27)
    return s.patient(
        "Grace Kim", "Cannot get pregnant (hysterectomy, recorded with the reason): no tests."
    )


def _hugo(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-hugo", kb)
    s.enrol(-45, "Hugo Rossi", 15, "male")
    s.weigh(-45, 55)
    s.labs(-40, 90, 17)
    s.course(-28, "absorica", dose_mg=25, strength_mg=25, months=1)
    s.add(
        RecordOverride(
            on=s.day(-28),
            rule_id="AGE-ADOLESCENT-BONE",
            reason="Bone growth discussed with Hugo and his mother; treatment agreed",
        ),
        RecordLesionCount(on=s.day(-28), nodules=6, inflammatory=25, comedones=30),
    )
    return s.patient(
        "Hugo Rossi", "Adolescent (15): bone-growth caution, overridden with a reason."
    )


def _iris(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-iris", kb)
    s.enrol(-40, "Iris Novak", 21, "female", capability="can-get-pregnant")
    s.weigh(-40, 63)
    s.contraception(-40, "patch", "male-condom")
    s.weigh(-5)
    s.add(
        RecordPregnancyTest(on=s.day(-5), result="negative", setting="home"),
        StartCourse(on=today, course_id="demo-iris-c1", product="absorica"),
    )
    return s.patient(
        "Iris Novak", "Not started yet: baseline labs and the confirmation pregnancy test missing."
    )


def _jonas(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-jonas", kb)
    s.enrol(-80, "Jonas Weber", 24, "male")
    s.weigh(-80, 78)
    s.labs(-70, 115, 23)
    s.course(-60, "absorica", dose_mg=35, strength_mg=35, months=2)
    s.labs(-32, 130, 25)
    s.add(
        RecordSymptoms(on=s.day(-10), symptoms=("low-mood",)),
        RecordPHQ9(on=s.day(-10), total=15, item9=1),
        PauseCourse(on=s.day(-10), reason="PHQ-9 item 9 = 1: referred to mental health"),
    )
    return s.patient(
        "Jonas Weber", "Course paused 10 days ago after PHQ-9 15 with item 9 = 1 (self-harm)."
    )


def _kara(today: date, kb: KnowledgeBase, window: int) -> DemoPatient:
    s = _Story(today, "demo-kara", kb)
    s.enrol(-130, "Kara Singh", 26, "female", capability="can-get-pregnant")
    s.weigh(-130, 66)
    s.contraception(-120, "combined-oral", "male-condom")
    s.start_tests(-59)
    s.labs(-65, 100, 19)
    s.course(-59, "absorica", dose_mg=30, strength_mg=30, months=2, monthly_tests=True)
    s.labs(-31, 118, 22)
    # Her supply runs out tomorrow; day 1 of the test window is the specimen date,
    # so this test covers a prescription up to tomorrow and no later.
    s.add(RecordPregnancyTest(on=s.day(min(0, 2 - window)), result="negative"))
    return s.patient(
        "Kara Singh",
        "Next prescription due tomorrow, the last day her negative test of 5 days ago covers.",
    )


def _luca(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = _Story(today, "demo-luca", kb)
    s.enrol(-120, "Luca Costa", 30, "male")
    s.weigh(-120, 80)
    s.labs(-110, 125, 27)
    s.add(RecordLesionCount(on=s.day(-103), nodules=12, inflammatory=30, comedones=40))
    s.course(-100, "absorica", dose_mg=20, strength_mg=20, months=1)
    s.weigh(-70)
    s.add(ChangeDose(on=s.day(-70), dose_mg=40, times_per_day=2))
    for visit in (-70, -40, -10):
        s.prescribe(visit, 40, 40, phq9=2)
    s.labs(-42, 140, 29)
    s.add(
        RecordLesionCount(on=s.day(-40), nodules=6, inflammatory=14),
        RecordLesionCount(on=s.day(-10), nodules=3, inflammatory=6, comedones=12),
    )
    return s.patient("Luca Costa", "Nodules 12 → 3 (down 75 %): the label allows an early stop.")
