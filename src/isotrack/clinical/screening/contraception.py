"""Contraception: which method a coded record is, and whether a patient's
methods meet the pregnancy prevention programme (facts.md §7).

- :func:`method_for` names the knowledge-base method a medication or procedure
  concept stands for (the FHIR reader builds ``ContraceptionUse`` from it);
  :func:`removal_for` names the methods a removal procedure ends (both live in
  :mod:`isotrack.clinical.screening.contraception_methods` and are re-exported here).
- :func:`contraception_status` lists the methods in use on a day with their
  programme class and says whether the programme's requirement is documented
  for the ``ppp.contraception_before_days`` days up to that day.

A method's value sets whose id ends in ``-removal`` list the procedures that
end it. Methods that share such a value set are one device: an IUD order and
an IUD insertion procedure a few days apart count once, never as two methods.

>>> from datetime import date
>>> from isotrack.knowledge import default_knowledge
>>> from isotrack.clinical.snapshot import ContraceptionUse, PatientSnapshot, Sex
>>> kb = default_knowledge()
>>> implant = ContraceptionUse("implant-etonogestrel", start=date(2019, 1, 2))
>>> snap = PatientSnapshot("p1", sex=Sex.FEMALE, contraception=(implant,))
>>> status = contraception_status(snap, date(2020, 5, 1), kb)
>>> [m.name for m in status.primary_methods], status.met
(['etonogestrel implant'], False)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from isotrack.clinical.screening.contraception_methods import REMOVAL_SUFFIX as REMOVAL_SUFFIX
from isotrack.clinical.screening.contraception_methods import method_for as method_for
from isotrack.clinical.screening.contraception_methods import product_for as product_for
from isotrack.clinical.screening.contraception_methods import protected_until as protected_until
from isotrack.clinical.screening.contraception_methods import removal_for as removal_for
from isotrack.clinical.screening.contraception_methods import removals_of
from isotrack.clinical.snapshot import ContraceptionUse, PatientSnapshot
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import ContraceptionMethod, Programme

ABSTINENCE = "abstinence"
"""Knowledge-base id of committed abstinence: under iPLEDGE it is the whole requirement."""

_US_RANK = {"primary": 0, "secondary": 1, "not-acceptable": 2}
_EU_RANK = {"highly-effective-user-independent": 0, "user-dependent": 1, "not-acceptable": 2}
_ONE_DAY = timedelta(days=1)
_CLASS_LABELS = {
    "not-acceptable": "not acceptable",
    "highly-effective-user-independent": "highly effective, user-independent",
}


@dataclass(frozen=True, slots=True)
class MethodInUse:
    """One method in use on the evaluation date, as the programme counts it."""

    method: ContraceptionMethod
    since: date | None
    """Start of the uninterrupted use that includes the evaluation date; None if unknown."""
    covers_window: bool
    """True when this method (or the same device recorded another way) is documented
    for the whole window before the evaluation date."""
    programme_class: str
    by_text: bool = False

    @property
    def name(self) -> str:
        return self.method.name

    def describe(self) -> str:
        """'etonogestrel implant (primary) since 2019-01-02'."""
        label = _CLASS_LABELS.get(self.programme_class, self.programme_class)
        text = f"{self.method.name} ({label})"
        text += f" since {self.since.isoformat()}" if self.since else " (start date unknown)"
        if self.by_text:
            text += " [recognised by name only, no matching code]"
        return text


@dataclass(frozen=True, slots=True)
class ContraceptionStatus:
    """The contraception documented for a patient on one day, under one programme."""

    programme: Programme
    on: date
    window_start: date
    """The requirement must be documented from this day to ``on``."""
    methods: tuple[MethodInUse, ...]
    met: bool
    reason: str
    abstinence: bool = False

    @property
    def primary_methods(self) -> tuple[MethodInUse, ...]:
        """Methods in use that iPLEDGE counts as primary (whatever the programme)."""
        return tuple(
            m for m in self.methods if m.method.us_class == "primary" and m.method.id != ABSTINENCE
        )

    @property
    def highly_effective_methods(self) -> tuple[MethodInUse, ...]:
        """Methods in use that the EU PPP counts as highly effective, user-independent."""
        return tuple(
            m for m in self.methods if m.method.eu_class == "highly-effective-user-independent"
        )

    @property
    def hormonal_methods(self) -> tuple[MethodInUse, ...]:
        return tuple(m for m in self.methods if m.method.hormonal)

    def uses(self, method_id: str) -> bool:
        return any(m.method.id == method_id for m in self.methods)

    def describe(self) -> str:
        """One line for display: the methods, then whether the requirement is met."""
        listed = "; ".join(m.describe() for m in self.methods) or "none documented"
        if self.abstinence:
            listed = "committed abstinence" + ("; " + listed if self.methods else "")
        verdict = "requirement met" if self.met else "requirement not met"
        return f"{listed}; {verdict}: {self.reason}"


def contraception_status(
    snapshot: PatientSnapshot, on: date, kb: KnowledgeBase, programme_id: str | None = None
) -> ContraceptionStatus:
    """What contraception is documented on ``on`` and whether it meets the
    programme (default: parameter ``ppp.default_programme``) for the
    ``ppp.contraception_before_days`` days up to ``on``.

    Records with an unknown start date never prove the period; an implant or
    IUD whose insertion date is known counts until a removal is recorded, or
    until the end its use was given (the FHIR reader ends a long-acting method at
    its product's labelled duration, :func:`protected_until`).
    """
    programme = kb.programme(programme_id or kb.text("ppp.default_programme"))
    window_start = on - timedelta(days=kb.number("ppp.contraception_before_days"))
    recorded = [*snapshot.contraception, *_uses_from_conditions(snapshot, on, kb)]
    uses = _apply_removals(recorded, snapshot, on, kb)
    uses = [u for u in uses if u.start is None or u.start <= on]
    methods = _methods_in_use(uses, on, window_start, programme, kb)
    if programme.contraception_rule == "us-two-methods":
        met, reason, abstinence = _us_requirement(snapshot, methods, window_start, kb)
    else:
        met, reason = _eu_requirement(methods, window_start, kb)
        abstinence = False
    return ContraceptionStatus(programme, on, window_start, methods, met, reason, abstinence)


def _uses_from_conditions(
    snapshot: PatientSnapshot, on: date, kb: KnowledgeBase
) -> list[ContraceptionUse]:
    """Methods recorded as a status condition (e.g. "History of tubal ligation")."""
    uses = []
    for condition in snapshot.conditions:
        found = method_for(condition.concept, kb) if condition.ever_on(on) else None
        if found is not None:
            uses.append(
                ContraceptionUse(
                    found[0], start=condition.onset, source=condition.source, by_text=found[1]
                )
            )
    return uses


def _apply_removals(
    uses: list[ContraceptionUse], snapshot: PatientSnapshot, on: date, kb: KnowledgeBase
) -> list[ContraceptionUse]:
    """End each use at the first dated removal procedure of its device after its start
    (a use with an unknown start is ended by any removal: it cannot be shown to be later)."""
    removals: list[tuple[date, tuple[str, ...]]] = []
    for procedure in snapshot.procedures:
        if procedure.performed is not None and procedure.done_by(on):
            ended = removal_for(procedure.concept, kb)
            if ended:
                removals.append((procedure.performed, ended))
    result = []
    for use in uses:
        end = use.end
        for day, ended in sorted(removals):
            later = use.start is None or use.start < day
            if use.method in ended and later and (end is None or day < end):
                end = day
        result.append(replace(use, end=end) if end != use.end else use)
    return result


def _device_key(method: ContraceptionMethod) -> str:
    removals = removals_of(method)
    return removals[0] if removals else method.id


def _run_start(intervals: Iterable[tuple[date, date | None]], on: date) -> date | None:
    """Start of the merged run of intervals (an open end runs to ``on``) that
    reaches ``on``; None when none does."""
    runs: list[tuple[date, date]] = []
    for start, end in sorted(intervals, key=lambda i: i[0]):
        if start > on:
            continue
        stop = on if end is None else min(end, on)
        if runs and start <= runs[-1][1] + _ONE_DAY:
            runs[-1] = (runs[-1][0], max(runs[-1][1], stop))
        else:
            runs.append((start, stop))
    return next((start for start, stop in runs if stop >= on), None)


def _methods_in_use(
    uses: list[ContraceptionUse],
    on: date,
    window_start: date,
    programme: Programme,
    kb: KnowledgeBase,
) -> tuple[MethodInUse, ...]:
    in_effect = [u for u in uses if u.end is None or u.end >= on]
    by_device: dict[str, list[tuple[date, date | None]]] = {}
    for use in uses:
        if use.start is not None:
            key = _device_key(kb.contraception_method(use.method))
            by_device.setdefault(key, []).append((use.start, use.end))
    found: dict[str, MethodInUse] = {}
    for method_id in dict.fromkeys(u.method for u in in_effect):
        method = kb.contraception_method(method_id)
        own = [u for u in in_effect if u.method == method_id]
        known = [(u.start, u.end) for u in uses if u.method == method_id and u.start is not None]
        device_start = _run_start(by_device.get(_device_key(method), []), on)
        us_region = programme.contraception_rule == "us-two-methods"
        found[method_id] = MethodInUse(
            method=method,
            since=_run_start(known, on),
            covers_window=device_start is not None and device_start <= window_start,
            programme_class=method.us_class if us_region else method.eu_class,
            by_text=all(u.by_text for u in own),
        )
    return tuple(sorted(found.values(), key=lambda m: (_rank(m, programme), m.method.id)))


def _rank(method: MethodInUse, programme: Programme) -> int:
    ranks = _US_RANK if programme.contraception_rule == "us-two-methods" else _EU_RANK
    return ranks[method.programme_class]


def _devices(methods: Iterable[MethodInUse]) -> dict[str, list[MethodInUse]]:
    """Counted methods covering the window, grouped so that one device counts once."""
    devices: dict[str, list[MethodInUse]] = {}
    for method in methods:
        if method.covers_window and method.programme_class != "not-acceptable":
            devices.setdefault(_device_key(method.method), []).append(method)
    return devices


def _names(methods: Iterable[MethodInUse]) -> str:
    return ", ".join(m.describe() for m in methods)


def _shortfall(methods: tuple[MethodInUse, ...]) -> str:
    """What is documented but does not count, for the reason text."""
    parts = []
    short = [m for m in methods if not m.covers_window and m.programme_class != "not-acceptable"]
    if short:
        parts.append(f"not documented for the whole period: {_names(short)}")
    refused = [m for m in methods if m.programme_class == "not-acceptable"]
    if refused:
        parts.append(f"not acceptable under this programme: {_names(refused)}")
    return "; ".join(parts)


def _us_requirement(
    snapshot: PatientSnapshot,
    methods: tuple[MethodInUse, ...],
    window_start: date,
    kb: KnowledgeBase,
) -> tuple[bool, str, bool]:
    since = window_start.isoformat()
    abstinence = snapshot.committed_abstinence or any(
        m.method.id == ABSTINENCE and m.covers_window for m in methods
    )
    if abstinence:
        return True, "committed abstinence is recorded (iPLEDGE accepts it alone)", True
    counted = [m for m in methods if m.method.id != ABSTINENCE]
    devices = _devices(counted)
    needed = int(kb.number("ppp.us_methods_required"))
    primary = [d for d in devices.values() if any(m.programme_class == "primary" for m in d)]
    rule = (
        f"US programme needs {needed} methods at the same time (at least one primary) "
        f"or committed abstinence, documented since {since}"
    )
    covering = [group[0] for group in devices.values()]
    if len(devices) >= needed and primary:
        return True, f"{_names(covering)} documented since {since}", False
    if not methods:
        return False, f"no contraception is documented; {rule}", False
    parts = [rule]
    if covering:
        which = "none is primary" if not primary else f"only {len(devices)} counts"
        parts.append(f"{which}: {_names(covering)}")
    shortfall = _shortfall(tuple(counted))
    if shortfall:
        parts.append(shortfall)
    return False, "; ".join(parts), False


def _eu_requirement(
    methods: tuple[MethodInUse, ...], window_start: date, kb: KnowledgeBase
) -> tuple[bool, str]:
    since = window_start.isoformat()
    devices = _devices(methods)
    effective = [
        d[0]
        for d in devices.values()
        if any(m.programme_class == "highly-effective-user-independent" for m in d)
    ]
    if effective:
        return True, f"{_names(effective)} documented since {since}"
    dependent = [d[0] for d in devices.values()]
    needed = int(kb.number("ppp.eu_user_dependent_methods_required"))
    complementary = any(m.method.hormonal for m in dependent) and any(
        not m.method.hormonal for m in dependent
    )
    if len(dependent) >= needed and complementary:
        return True, f"{_names(dependent)} documented since {since}"
    rule = (
        "EU programme needs one highly effective user-independent method, or "
        f"{needed} complementary user-dependent methods (one hormonal, one barrier), "
        f"documented since {since}"
    )
    if not methods:
        return False, f"no contraception is documented; {rule}"
    parts = [rule]
    if dependent:
        parts.append(f"documented: {_names(dependent)}")
    shortfall = _shortfall(methods)
    if shortfall:
        parts.append(shortfall)
    return False, "; ".join(parts)
