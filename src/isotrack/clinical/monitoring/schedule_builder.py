"""How the items of a monitoring schedule are made (:mod:`.schedule` and
:mod:`.schedule_labs` use it): :class:`ScheduleBuilder` holds the inputs and the
items so far, and gives each item its status against its window, its stable key
and the sources of its parameters; :class:`Done` is what did an item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from isotrack.clinical.monitoring.schedule_model import ONE_DAY, ItemKind, ItemStatus, ScheduleItem
from isotrack.clinical.snapshot import IsotretinoinCourse, PatientSnapshot
from isotrack.knowledge.base import KnowledgeBase


@dataclass(frozen=True, slots=True)
class Done:
    """What did an item: the day (when known) and the words for it."""

    on: date | None
    by: str


class ScheduleBuilder:
    """The inputs, and the items made so far."""

    def __init__(
        self, snapshot: PatientSnapshot, on: date, kb: KnowledgeBase, course: IsotretinoinCourse
    ) -> None:
        self.snapshot, self.on, self.kb, self.course = snapshot, on, kb, course
        self.items: list[ScheduleItem] = []

    def days(self, parameter_id: str) -> timedelta:
        return timedelta(days=self.kb.number(parameter_id))

    @property
    def last_planned_day(self) -> date:
        """Planned items go up to here: the day before the last dose, or the horizon."""
        if self.course.end is not None:
            return self.course.end - ONE_DAY
        return self.on + self.days("schedule.horizon_days")

    def add(
        self,
        kind: ItemKind,
        anchor: str,
        title: str,
        window: tuple[date, date],
        what_to_do: str,
        parameters: tuple[str, ...],
        done: Done | None = None,
        *,
        baseline: bool = False,
        label: str = "",
    ) -> None:
        start, end = window
        if done is not None and done.on is not None and done.on > end:
            status = ItemStatus.LATE  # only a record inside the window does an item
        elif done is not None:
            status = ItemStatus.DONE
        elif self.on < start:
            status = ItemStatus.UPCOMING
        else:
            status = ItemStatus.DUE if self.on <= end else ItemStatus.OVERDUE
        sources = dict.fromkeys(s for p in parameters for s in self.kb.parameter(p).sources)
        self.items.append(
            ScheduleItem(
                key=f"{self.course.start.isoformat()}/{kind}/{anchor}",
                kind=kind,
                title=title,
                start=start,
                end=end,
                status=status,
                what_to_do=what_to_do,
                done_on=done.on if done else None,
                done_by=done.by if done else "",
                baseline=baseline,
                label=label,
                parameters=parameters,
                sources=tuple(sources),
            )
        )
