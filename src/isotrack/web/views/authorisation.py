"""The dispensing authorisation a patient carries: what the printable card on the
patient's home page shows, and its QR code.

:func:`authorisation_card` finds the authorisation in force today and not yet used
(:func:`isotrack.clinical.programme.programme_status`), signs its token with the
clinic's active key and draws the token as a QR code: SVG made by ``segno`` and
put inline in the page (no request leaves it, the CSP allows nothing else). No
authorisation in force, or one already used: no card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

import segno
from markupsafe import Markup
from sqlalchemy import Engine

from isotrack.clinical.programme import Authorization, programme_status
from isotrack.clinical.state import PatientRecord
from isotrack.errors import NotFoundError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.ppp_records import prescriber_of, signed_token

QR_ERROR_LEVEL = "m"
"""Medium error correction (15 %): a creased or smudged printout still reads."""
QR_SCALE = 4
"""Units per module of the drawing (the page sets its size: 24rem on screen, 7 cm on paper)."""


@dataclass(frozen=True, slots=True)
class AuthorisationCard:
    authorization: Authorization
    product_name: str
    token: str
    qr_svg: Markup
    qr_version: int


def qr_svg(token: str) -> tuple[Markup, int]:
    """The token as an inline SVG QR code (with a title for screen readers), and its
    QR version."""
    code = segno.make(token, error=QR_ERROR_LEVEL, micro=False)
    svg = code.svg_inline(
        scale=QR_SCALE, border=4, omitsize=True, title="QR code of the authorisation"
    )
    svg = re.sub(r"^<svg ", '<svg role="img" aria-label="QR code of the authorisation" ', svg)
    return Markup(svg), int(code.version)  # noqa: S704  # segno's own SVG, no user markup


def product_name(kb: KnowledgeBase, product_id: str) -> str:
    try:
        return kb.product(product_id).name
    except NotFoundError:
        return product_id


def authorisation_card(
    engine: Engine, record: PatientRecord, kb: KnowledgeBase, *, now: datetime, actor: str
) -> AuthorisationCard | None:
    """The card of the authorisation in force today, or None."""
    found = programme_status(record, on=now.date(), kb=kb).authorization
    if found is None:
        return None
    prescriber = prescriber_of(engine, record.patient_id, found.prescription_id)
    authorization = replace(found, prescriber=prescriber)
    token = signed_token(engine, authorization, now=now, actor=actor)
    svg, version = qr_svg(token)
    return AuthorisationCard(authorization, product_name(kb, found.product), token, svg, version)
