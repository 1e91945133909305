"""`callrouter expert add|list|absent|remove`: the experts' directory from the shell."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.appointments.api import build_services
from callrouter.clock import SystemClock
from callrouter.config import load_config
from callrouter.db.cli import service_command
from callrouter.experts.directory import ExpertDirectory
from callrouter.experts.errors import InvalidExpert
from callrouter.textrules import option_text

Action = Callable[[ExpertDirectory, argparse.Namespace], Awaitable[int]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    expert = subparsers.add_parser("expert", help="experts: domains, hours, absences")
    actions = expert.add_subparsers(dest="expert_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add an expert")
    add.add_argument("--name", required=True, type=option_text)
    add.add_argument("--interface", required=True, help="PBX dial string, e.g. PJSIP/expert7")
    add.add_argument(
        "--domain",
        dest="domains",
        action="append",
        required=True,
        help="a domain key of [experts] domains (repeat for several)",
    )
    add.add_argument(
        "--hours", help="calendar window of the working hours (default: [experts] hours)"
    )
    add.set_defaults(handler=_handler(_add))
    listing = actions.add_parser("list", help="active experts, their domains and absences")
    listing.set_defaults(handler=_handler(_list))
    absent = actions.add_parser("absent", help="record an absence")
    absent.add_argument("name", help="the expert's name")
    absent.add_argument(
        "--from", dest="start", required=True, help="e.g. 2025-03-10T08:00 (calendar's zone)"
    )
    absent.add_argument("--to", dest="end", required=True, help="e.g. 2025-03-14T18:00")
    absent.add_argument("--reason", default="", type=option_text)
    absent.set_defaults(handler=_handler(_absent))
    remove = actions.add_parser("remove", help="take an expert out of the directory")
    remove.add_argument("name", help="the expert's name")
    remove.set_defaults(handler=_handler(_remove))


def _handler(action: Action) -> Callable[[argparse.Namespace], int]:
    def build(
        sessions: async_sessionmaker[AsyncSession], args: argparse.Namespace
    ) -> ExpertDirectory:
        config = load_config(getattr(args, "config", None))
        # With the appointments: an absence re-assigns those booked with the expert.
        directory, _ = build_services(
            sessions,
            SystemClock(),
            config.calendar(),
            config.experts,
            config.appointments,
            config.ledger,
        )
        return directory

    return service_command(build, action)


def parse_instant(text: str, zone: ZoneInfo, option: str) -> datetime:
    """An ISO date-time; without an offset it is read in the calendar's time zone."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidExpert(
            f"{option}: '{text}' is not a date-time such as 2025-03-10T08:00"
        ) from None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=zone)


def local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat(sep=" ", timespec="minutes")


async def _add(directory: ExpertDirectory, args: argparse.Namespace) -> int:
    entry = await directory.add(args.name, args.interface, args.domains, args.hours)
    expert = entry.expert
    print(
        f"expert {entry.id} {expert.name} added: {expert.interface}, "
        f"domains {', '.join(sorted(expert.domains))}, hours '{entry.hours_window}'"
    )
    return 0


async def _list(directory: ExpertDirectory, args: argparse.Namespace) -> int:
    zone = load_config(getattr(args, "config", None)).calendar_settings.timezone
    entries = await directory.entries()
    if not entries:
        print("no expert yet: add one with 'callrouter expert add'")
    for entry in entries:
        expert = entry.expert
        print(
            f"{entry.id:>4}  {expert.name:<24} {expert.interface:<24} "
            f"{','.join(sorted(expert.domains)):<24} hours '{entry.hours_window}'"
        )
        for absence in entry.absences:
            reason = f" ({absence.reason})" if absence.reason else ""
            print(
                f"        absent {local(absence.start, zone)} -> {local(absence.end, zone)}{reason}"
            )
    return 0


async def _absent(directory: ExpertDirectory, args: argparse.Namespace) -> int:
    zone = load_config(getattr(args, "config", None)).calendar_settings.timezone
    start = parse_instant(args.start, zone, "--from")
    end = parse_instant(args.end, zone, "--to")
    await directory.absent(args.name, start, end, args.reason)
    print(f"{args.name} absent from {local(start, zone)} to {local(end, zone)}")
    return 0


async def _remove(directory: ExpertDirectory, args: argparse.Namespace) -> int:
    await directory.remove(args.name)
    print(f"{args.name} removed from the directory")
    return 0
