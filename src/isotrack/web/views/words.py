"""Plain words for pages: the engine's texts without the identifiers meant for API
and CLI users.

Requirement and refusal texts name the command that would satisfy them, e.g.
"counselling recorded (RecordCounselling) on or before 2026-03-02", so that an
API user knows what to send. A page says what to do in words instead: :func:`plain`
drops every parenthesised command type name. Templates use it as the ``plain``
filter (registered in :mod:`isotrack.web.templating`).
"""

from __future__ import annotations

import re

from isotrack.clinical.state import COMMAND_TYPES

_COMMAND_NOTE = re.compile(
    r" \((?:" + "|".join(sorted(COMMAND_TYPES, key=len, reverse=True)) + r")\b[^()]*\)"
)


def plain(text: str) -> str:
    """``text`` without the parenthesised command names.

    >>> plain("counselling recorded (RecordCounselling) on or before 2026-03-02")
    'counselling recorded on or before 2026-03-02'
    >>> plain("a new prescription (Prescribe): rx2 is used up")
    'a new prescription: rx2 is used up'
    >>> plain("course c1 resumed (ResumeCourse); it is paused since 2026-02-20")
    'course c1 resumed; it is paused since 2026-02-20'
    """
    return _COMMAND_NOTE.sub("", text)
