"""`callrouter rdv slots|book|list|cancel|move`: Pass RDV appointments from the shell."""

from __future__ import annotations

import argparse
import getpass
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.appointments.api import build_services
from callrouter.appointments.models import AppointmentState
from callrouter.appointments.queries import AppointmentFilter, AppointmentView
from callrouter.appointments.service import AppointmentService, BookingRequest
from callrouter.clock import SystemClock
from callrouter.config import load_config
from callrouter.db.cli import service_command
from callrouter.experts.cli import local, parse_instant
from callrouter.ledger.prices import AssistanceLevel
from callrouter.textrules import option_multiline, option_text

Action = Callable[[AppointmentService, argparse.Namespace], Awaitable[int]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rdv = subparsers.add_parser("rdv", help="Pass RDV appointments: slots, bookings")
    actions = rdv.add_subparsers(dest="rdv_command", metavar="ACTION", required=True)
    slots = actions.add_parser("slots", help="bookable slots of a domain and their capacity")
    slots.add_argument("--domain", required=True)
    slots.add_argument("--from", dest="start", help="default: now (calendar's zone if no offset)")
    slots.add_argument("--to", dest="end", help="default: 7 days after --from")
    slots.set_defaults(handler=_handler(_slots))
    book = actions.add_parser("book", help="book: opens the incident, reserves an expert")
    book.add_argument("account", help="account number")
    book.add_argument("--domain", required=True)
    book.add_argument("--level", required=True, choices=[level.value for level in AssistanceLevel])
    book.add_argument("--third-party", action="store_true", help="third-party product involved")
    book.add_argument("--slot", required=True, help="slot start, e.g. 2025-03-10T10:00")
    book.add_argument("--number", required=True, help="the number the expert calls")
    book.add_argument("--summary", default="", type=option_multiline)
    book.add_argument("--key", type=option_text, help="idempotency key (default: a fresh one)")
    book.set_defaults(handler=_handler(_book))
    listing = actions.add_parser("list", help="appointments, by start")
    listing.add_argument("--day", help="one day, e.g. 2025-03-10")
    listing.add_argument("--domain")
    listing.add_argument("--state", choices=[state.value for state in AppointmentState])
    listing.set_defaults(handler=_handler(_list))
    cancel = actions.add_parser("cancel", help="cancel (refunded in full when early enough)")
    cancel.add_argument("appointment", type=int)
    cancel.add_argument("--reason", default="", type=option_text)
    cancel.set_defaults(handler=_handler(_cancel))
    move = actions.add_parser("move", help="move an appointment to another slot")
    move.add_argument("appointment", type=int)
    move.add_argument("--slot", required=True, help="new slot start, e.g. 2025-03-11T14:00")
    move.set_defaults(handler=_handler(_move))


def _handler(action: Action) -> Callable[[argparse.Namespace], int]:
    def build(
        sessions: async_sessionmaker[AsyncSession], args: argparse.Namespace
    ) -> AppointmentService:
        config = load_config(getattr(args, "config", None))
        _, service = build_services(
            sessions,
            SystemClock(),
            config.calendar(),
            config.experts,
            config.appointments,
            config.ledger,
        )
        return service

    return service_command(build, action)


def _zone(service: AppointmentService) -> ZoneInfo:
    return service.window.timezone


async def _slots(service: AppointmentService, args: argparse.Namespace) -> int:
    zone = _zone(service)
    start = parse_instant(args.start, zone, "--from") if args.start else SystemClock().now()
    end = parse_instant(args.end, zone, "--to") if args.end else start + timedelta(days=7)
    slots = await service.availability(args.domain, start, end)
    if not slots:
        print(
            f"no bookable slot for {args.domain} "
            f"between {local(start, zone)} and {local(end, zone)}"
        )
    for slot in slots:
        names = ", ".join(slot.free) or "-"
        print(f"{local(slot.start, zone)}  capacity {slot.capacity}  {names}")
    return 0


async def _book(service: AppointmentService, args: argparse.Namespace) -> int:
    zone = _zone(service)
    booked = await service.book(
        BookingRequest(
            account_number=args.account,
            domain=args.domain,
            level=AssistanceLevel(args.level),
            third_party=args.third_party,
            start=parse_instant(args.slot, zone, "--slot"),
            number_to_call=args.number,
            summary=args.summary,
            idempotency_key=args.key or f"cli:{uuid.uuid4()}",
            booked_by=f"cli:{getpass.getuser()}",
        )
    )
    view = booked.appointment
    done = "already booked by this key" if booked.replayed else "booked"
    print(
        f"appointment {view.id} {done}: {local(view.start, zone)}, {view.domain}, "
        f"expert {view.expert_name}; incident {view.incident_id} debited {booked.debited} "
        f"points, balance {booked.balance}"
    )
    return 0


async def _list(service: AppointmentService, args: argparse.Namespace) -> int:
    zone = _zone(service)
    since = until = None
    if args.day:
        day = datetime.fromisoformat(args.day).date()
        since = datetime.combine(day, time(0), tzinfo=zone)
        until = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    views = await service.find(
        AppointmentFilter(since=since, until=until, domain=args.domain, state=args.state)
    )
    for view in views:
        _print(view, zone)
    if not views:
        print("no appointment")
    return 0


def _print(view: AppointmentView, zone: ZoneInfo) -> None:
    print(
        f"{view.id:>5}  {local(view.start, zone)}  {view.state:<9} {view.domain:<14} "
        f"{view.expert_on_call:<20} account {view.account_number}  call {view.number_to_call}"
    )


async def _cancel(service: AppointmentService, args: argparse.Namespace) -> int:
    cancelled = await service.cancel(args.appointment, args.reason)
    if cancelled.replayed:
        print(f"appointment {args.appointment} was already cancelled")
    elif cancelled.refunded:
        print(f"appointment {args.appointment} cancelled, {cancelled.refunded} points refunded")
    else:
        print(f"appointment {args.appointment} cancelled too late for a refund")
    return 0


async def _move(service: AppointmentService, args: argparse.Namespace) -> int:
    zone = _zone(service)
    moved = await service.reschedule(args.appointment, parse_instant(args.slot, zone, "--slot"))
    print(f"appointment {moved.id} moved to {local(moved.start, zone)}, expert {moved.expert_name}")
    return 0
