"""SUPPLY-ON-HAND at the record: a prescription, a dispensing authorisation or a
dispense while the isotretinoin already dispensed still covers more than the
clinic's limit (``ppp.supply_on_hand_max_days``) is refused unless a clinician
recorded the decision to go ahead (``RecordOverride`` of SUPPLY-ON-HAND with its
reason) knowing of that supply: on or after the latest dispense counted, and no
later than the command. One decision covers the prescription, its authorisation
and its dispense; the next early supply needs a new one. Every surface stores
through the record, so none lets an early or overlapping refill through unseen.

The supply of the prescription an authorisation or a dispense is for is not
counted against it: the rest of one prescription is not an early refill. A
dispense whose days supplied are unknown is refused the same way (the record
always knows them; imported data may not).
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.record.snapshot import supplies_of
from isotrack.clinical.screening import SupplyOnHand, supply_on_hand
from isotrack.clinical.state import (
    AnyCommand,
    Dispense,
    Override,
    PatientRecord,
    Prescribe,
    RecordAuthorization,
    command_type,
)
from isotrack.errors import CommandRejected
from isotrack.knowledge.base import KnowledgeBase

RULE = "SUPPLY-ON-HAND"


def supply_before(
    record: PatientRecord, command: AnyCommand, kb: KnowledgeBase
) -> SupplyOnHand | None:
    """The supply on hand a Prescribe, RecordAuthorization or Dispense meets on its day
    when it is over the clinic's limit (or not known), else None."""
    match command:
        case Prescribe():
            exclude = None
        case RecordAuthorization() | Dispense():
            exclude = command.prescription_id
        case _:
            return None
    limit = kb.number("ppp.supply_on_hand_max_days")
    found = supply_on_hand(
        supplies_of(record, on=command.on),
        command.on,
        longest_days=kb.number("ppp.max_supply_days"),
        limit=limit,
        exclude_prescription=exclude,
    )
    return found if found.over(limit) or found.unknown else None


def decision(record: PatientRecord, found: SupplyOnHand) -> Override | None:
    """The latest override of SUPPLY-ON-HAND made knowing of the supply ``found``: dated
    on or after its latest dispense and not after ``found.on``."""
    latest = max((s.on for s in (*found.counted, *found.unknown)), default=found.on)
    made = [o for o in record.overrides if o.rule_id == RULE and latest <= o.on <= found.on]
    return made[-1] if made else None


def early_supply(
    record: PatientRecord, prescription_id: str, *, on: date, kb: KnowledgeBase
) -> tuple[SupplyOnHand, Override | None] | None:
    """For an authorisation or a dispense of ``prescription_id`` on ``on``: the supply on
    hand when it is over the clinic's limit (or not known), with the clinician's decision
    to go ahead if one was recorded; None when the supply is no reason to wait."""
    probe = Dispense(on=on, prescription_id=prescription_id, quantity=1)
    found = supply_before(record, probe, kb)
    return None if found is None else (found, decision(record, found))


def check_supply_on_hand(record: PatientRecord, command: AnyCommand, kb: KnowledgeBase) -> None:
    """Raise CommandRejected for an early or overlapping supply without a decision."""
    found = supply_before(record, command, kb)
    if found is None or decision(record, found) is not None:
        return
    limit = kb.number("ppp.supply_on_hand_max_days")
    if found.over(limit):
        left = (
            f"the isotretinoin already dispensed still covers {found.days:.1f}".removesuffix(".0")
            + f" days (up to {found.last_covered_day}), more than the clinic's limit of "
            f"{limit:g}: wait until {found.due_on(limit)}"
        )
    else:
        dates = ", ".join(s.on.isoformat() for s in found.unknown)
        left = f"the days supplied by the dispense of {dates} are not recorded: find out"
    raise CommandRejected(
        "supply",
        f"{RULE}: {command_type(command)} on {command.on}: {left}, or record why an early "
        f"supply is needed (an override of {RULE}) first",
    )
