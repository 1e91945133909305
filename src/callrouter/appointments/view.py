"""The demo screen's lines about the next Pass RDV appointments."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from callrouter.appointments.queries import AppointmentView

#: How many appointments the screen shows.
SHOWN = 4


def render_appointments(views: Sequence[AppointmentView], zone: ZoneInfo) -> list[str]:
    """A title and one line per appointment still to come (cancelled ones left out)."""
    shown = [view for view in views if view.state != "cancelled"][:SHOWN]
    if not shown:
        return []
    lines = ["Next appointments (Pass RDV):"]
    for view in shown:
        start, end = view.start.astimezone(zone), view.end.astimezone(zone)
        lines.append(
            f"    {start:%a %d %b %H:%M}-{end:%H:%M}  {view.domain:<14} "
            f"{view.expert_on_call:<18} {view.state}"
        )
    return lines
