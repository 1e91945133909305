"""The demo's live terminal view of the queues (plain summary lines when not on a terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from callrouter.callbacks.queries import CallbackView
from callrouter.callbacks.rules import CallbackPolicy, GuaranteeClock, Standing
from callrouter.http.access import mask_caller_id
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
    callbacks: Sequence[str] = (),
    ami_up: bool = True,
    max_callers: int = 8,
) -> str:
    """The whole screen as text: who is on call, one block per queue, the Pass 4H
    callbacks, the next appointments, then the latest decisions."""
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
    if callbacks:
        lines.extend([*callbacks, ""])
    if appointments:
        lines.extend([*appointments, ""])
    if recent:
        lines.append("Latest routing decisions:")
        lines.extend(f"    {line}" for line in recent)
    return "\n".join(lines)


def render_callbacks(
    callbacks: Sequence[CallbackView], now: datetime, zone: ZoneInfo, policy: CallbackPolicy
) -> list[str]:
    """One line per callback: masked number, domain, deadline, the time left while it is
    owed, then how it stands (met, or breached and refunded)."""
    hours = policy.guarantee.total_seconds() / 3600
    unit = "hour" if hours == 1 else "hours"
    within = (
        f"{hours:g} business {unit}"
        if policy.clock is GuaranteeClock.BUSINESS_HOURS
        else f"{hours:g} {unit}, wall clock"
    )
    lines = [f"Pass 4H callbacks (an expert calls back within {within}):"]
    if not callbacks:
        return [*lines, "    none open or closed lately"]
    for callback in callbacks:
        due = callback.due_at.astimezone(zone)
        owed = callback.standing in (Standing.PENDING, Standing.AT_RISK, Standing.DIALLING)
        left = f"in {_duration(callback.due_at - now)}" if owed else ""
        lines.append(
            f"    #{callback.id:<4} {mask_caller_id(callback.number):<15} {callback.domain:<15}"
            f" due {due:%a %H:%M}  {left:<13} {_standing(callback, zone)}"
        )
    return lines


def _standing(callback: CallbackView, zone: ZoneInfo) -> str:
    standing = callback.standing
    if standing is Standing.MET:
        assert callback.connected_at is not None
        spare = _duration(callback.due_at - callback.connected_at)
        return f"met: connected {_clock(callback.connected_at, zone)}, {spare} to spare"
    if standing is Standing.BREACHED:
        if callback.breached_at is None:
            return "deadline passed: refund under way"
        told = f"breached: refunded {_clock(callback.breached_at, zone)}"
        if callback.connected_at is not None:
            return f"{told}; connected late {_clock(callback.connected_at, zone)}"
        return f"{told}; still to be called back"
    if standing is Standing.DIALLING:
        return f"dialling (attempt {callback.attempt_count})"
    if standing is Standing.CANCELLED:
        return "cancelled"
    tried = ""
    if callback.close_reason == "gave-up":
        tried = f", customer did not answer {callback.customer_tries}x: a supervisor calls"
    elif callback.customer_tries:
        tried = f", customer did not answer {callback.customer_tries}x: retry later"
    return ("AT RISK" if standing is Standing.AT_RISK else "pending") + tried


def _duration(delta: timedelta) -> str:
    """`05m00s`, `17h59m21s`: not to be read as a time of day."""
    seconds = max(0, int(delta.total_seconds()))
    hours, minutes = divmod(seconds // 60, 60)
    return (f"{hours}h" if hours else "") + f"{minutes:02d}m{seconds % 60:02d}s"


def _clock(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M:%S}"


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
