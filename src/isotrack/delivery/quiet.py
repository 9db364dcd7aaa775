"""Quiet hours and the send hour, in the recipient's time zone.

>>> from datetime import UTC, datetime
>>> hours = QuietHours(start=21, end=8)
>>> hours.until(datetime(2026, 3, 2, 22, 30, tzinfo=UTC), "UTC")
datetime.datetime(2026, 3, 3, 8, 0, tzinfo=datetime.timezone.utc)
>>> hours.until(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), "UTC") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; InvalidInputError when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError("time zone", f"{name!r} is not an IANA time zone") from None


def local_day(now: datetime, time_zone: str) -> date:
    """The recipient's today at ``now``."""
    return now.astimezone(zone(time_zone)).date()


def local_time(day: date, hour: int, time_zone: str) -> datetime:
    """``hour``:00 of ``day`` in the zone, in UTC."""
    return datetime.combine(day, time(hour), tzinfo=zone(time_zone)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From ``start``:00 to ``end``:00 local time (over midnight when start > end)."""

    start: int
    end: int

    @classmethod
    def of(cls, kb: KnowledgeBase) -> QuietHours:
        return cls(
            int(kb.number("reminders.quiet_start_hour")), int(kb.number("reminders.quiet_end_hour"))
        )

    def _quiet(self, hour: int) -> bool:
        if self.start > self.end:
            return hour >= self.start or hour < self.end
        return self.start <= hour < self.end

    def until(self, now: datetime, time_zone: str) -> datetime | None:
        """When the quiet hours around ``now`` end (UTC); None outside them."""
        local = now.astimezone(zone(time_zone))
        if not self._quiet(local.hour):
            return None
        day = local.date() + timedelta(days=1) if local.hour >= self.end else local.date()
        if self.start <= self.end:
            day = local.date()
        return local_time(day, self.end, time_zone)
