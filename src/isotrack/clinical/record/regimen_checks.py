"""Whether a prescription or a dispense matches a regimen the capsules can take
(DOSE-NOT-TAKEABLE, facts.md §1–2).

A ``Prescribe`` with a regimen must use only the product's strengths, and its
single-dose fields must say the same as the regimen (times a day, daily dose,
capsules for the days of supply). One without a regimen must give a dose that
a whole number of ``strength_mg`` capsules makes; otherwise it is refused with
the nearest takeable regimens. A ``Dispense`` of a prescription whose regimen
has several strengths hands out whole days of it, so that the capsules of
each strength match the regimen.
"""

from __future__ import annotations

from fractions import Fraction

from isotrack.clinical.dosing import Regimen, nearest_for_product, regimen_of
from isotrack.clinical.state import PatientRecord, Prescribe, PrescriptionState
from isotrack.clinical.units import exact
from isotrack.errors import CommandRejected
from isotrack.knowledge.model import Product

MEAN_ROUNDING_MG = Fraction(1, 1000)
"""How far ``dose_mg × times_per_day`` may be from the regimen's daily dose: the mean
dose of unequal administrations is a float (80 mg in 3 is 26.666… mg). Not clinical."""


def prescribed_regimen(command: Prescribe) -> Regimen | None:
    """The regimen of a prescription: its own, or ``dose_mg`` of ``strength_mg``
    capsules ``times_per_day`` times (None when no whole number of capsules makes it)."""
    if command.regimen is not None:
        return command.regimen
    return regimen_of((command.dose_mg,) * command.times_per_day, (command.strength_mg,))


def check_takeable(record: PatientRecord, command: Prescribe, product: Product) -> None:
    """Refuse a prescription whose doses its capsules cannot make (see the module
    docstring), naming the nearest takeable regimens."""
    regimen = command.regimen
    if regimen is None:
        if prescribed_regimen(command) is None:
            raise CommandRejected(
                "dose_mg",
                f"{command.dose_mg:g} mg cannot be made from {command.strength_mg:g} mg "
                f"capsules (DOSE-NOT-TAKEABLE): " + _nearest(record, command, product),
            )
        return
    strange = sorted(regimen.strengths_used - set(product.strengths_mg))
    if strange:
        strengths = ", ".join(f"{s:g}" for s in product.strengths_mg)
        raise CommandRejected(
            "regimen",
            f"{', '.join(f'{s:g}' for s in strange)} mg is not a capsule strength of "
            f"{product.name} (DOSE-NOT-TAKEABLE): use {strengths} mg",
        )
    daily = exact(command.dose_mg) * command.times_per_day
    wanted = regimen.capsule_count * command.supply_days
    if (
        command.times_per_day != regimen.times_per_day
        or abs(daily - exact(regimen.total_mg)) > MEAN_ROUNDING_MG
        or command.quantity != wanted
    ):
        raise CommandRejected(
            "quantity",
            f"the prescription does not match its regimen {regimen.describe()} "
            f"(DOSE-NOT-TAKEABLE): {command.supply_days} days of it are "
            + " and ".join(f"{n} × {s:g} mg" for s, n in regimen.quantities(command.supply_days))
            + f" = {wanted} capsules, {regimen.total_mg:g} mg a day",
        )


def _nearest(record: PatientRecord, command: Prescribe, product: Product) -> str:
    weight = record.weight_on(command.on)
    found = nearest_for_product(
        float(exact(command.dose_mg) * command.times_per_day),
        command.times_per_day,
        (command.strength_mg,),
        product,
        weight.kg if weight is not None else None,
    )
    if not found:
        return "no capsule combination of the product comes near it"
    return "prescribe one of " + "; ".join(r.describe() for r in found)


def check_dispensed_capsules(prescription: PrescriptionState, quantity: int) -> None:
    """Refuse a dispense of a prescription whose dose its capsules cannot make (one
    recorded before regimens), or one that is not whole days of a regimen of several
    strengths."""
    regimen = prescription.regimen
    if regimen is None:
        raise CommandRejected(
            "prescription_id",
            f"prescription {prescription.id} gives {prescription.dose_mg:g} mg of "
            f"{prescription.strength_mg:g} mg capsules, which no whole number of capsules "
            "makes (DOSE-NOT-TAKEABLE): write a new prescription of a takeable regimen",
        )
    if prescription.capsules_by_strength(quantity) is not None:
        return
    per_day = " and ".join(f"{n} × {s:g} mg" for s, n in regimen.capsules_per_day())
    raise CommandRejected(
        "quantity",
        f"{quantity} capsules are not whole days of {regimen.describe()} "
        f"(DOSE-NOT-TAKEABLE): dispense a multiple of {regimen.capsule_count} capsules a day "
        f"({per_day})",
    )
