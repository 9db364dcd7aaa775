"""Identifiers the surfaces issue: a dispensing authorisation's id (the API,
the pharmacy page and ``isotrack ppp authorize`` give the same kind)."""

from __future__ import annotations

import secrets

AUTHORIZATION_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Letters and digits a pharmacist can read aloud (no 0/O, 1/I)."""
AUTHORIZATION_ID_LENGTH = 10


def new_authorization_id() -> str:
    """'PA-7KQ2MX9RTD': random, short enough to read over the phone."""
    body = "".join(
        secrets.choice(AUTHORIZATION_ID_ALPHABET) for _ in range(AUTHORIZATION_ID_LENGTH)
    )
    return f"PA-{body}"
