"""The demo clinic: thirteen made-up patients (no real person) in different states.

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
>>> len(clinic) >= 13, clinic[0].patient_id
(True, 'demo-ana')
>>> all(day <= date(2026, 3, 2) for p in clinic for _, day in p.commands)
True
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.dosing import regimen_of
from isotrack.clinical.state import (
    AcknowledgeWorkItem,
    ChangeDose,
    EndCourse,
    PauseCourse,
    RecordCounselling,
    RecordLesionCount,
    RecordMissedDoses,
    RecordOverride,
    RecordPHQ9,
    RecordPregnancyTest,
    RecordSymptoms,
    StartCourse,
)
from isotrack.demo.story import DemoPatient, Story
from isotrack.knowledge import KnowledgeBase, default_knowledge


def demo_clinic(today: date, kb: KnowledgeBase | None = None) -> list[DemoPatient]:
    """The demo patients as they stand on ``today``."""
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
        _milo(today, kb),
        _nico(today, kb),
        _mira(today, kb),
    ]


def _ana(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = Story(today, "demo-ana", kb)
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
    s = Story(today, "demo-ben", kb)
    s.enrol(-60, "Ben Okafor", 19, "male")
    s.weigh(-60, 82)
    s.labs(-50, 160, 28)
    s.course(-40, "conventional", dose_mg=40, strength_mg=40, months=2)
    s.labs(-12, 620, 35)
    return s.patient(
        "Ben Okafor", "Triglycerides 620 mg/dL at the one-month recheck: decide before the next."
    )


def _carlos(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = Story(today, "demo-carlos", kb)
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
    s = Story(today, "demo-dev", kb)
    s.enrol(-70, "Dev Sharma", 27, "male")
    s.weigh(-70, 85)
    s.labs(-55, 130, 26)
    s.course(-45, "conventional", dose_mg=40, strength_mg=40, months=2)
    s.labs(-17, 150, 29)
    s.add(
        RecordSymptoms(on=s.day(-1), symptoms=("low-mood",), note="Feels flat since the winter"),
        RecordPHQ9(on=s.day(-1), total=12, item9=0),
    )
    s.add(
        AcknowledgeWorkItem(
            on=s.day(-1),
            item=s.last_item(RecordSymptoms, "symptoms"),
            note="Called Dev: no thoughts of self-harm",
        )
    )
    return s.patient("Dev Sharma", "PHQ-9 of 12 yesterday (item 9 = 0): a positive mood screen.")


def _eva(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = Story(today, "demo-eva", kb)
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
    s = Story(today, "demo-farah", kb)
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
    s = Story(today, "demo-grace", kb)
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
    s = Story(today, "demo-hugo", kb)
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
    s = Story(today, "demo-iris", kb)
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
    s = Story(today, "demo-jonas", kb)
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
    for kind, prefix in ((RecordSymptoms, "symptoms"), (RecordPHQ9, "mood")):
        item = s.last_item(kind, prefix)
        s.add(AcknowledgeWorkItem(on=s.day(-10), item=item, note="Course paused; referred"))
    return s.patient(
        "Jonas Weber", "Course paused 10 days ago after PHQ-9 15 with item 9 = 1 (self-harm)."
    )


def _kara(today: date, kb: KnowledgeBase, window: int) -> DemoPatient:
    s = Story(today, "demo-kara", kb)
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
    s = Story(today, "demo-luca", kb)
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


def _milo(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = Story(today, "demo-milo", kb)
    s.enrol(-80, "Milo Berg", 23, "male")
    s.weigh(-80, 76)
    s.labs(-70, 120, 24)
    s.course(-50, "conventional", dose_mg=30, strength_mg=30, months=2)
    s.labs(-22, 135, 27)
    s.add(
        RecordSymptoms(
            on=today,
            symptoms=("severe-headache", "blurred-vision"),
            note="Since this morning, worse when lying down",
        )
    )
    return s.patient(
        "Milo Berg", "Reported a bad headache with blurred vision today: not yet reviewed."
    )


def _nico(today: date, kb: KnowledgeBase) -> DemoPatient:
    s = Story(today, "demo-nico", kb)
    s.enrol(-40, "Nico Novak", 23, "male")
    s.weigh(-40, 62)
    s.labs(-30, 105, 21)
    s.course(-10, "conventional", dose_mg=30, strength_mg=30, months=1)
    s.add(
        RecordCounselling(
            on=s.day(0),
            topic="phone call: asks for another supply",
            note="Says the capsules were left at a friend's house.",
        )
    )
    return s.patient(
        "Nico Novak",
        "A month's capsules dispensed 10 days ago; asks for more today: an early refill.",
    )


def _mira(today: date, kb: KnowledgeBase) -> DemoPatient:
    """A split-dose regimen (issue 13): at 58 kg Absorica 1 mg/kg/day is 55 mg a day,
    morning 30 mg and evening 25 mg (no two equal Absorica capsules make it)."""
    s = Story(today, "demo-mira", kb)
    s.enrol(-70, "Mira Lindqvist", 27, "male")
    s.weigh(-70, 58)
    s.labs(-65, 105, 21)
    split = regimen_of((30, 25), kb.product("absorica").strengths_mg)
    assert split is not None  # both are Absorica strengths
    s.course(-60, "absorica", dose_mg=27.5, strength_mg=30, months=2, regimen=split)
    s.labs(-32, 130, 24)
    return s.patient("Mira Lindqvist", "Split dose: morning 30 mg, evening 25 mg of Absorica.")
