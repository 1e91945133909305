"""`callrouter oncall ...`: the on-call roster from the shell. Times are read and printed in
the calendar's time zone (a time given without offset is local wall-clock time)."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.calendar import Weekday, parse_time
from callrouter.clock import SystemClock
from callrouter.config import Config, load_config
from callrouter.db.cli import service_command
from callrouter.oncall.context import feed_url
from callrouter.oncall.escalation import queue_rules
from callrouter.oncall.roster import (
    Layer,
    OnCallTeam,
    Roster,
    next_hand_off,
    next_on_call,
    on_call_at,
    schedule,
)
from callrouter.oncall.service import OnCallError, RosterService
from callrouter.textrules import option_text

Action = Callable[["Tools", argparse.Namespace], Awaitable[int]]
_EVERY = {"week": 7, "day": 1}


class Tools:
    """What a command needs: the roster service, the time zone, the configuration."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], config: Config) -> None:
        self.config = config
        self.clock = SystemClock()
        self.zone: ZoneInfo = config.calendar_settings.timezone
        self.service = RosterService(sessions, self.clock, config.calendar().on_call)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    oncall = subparsers.add_parser("oncall", help="the on-call roster: who is on call when")
    actions = oncall.add_subparsers(dest="oncall_command", metavar="ACTION", required=True)
    _command(actions, "now", "who is on call now, and the next change", _now)
    show = _command(actions, "show", "the on-call shifts ahead", _show)
    show.add_argument("--days", type=_positive, default=14, help="how many days (default 14)")
    _command(
        actions,
        "queuerules",
        "print the PBX's queuerules.conf for [oncall] escalation_delays",
        _queuerules,
    )

    person = _group(actions, "person", "technicians who can be on call")
    add = _command(person, "add", "add a technician", _person_add)
    add.add_argument("name", type=option_text)
    add.add_argument(
        "--contact", required=True, type=option_text, help="PBX interface or phone number"
    )
    _command(person, "list", "every technician", _person_list)
    remove = _command(person, "remove", "remove a technician and their overrides", _person_remove)
    remove.add_argument("name", type=option_text)

    rotation = _group(actions, "rotation", "one rotation per layer")
    set_ = _command(rotation, "set", "set (replace) a layer's rotation", _rotation_set)
    set_.add_argument("layer", choices=[layer.value for layer in Layer])
    set_.add_argument("--people", nargs="+", required=True, type=option_text, help="in order")
    set_.add_argument(
        "--every",
        type=_shift_days,
        default=7,
        help="shift length: week (the default), day or a number of days",
    )
    set_.add_argument("--at", type=parse_time, default=time(8), help="hand-off time (08:00)")
    set_.add_argument("--on", type=Weekday.parse, help="hand-off day of the week, e.g. mon")
    set_.add_argument(
        "--from", dest="from_", type=date.fromisoformat, help="first hand-off on or after"
    )
    clear = _command(rotation, "clear", "remove a layer's rotation", _rotation_clear)
    clear.add_argument("layer", choices=[layer.value for layer in Layer])

    override = _group(actions, "override", "a person replaces another for a time")
    o_add = _command(override, "add", "add an override", _override_add)
    o_add.add_argument("--replaces", required=True, type=option_text)
    o_add.add_argument("--by", required=True, type=option_text)
    o_add.add_argument("--from", dest="from_", required=True, help="e.g. 2026-12-24T18:00")
    o_add.add_argument("--to", required=True, help="e.g. 2026-12-26T08:00")
    _command(override, "list", "overrides not over yet", _override_list)
    o_remove = _command(override, "remove", "remove an override", _override_remove)
    o_remove.add_argument("id", type=_positive)

    feed = _group(actions, "feed", "each technician's iCalendar feed")
    issue = _command(feed, "issue", "issue a feed URL (the previous one stops)", _feed_issue)
    issue.add_argument("name", type=option_text)
    revoke = _command(feed, "revoke", "stop a technician's feed", _feed_revoke)
    revoke.add_argument("name", type=option_text)


def _group(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    parser = actions.add_parser(name, help=help_)
    return parser.add_subparsers(dest=f"oncall_{name}_command", metavar="ACTION", required=True)


def _command(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_: str,
    action: Action,
) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=help_)
    parser.set_defaults(
        handler=service_command(
            lambda sessions, args: Tools(sessions, load_config(args.config)), action
        )
    )
    return parser


async def _now(tools: Tools, args: argparse.Namespace) -> int:
    roster, now = await tools.service.roster(), tools.clock.now()
    if not roster.rotations:
        print("no rotation is set: nobody is on call (callrouter oncall rotation set ...)")
        return 0
    change, upcoming = next_hand_off(roster, now), next_on_call(roster, now)
    until = "" if change is None else f" until {_local(change.at, tools.zone)}"
    print(f"now ({_local(now, tools.zone)}): {_team(on_call_at(roster, now))}{until}")
    if upcoming is not None:
        print(f"next on call from {_local(upcoming.at, tools.zone)}: {_team(upcoming.team)}")
    return 0


