"""IUDs and implants recorded as devices: Device, DeviceUseStatement, and the
Device a Procedure inserted (``Procedure.focalDevice``).

A Device says *what* is in place (its ``type`` or name, matched like any
medication through :func:`~isotrack.clinical.screening.method_for`), not
since when. The date comes from a DeviceUseStatement about it (``timing[x]``,
else ``recordedOn``: it was in place then) or from the Procedure that inserted
it. From that date the device counts for its labelled duration
(:func:`~isotrack.clinical.screening.contraception.protected_until`) unless the statement
says its use ended. A Device that is active but has no date is in use from an
unknown day: it is listed, and a note says it cannot prove the weeks before.
An inactive or entered-in-error Device, or a statement entered in error or
only intended, is no use.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from isotrack.clinical.codes import Concept
from isotrack.clinical.screening import method_for, removal_for
from isotrack.clinical.screening.contraception import product_for, protected_until
from isotrack.clinical.snapshot import ContraceptionUse
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.resources import Device, DeviceUseStatement, Procedure
from isotrack.fhir.values import concept, fhir_date, period_end, period_start, refusing_impossible
from isotrack.knowledge.base import KnowledgeBase

DEVICE_IN_PLACE = frozenset({"active"})
STATEMENT_IN_USE = frozenset({"active", "on-hold"})
STATEMENT_ENDED = frozenset({"completed", "stopped"})
PROCEDURE_DONE = frozenset({"completed"})


def device_concept(device: Device) -> Concept:
    """The Device's type, with its names as text when the type has none."""
    found = concept(device.type)
    names = [n.name for n in device.device_name if n.name]
    if not names or found.text:
        return found
    return Concept(found.codings, "; ".join(names))


def contraception_from_devices(
    bundle: FhirBundle,
    devices: Iterable[Device],
    statements: Iterable[DeviceUseStatement],
    procedures: Iterable[Procedure],
    kb: KnowledgeBase,
    notes: list[str],
) -> list[ContraceptionUse]:
    """The contraceptive devices of the patient as uses (see the module doc)."""
    uses: list[ContraceptionUse] = []
    dated: set[int] = set()
    for statement in statements:
        device = bundle.resolve(statement.device)
        if not isinstance(device, Device):
            continue
        use = _from_statement(statement, device, kb)
        if use is not None:
            uses.append(use)
            dated.add(id(device))
    for procedure, device, performed in _inserted(bundle, procedures, kb):
        found = method_for(device_concept(device), kb)
        if found is not None and device.status not in ("entered-in-error",):
            label = f"Device/{device.id} (Procedure/{procedure.id})"
            end = _protected(found[0], device, performed, kb)
            uses.append(ContraceptionUse(found[0], performed, end, label, found[1]))
            dated.add(id(device))
    for device in devices:
        if id(device) in dated or device.status not in DEVICE_IN_PLACE:
            continue
        found = method_for(device_concept(device), kb)
        if found is None:
            continue
        label = f"Device/{device.id}"
        uses.append(ContraceptionUse(found[0], None, None, label, found[1]))
        notes.append(
            f"{label} ({device_concept(device).label}) is in place but no insertion date "
            "is recorded (no DeviceUseStatement or Procedure for it): it cannot show the "
            "weeks of contraception the programme needs"
        )
    return uses


def _from_statement(
    statement: DeviceUseStatement, device: Device, kb: KnowledgeBase
) -> ContraceptionUse | None:
    if statement.status not in STATEMENT_IN_USE | STATEMENT_ENDED:
        return None
    found = method_for(device_concept(device), kb)
    if found is None:
        return None
    label = f"DeviceUseStatement/{statement.id}"
    start = period_start(statement.timing_period, f"{label} timingPeriod") or fhir_date(
        statement.timing_date_time or statement.recorded_on, f"{label} timing"
    )
    if start is None:
        return None
    end = _protected(found[0], device, start, kb)
    if statement.status in STATEMENT_ENDED:
        stopped = period_end(statement.timing_period, f"{label} timingPeriod") or start
        end = stopped if end is None else min(end, stopped)
    with refusing_impossible(label, "timing"):
        return ContraceptionUse(found[0], start, end, label, found[1])


def _protected(method_id: str, device: Device, start: date, kb: KnowledgeBase) -> date | None:
    product = product_for(device_concept(device), method_id, kb)
    return protected_until(method_id, product, start, kb)


def _inserted(
    bundle: FhirBundle, procedures: Iterable[Procedure], kb: KnowledgeBase
) -> Iterable[tuple[Procedure, Device, date]]:
    """(procedure, device, day) for each Device a completed, dated Procedure that is
    no removal handled (``focalDevice.manipulated``): the insertion day of that device."""
    for procedure in procedures:
        if procedure.status not in PROCEDURE_DONE or not procedure.focal_device:
            continue
        if removal_for(concept(procedure.code), kb):
            continue
        label = f"Procedure/{procedure.id}"
        performed = fhir_date(procedure.performed_date_time, f"{label} performedDateTime")
        performed = performed or period_start(procedure.performed_period, f"{label} performed")
        if performed is None:
            continue
        for focal in procedure.focal_device:
            device = bundle.resolve(focal.manipulated)
            if isinstance(device, Device):
                yield procedure, device, performed
