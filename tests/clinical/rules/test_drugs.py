from __future__ import annotations

from isotrack.clinical.screening import screen_order
from isotrack.clinical.snapshot import MedicationRecord
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, order, rx


def test_active_doxycycline_fires_tetracycline(kb: KnowledgeBase) -> None:
    doxy = MedicationRecord(rx("1652673", "Doxycycline Monohydrate 50 MG Oral Tablet"), "active")
    result = screen_order(man(medications=(doxy,)), order(), on=TODAY, kb=kb)
    assert result.has("TETRACYCLINE")
    assert result.findings[0].severity.label == "critical"


def test_stopped_doxycycline_does_not_fire(kb: KnowledgeBase) -> None:
    doxy = MedicationRecord(rx("1652673", "Doxycycline Monohydrate 50 MG Oral Tablet"), "stopped")
    result = screen_order(man(medications=(doxy,)), order(), on=TODAY, kb=kb)
    assert not result.has("TETRACYCLINE")
