"""What a console panel is: the contract a new panel (callbacks, appointments, on-call...)
implements to appear on the supervisors' page.

A panel is
- a `key` (its section's id `panel-<key>` and the name of its browser renderer,
  `static/panels/<key>.js`),
- the `topics` that make it stale (the hub recomputes it when one of them is announced
  with `ConsoleHub.changed(topic)`; "tick" comes every few seconds by itself),
- `snapshot(view)`: a JSON-able dict of what it shows, computed for one visibility (masked
  or not): it must read state already in memory, never the database or the PBX,
- `labels`: its texts in French and English, merged into the page's labels,
- optionally `render(view)`: the JSON text of `snapshot(view)` exactly as the hub would
  encode it (compact, not ASCII-only), which the hub then uses instead: for a panel that
  keeps the text of what did not change since the last push (the queues panel).

The hub calls `snapshot` at most once per push interval per visibility, whatever the number
of consoles, and sends a panel only when its JSON changed. A panel whose feature is not
configured returns `{"configured": False}` and its renderer shows so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from callrouter.http.access import Visibility

#: Topics the built-in sources announce.
LIVE = "live"  # LiveState.on_change: callers, members, calls
LINK = "link"  # the PBX link went up or down
DECISIONS = "decisions"  # a routing decision or a fail-safe
FIGURES = "figures"  # an answered or abandoned caller
TICK = "tick"  # time passed (sliding windows move)

#: Labels: language -> key -> text.
Labels = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class PanelView:
    """For whom and when a snapshot is computed."""

    now: datetime
    timezone: ZoneInfo
    seen: Visibility

    def local(self, instant: datetime) -> str:
        """An instant as a person reads it: the calendar's time zone, with its offset."""
        return instant.astimezone(self.timezone).isoformat()


class Panel(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def topics(self) -> frozenset[str]: ...

    @property
    def labels(self) -> Labels: ...

    def snapshot(self, view: PanelView) -> dict[str, Any]: ...


NOT_CONFIGURED: dict[str, Any] = {"configured": False}
