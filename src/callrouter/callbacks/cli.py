"""`callrouter callback list|show|cancel`: the Pass 4H callbacks from the shell."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.callbacks.queries import CallbackQueries, CallbackView
from callrouter.callbacks.rules import Standing
from callrouter.clock import SystemClock
from callrouter.config import load_config
from callrouter.db.cli import service_command
from callrouter.textrules import option_text

Action = Callable[[CallbackQueries, argparse.Namespace], Awaitable[int]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    callback = subparsers.add_parser("callback", help="Pass 4H callbacks and their attempts")
    actions = callback.add_subparsers(dest="callback_command", metavar="ACTION", required=True)
    list_ = actions.add_parser("list", help="callbacks by deadline, earliest first")
    list_.add_argument("--standing", choices=[standing.value for standing in Standing])
    list_.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    list_.set_defaults(handler=_handler(_list))
    show = actions.add_parser("show", help="a callback and its attempts, leg by leg")
    show.add_argument("callback", type=int, help="callback number")
    show.set_defaults(handler=_handler(_show))
    cancel = actions.add_parser(
        "cancel", help="dial it no more (a person called the customer, who declined...)"
    )
    cancel.add_argument("callback", type=int, help="callback number")
    cancel.add_argument("--reason", required=True, type=option_text, help="why, for the log")
    cancel.set_defaults(handler=_handler(_cancel))


def _handler(action: Action) -> Callable[[argparse.Namespace], int]:
    def build(
        sessions: async_sessionmaker[AsyncSession], args: argparse.Namespace
    ) -> CallbackQueries:
        engine = sessions.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        policy = load_config(getattr(args, "config", None)).callbacks.policy
        return CallbackQueries(engine, SystemClock(), policy)

    return service_command(build, action)


def _zone(args: argparse.Namespace) -> ZoneInfo:
    return load_config(getattr(args, "config", None)).calendar_settings.timezone


def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return "-" if at is None else at.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def _left(seconds: int) -> str:
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return f"{sign}{seconds // 3600}h{seconds % 3600 // 60:02d}"


def _line(view: CallbackView, zone: ZoneInfo) -> str:
    return (
        f"{view.id:>6} {view.standing.value:<10} {view.domain:<12} {view.number:<14} "
        f"due {_local(view.due_at, zone)} ({_left(view.seconds_left)} left) "
        f"incident {view.incident_id}, {view.attempt_count} attempt(s)"
    )


async def _list(queries: CallbackQueries, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 1000:
        print("callrouter: --limit must be 1 to 1000")
        return 2
    standing = Standing(args.standing) if args.standing else None
    views = await queries.page(standing=standing, limit=args.limit)
    zone = _zone(args)
    for view in views:
        print(_line(view, zone))
    if not views:
        print("no callback" + (f" {standing.value}" if standing else ""))
    return 0


async def _show(queries: CallbackQueries, args: argparse.Namespace) -> int:
    view = await queries.show(args.callback)
    zone = _zone(args)
    print(_line(view, zone))
    print(
        f"  opened {_local(view.opened_at, zone)}; customer tries {view.customer_tries}; "
        f"warned {_local(view.warned_at, zone)}; connected {_local(view.connected_at, zone)}; "
        f"breached {_local(view.breached_at, zone)}; closed {_local(view.closed_at, zone)}"
        + (f" ({view.close_reason})" if view.close_reason else "")
    )
    for attempt in view.attempts:
        print(
            f"  attempt {attempt.id}: {attempt.expert}, claimed {_local(attempt.claimed_at, zone)}"
            f", placed {_local(attempt.placed_at, zone)}, expert answered "
            f"{_local(attempt.expert_answered_at, zone)}, customer answered "
            f"{_local(attempt.customer_answered_at, zone)}, connected "
            f"{_local(attempt.connected_at, zone)}, ended {_local(attempt.ended_at, zone)}: "
            f"{attempt.outcome or 'under way'}" + (f" ({attempt.note})" if attempt.note else "")
        )
    return 0


async def _cancel(queries: CallbackQueries, args: argparse.Namespace) -> int:
    view = await queries.cancel(args.callback, args.reason)
    print(f"callback {view.id} cancelled: nothing more will be dialled for it")
    return 0
