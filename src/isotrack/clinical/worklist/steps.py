"""The clinicians' steps on a worklist item in plain words (the record's history)."""

from __future__ import annotations

from isotrack.clinical.state import AcknowledgeWorkItem, AssignWorkItem, ResolveWorkItem

WORK_STEPS = (AssignWorkItem, AcknowledgeWorkItem, ResolveWorkItem)
"""The commands that record a clinician's step on a worklist item."""

_ITEM_WORDS = {
    "symptoms": "symptom report",
    "late-period": "late period report",
    "mood": "mood questionnaire",
    "home-test": "home pregnancy test",
    "contraception": "stopped contraception",
    "test-window": "test window",
    "dispense": "blocked dispense",
}


def item_words(item_id: str) -> str:
    """'symptoms-3' → 'symptom report no. 3'; 'test-window-…' → 'test window'."""
    for prefix, words in _ITEM_WORDS.items():
        if item_id.startswith(prefix + "-"):
            rest = item_id.removeprefix(prefix + "-")
            return f"{words} no. {rest}" if rest.isdigit() else words
    return item_id


def describe_step(command: AssignWorkItem | AcknowledgeWorkItem | ResolveWorkItem) -> str:
    """'Worklist: symptom report no. 1 acknowledged (called the patient)'."""
    what = item_words(command.item)
    if isinstance(command, AssignWorkItem):
        return f"Worklist: {what} assigned to {command.assignee}"
    done = "acknowledged" if isinstance(command, AcknowledgeWorkItem) else "resolved"
    return f"Worklist: {what} {done}" + (f" ({command.note})" if command.note else "")
