"""Each dispensing authorisation is used once.

A dispense may name the authorisation it is made under (the id a scanned or
pasted token carries). :func:`check_authorization_use` refuses it when that
authorisation is not recorded in the course, is for another prescription, is not
in force on the dispense's day (before it was issued, after its
do-not-dispense-after date), was already used by a dispense (saying when, how
many capsules and by whom), or allows fewer capsules than asked. A dispense that
names none uses the one in force (:func:`~.dispense.valid_authorization`, which
skips used ones), so no path dispenses twice under one authorisation.

The record's log is appended one command at a time under optimistic locking, so
two pharmacies scanning the same code at once cannot both succeed: the second
append conflicts, and checked again it meets the first dispense.
"""

from __future__ import annotations

from isotrack.clinical.programme.dispense import capsules_left, first_use, used_text
from isotrack.clinical.state import AuthorizationState, CourseState, Dispense
from isotrack.errors import CommandRejected


def check_authorization_use(course: CourseState, command: Dispense) -> AuthorizationState:
    """The authorisation the dispense names, when it may be used for it; CommandRejected
    (field ``authorization_id`` or ``quantity``) saying why not otherwise."""
    wanted = command.authorization_id
    authorization = next((a for a in course.authorizations if a.id == wanted), None)
    if authorization is None:
        raise CommandRejected(
            "authorization_id",
            f"no authorisation {wanted!r} is recorded in course {course.course_id}: "
            "check the code, or ask the prescriber for a new authorisation",
        )
    if authorization.prescription_id != command.prescription_id:
        raise CommandRejected(
            "authorization_id",
            f"authorisation {wanted} is for prescription {authorization.prescription_id}, "
            f"not {command.prescription_id}: dispense {authorization.prescription_id}",
        )
    used = first_use(course, wanted)
    if used is not None:
        raise CommandRejected(
            "authorization_id",
            f"authorisation {wanted} was already dispensed {used_text(used)}: each "
            "authorisation is used once; do not dispense again, ask the prescriber",
        )
    if not authorization.on <= command.on <= authorization.not_after:
        raise CommandRejected(
            "authorization_id",
            f"authorisation {wanted} is in force from {authorization.on} to "
            f"{authorization.not_after}, not on {command.on}: do not dispense; it needs a "
            "new authorisation",
        )
    left = capsules_left(course, authorization, command.on)
    if command.quantity > left:
        raise CommandRejected(
            "quantity",
            f"{command.quantity} capsules is more than the {left} authorisation {wanted} "
            f"allows: dispense at most {left}",
        )
    return authorization