async def _queuerules(tools: Tools, args: argparse.Namespace) -> int:
    print(queue_rules(tools.config.oncall.escalation), end="")
    return 0


async def _show(tools: Tools, args: argparse.Namespace) -> int:
    roster, now = await tools.service.roster(), tools.clock.now()
    _print_schedule(roster, now, now + timedelta(days=args.days), tools.zone)
    return 0


async def _person_add(tools: Tools, args: argparse.Namespace) -> int:
    person = await tools.service.add_person(args.name, args.contact)
    print(f"{person.name} ({person.contact}) added to the roster")
    return 0


async def _person_list(tools: Tools, args: argparse.Namespace) -> int:
    people = await tools.service.people()
    if not people:
        print("nobody on the roster yet")
    for person in people:
        print(f"{person.name}  {person.contact}  feed {'on' if person.has_feed else 'off'}")
    return 0


async def _person_remove(tools: Tools, args: argparse.Namespace) -> int:
    person_id = await tools.service.person_id(args.name)
    removed = await tools.service.remove_person(person_id)
    print(f"{removed.name} removed from the roster")
    return 0


async def _rotation_set(tools: Tools, args: argparse.Namespace) -> int:
    shift_days: int = args.every
    first = args.from_ or tools.clock.now().astimezone(tools.zone).date()
    if args.on is not None:
        first += timedelta(days=(args.on - first.weekday()) % 7)
    rotation = await tools.service.set_rotation(
        Layer(args.layer),
        args.people,
        shift_days=shift_days,
        handoff_at=args.at,
        first_handoff=first,
    )
    print(
        f"{args.layer}: {', '.join(rotation.people)}, a shift of {shift_days} day(s) each, "
        f"hand-off at {args.at:%H:%M} ({first:%A %Y-%m-%d} to {rotation.people[0]})"
    )
    return 0


async def _rotation_clear(tools: Tools, args: argparse.Namespace) -> int:
    await tools.service.clear_rotation(Layer(args.layer))
    print(f"{args.layer}: rotation removed")
    return 0


async def _override_add(tools: Tools, args: argparse.Namespace) -> int:
    start, end = _instant(args.from_, tools.zone), _instant(args.to, tools.zone)
    planned = await tools.service.add_override(args.replaces, args.by, start, end)
    print(
        f"override {planned.id}: {args.by} replaces {args.replaces} "
        f"from {_local(start, tools.zone)} to {_local(end, tools.zone)}"
    )
    return 0


async def _override_list(tools: Tools, args: argparse.Namespace) -> int:
    planned = await tools.service.planned_overrides()
    if not planned:
        print("no override ahead")
    for item in planned:
        o = item.override
        print(
            f"{item.id}  {o.by} replaces {o.replaces}  "
            f"{_local(o.start, tools.zone)} -> {_local(o.end, tools.zone)}"
        )
    return 0


async def _override_remove(tools: Tools, args: argparse.Namespace) -> int:
    await tools.service.remove_override(args.id)
    print(f"override {args.id} removed")
    return 0


async def _feed_issue(tools: Tools, args: argparse.Namespace) -> int:
    person, token = await tools.service.issue_feed(await tools.service.person_id(args.name))
    print(f"{person.name}'s on-call calendar (subscribe to it; shown once, keep it private):")
    print(f"  {feed_url(tools.config.oncall.feed_base_url, token)}")
    return 0


async def _feed_revoke(tools: Tools, args: argparse.Namespace) -> int:
    person = await tools.service.revoke_feed(await tools.service.person_id(args.name))
    print(f"{person.name}'s feed revoked: its URL no longer works")
    return 0


def _print_schedule(roster: Roster, start: datetime, end: datetime, zone: ZoneInfo) -> None:
    shifts = schedule(roster, start, end)
    if not shifts:
        print("nobody is on call in that time (no rotation set)")
    for shift in shifts:
        print(f"{_local(shift.start, zone)} -> {_local(shift.end, zone)}  {_team(shift.team)}")


def _team(team: OnCallTeam) -> str:
    if team.empty:
        return "nobody on call (coordinators' hours)"
    return ", ".join(f"{layer.value} {person.name}" for layer, person in team.layers())


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%a %Y-%m-%d %H:%M%z}"


def _instant(text: str, zone: ZoneInfo) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise OnCallError(f"{text!r} is not a date-time, e.g. 2026-12-24T18:00") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def _shift_days(text: str) -> int:
    if text in _EVERY:
        return _EVERY[text]
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not week, day or a number of days")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)
