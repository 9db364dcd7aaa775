"""CDS Hooks feedback: each card outcome becomes one row of the audit trail.

The service remembers the cards it issued (a bounded in-memory map: card uuid
→ service, rule id, patient id), so a feedback row names the rule and the
patient when the card is known; feedback about a card issued before a restart,
or long ago, is stored all the same, with the rule and patient unknown.

Audit rows: action ``cds-feedback:accepted`` or ``cds-feedback:overridden``;
actor ``ehr:<issuer> <subject>`` (``ehr:unsigned`` in unsigned development
mode); detail: service, card, rule, outcome time, accepted suggestion ids, the
override reason coding and the clinician's comment. The answer says how many
outcomes were recorded (:func:`feedback_answer`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from isotrack.cds.models import FeedbackItem, FeedbackRequest
from isotrack.errors import InvalidInputError
from isotrack.store.audit import FEEDBACK_ACTION_PREFIX
from isotrack.store.hashing import JsonValue
from isotrack.store.unit_of_work import UnitOfWork

RECORDED_EXTENSION = "isotrack-feedback-recorded"
"""The answer's one member: CDS Hooks 2.0.1 defines no feedback answer body and forbids
empty JSON values, so isotrack answers with an ``extension`` (the name the specification
reserves for implementations) saying how many outcomes it recorded."""
MAX_REMEMBERED_CARDS = 100_000
MAX_FEEDBACK_ITEMS = 100
MAX_TEXT = 2_000
"""Characters of a comment, display or id kept in the audit trail; longer is refused."""


@dataclass(frozen=True, slots=True)
class IssuedCard:
    service_id: str
    rule_id: str
    patient_id: str


class IssuedCards:
    """The last :data:`MAX_REMEMBERED_CARDS` cards issued (thread-safe: routes run in threads)."""

    def __init__(self, size: int = MAX_REMEMBERED_CARDS) -> None:
        self.size = size
        self._cards: OrderedDict[str, IssuedCard] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, cards: Iterable[tuple[str, IssuedCard]]) -> None:
        with self._lock:
            for card_uuid, issued in cards:
                self._cards[card_uuid] = issued
            while len(self._cards) > self.size:
                self._cards.popitem(last=False)

    def get(self, card_uuid: str) -> IssuedCard | None:
        with self._lock:
            return self._cards.get(card_uuid)


def check_feedback(feedback: FeedbackRequest) -> None:
    """Refuse (InvalidInputError naming the field) what the audit trail should not hold."""
    if not feedback.feedback:
        raise InvalidInputError("feedback", "holds no outcome")
    if len(feedback.feedback) > MAX_FEEDBACK_ITEMS:
        raise InvalidInputError(
            "feedback",
            f"holds {len(feedback.feedback)} outcomes; send at most {MAX_FEEDBACK_ITEMS}",
        )
    for index, item in enumerate(feedback.feedback):
        where = f"feedback[{index}]"
        texts = [("card", item.card), ("outcomeTimestamp", item.outcome_timestamp)]
        texts += [
            (f"acceptedSuggestions.{n}.id", s.id) for n, s in enumerate(item.accepted_suggestions)
        ]
        reason = item.override_reason
        if reason is not None:
            texts.append(("overrideReason.userComment", reason.user_comment or ""))
            if reason.reason is not None:
                texts += [
                    ("overrideReason.reason.system", reason.reason.system),
                    ("overrideReason.reason.code", reason.reason.code),
                    ("overrideReason.reason.display", reason.reason.display or ""),
                ]
        for name, text in texts:
            if len(text) > MAX_TEXT:
                raise InvalidInputError(f"{where}.{name}", f"longer than {MAX_TEXT} characters")
        if not item.card.strip():
            raise InvalidInputError(f"{where}.card", "is empty: give the uuid of the card")
        if item.outcome == "accepted" and reason is not None:
            raise InvalidInputError(f"{where}.overrideReason", "given with an accepted outcome")


def feedback_answer(recorded: int) -> dict[str, JsonValue]:
    """The body of a feedback answer: ``{"extension": {"isotrack-feedback-recorded": n}}``."""
    return {"extension": {RECORDED_EXTENSION: recorded}}


def record_feedback(
    engine: Engine,
    feedback: FeedbackRequest,
    *,
    service_id: str,
    actor: str,
    issued: IssuedCards,
    now: datetime,
) -> list[int]:
    """Append one audit row per outcome, all in one transaction; returns the row ids."""
    check_feedback(feedback)
    rows: list[int] = []
    with UnitOfWork(engine) as uow:
        for item in feedback.feedback:
            known = issued.get(item.card)
            rows.append(
                uow.audit.append(
                    at=now,
                    actor=actor,
                    action=FEEDBACK_ACTION_PREFIX + item.outcome,
                    patient_id=known.patient_id if known is not None else None,
                    detail=_detail(item, service_id, known),
                )
            )
    return rows


def _detail(item: FeedbackItem, service_id: str, known: IssuedCard | None) -> dict[str, JsonValue]:
    detail: dict[str, JsonValue] = {
        "service": service_id,
        "card": item.card,
        "rule": known.rule_id if known is not None else None,
        "outcome": item.outcome,
        "outcome_timestamp": item.outcome_timestamp,
    }
    if known is not None and known.service_id != service_id:
        detail["issued_by"] = known.service_id
    if item.accepted_suggestions:
        detail["accepted_suggestions"] = [s.id for s in item.accepted_suggestions]
    reason = item.override_reason
    if reason is not None:
        if reason.reason is not None:
            detail["override_reason"] = {
                "system": reason.reason.system,
                "code": reason.reason.code,
                "display": reason.reason.display,
            }
        if reason.user_comment:
            detail["comment"] = reason.user_comment
    return detail
