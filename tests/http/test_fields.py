"""Instants in answers: written in the calendar's zone with the offset of their own date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pydantic import BaseModel

from callrouter.calendar.windows import PARIS
from callrouter.http.fields import TIMEZONE, Instant


class _Answer(BaseModel):
    at: Instant


def _written(at: datetime, zone: object) -> str:
    text: str = _Answer(at=at).model_dump(mode="json", context={TIMEZONE: zone})["at"]
    return text


def test_an_instant_is_written_in_the_calendar_zone_whatever_zone_it_came_in() -> None:
    winter = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    summer = datetime(2025, 3, 31, 8, 0, tzinfo=UTC)  # the day after the DST change
    for _ in range(2):  # written again, from what was remembered, the same
        assert _written(winter, PARIS) == "2025-03-10T10:00:00+01:00"
        assert _written(winter.astimezone(timezone(timedelta(hours=-5))), PARIS) == (
            "2025-03-10T10:00:00+01:00"
        )
        assert _written(summer, PARIS) == "2025-03-31T10:00:00+02:00"
        assert _written(winter, UTC) == "2025-03-10T09:00:00+00:00"
