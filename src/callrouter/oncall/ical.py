"""A technician's on-call duties as an iCalendar feed (RFC 5545), for their calendar app.

Each duty is its own event, in the calendar's time zone (VTIMEZONE included), rather than
a recurring one: overrides, holidays and the on-call window make shifts differ from week
to week, and the roster's rules already say exactly when each one is. The feed names
nobody and no number: whoever holds the URL sees when its owner is on call, nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from callrouter import __version__
from callrouter.oncall.roster import Duty, Layer

# What the technician reads in their calendar (French, as everything people read).
_LAYER_FR = {
    Layer.PRIMARY: "1er appel",
    Layer.SECONDARY: "2e appel",
    Layer.MANAGER: "responsable",
}


_ZONE_RULES_SPAN = timedelta(days=400)


def render_feed(duties: Sequence[Duty], zone: ZoneInfo, generated_at: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//callrouter//on-call {__version__}//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Astreinte")
    for duty in duties:
        event = Event()
        event.add("uid", f"{_uid(duty)}@callrouter")
        event.add("dtstamp", generated_at)
        event.add("dtstart", duty.start.astimezone(zone))
        event.add("dtend", duty.end.astimezone(zone))
        event.add("summary", f"Astreinte ({', '.join(_LAYER_FR[layer] for layer in duty.layers)})")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    # The zone's rules around the feed's dates only: the whole table since 1970 is long.
    calendar.add_missing_timezones(
        first_date=(generated_at - _ZONE_RULES_SPAN).date(),
        last_date=(generated_at + _ZONE_RULES_SPAN).date(),
    )
    return bytes(calendar.to_ical())


def _uid(duty: Duty) -> str:
    # Stable while the duty is unchanged, so a calendar app updates rather than duplicates;
    # a person's duties never overlap, so start, end and layers identify one.
    key = f"{duty.start.isoformat()}|{duty.end.isoformat()}|{','.join(duty.layers)}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]
