"""The demo's live terminal view of the queues (plain summary lines when not on a terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from callrouter.live.state import QueueView
from callrouter.oncall.roster import OnCallTeam, Roster, next_hand_off, next_on_call, on_call_at
from callrouter.oncall.tracking import Escalation


def render_queues(
    queues: Sequence[QueueView],
    now: datetime,
    zone: ZoneInfo,
    *,
    recent: Sequence[str] = (),
    oncall: Sequence[str] = (),
    appointments: Sequence[str] = (),
    ami_up: bool = True,
    max_callers: int = 8,
) -> str:
    """The whole screen as text: who is on call, one block per queue, the next
    appointments, then the latest decisions."""
    local = now.astimezone(zone)
    lines = [
        f"callrouter — {local:%A %d %B %Y %H:%M:%S} ({zone.key})"
        f"   PBX link: {'up' if ami_up else 'DOWN, reconnecting'}",
        *oncall,
        "",
    ]
    for queue in queues:
        busy = sum(1 for member in queue.members if member.in_call)
        lines.append(
            f"[{queue.name}] waiting {queue.waiting}  members {len(queue.members)}"
            f" (in call {busy})  answered {queue.completed}  abandoned {queue.abandoned}"
        )
        for member in queue.members:
            flags = "paused" if member.paused else ("in call" if member.in_call else member.state)
            lines.append(f"    agent  {member.name:<20} {flags}")
        for caller in queue.callers[:max_callers]:
            priority = "-" if caller.priority is None else str(caller.priority)
            lines.append(
                f"    #{caller.position:<3} {caller.caller_id:<14} {caller.caller_name:<18}"
                f" prio {priority:>3}  waiting {caller.waiting_seconds(now):5.0f}s"
            )
        hidden = queue.waiting - min(len(queue.callers), max_callers)
        if hidden > 0:
            lines.append(f"    ... and {hidden} more waiting")
        lines.append("")
    if appointments:
        lines.extend([*appointments, ""])
    if recent:
        lines.append("Latest routing decisions:")
        lines.extend(f"    {line}" for line in recent)
    return "\n".join(lines)


def summary_line(queues: Sequence[QueueView]) -> str:
    """One line for logs when the output is not a terminal."""
    parts = [
        f"{queue.name}: {queue.waiting} waiting, "
        f"{sum(1 for m in queue.members if m.in_call)}/{len(queue.members)} in call"
        for queue in queues
    ]
    return "; ".join(parts) if parts else "no queue known yet"


def render_oncall(roster: Roster, now: datetime, zone: ZoneInfo) -> list[str]:
    """Who is on call now and until when, and the next team to come on call."""
    if not roster.rotations:
        return ["On call: no roster set (callrouter oncall rotation set ...)"]
    change, upcoming = next_hand_off(roster, now), next_on_call(roster, now)
    until = "" if change is None else f" until {change.at.astimezone(zone):%a %H:%M}"
    lines = [f"On call now: {_team(on_call_at(roster, now))}{until}"]
    if upcoming is not None:
        lines.append(
            f"Next on call, {upcoming.at.astimezone(zone):%a %H:%M}: {_team(upcoming.team)}"
        )
    return lines


def render_escalations(escalations: Sequence[Escalation], now: datetime) -> list[str]:
    """One line per emergency the PBX holds: how far its escalation went, how long the
    caller has waited."""
    return [
        f"    emergency {live.caller_id or '?':<14} {live.state.value:<10} "
        f"ringing up to {live.layer.value:<9} pass {live.pass_number}  "
        f"waiting {live.waited(now):5.0f}s" + (f"  {live.technician}" if live.technician else "")
        for live in escalations
    ]


def _team(team: OnCallTeam) -> str:
    if team.empty:
        return "nobody (coordinators' hours)"
    return ", ".join(f"{layer.value} {person.name}" for layer, person in team.layers())
