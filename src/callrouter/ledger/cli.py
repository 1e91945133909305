"""`callrouter codes|ledger|incident ...`: the ledger from the shell, for distributors and
operators."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.callbacks.opening import CallbackOpenings, CallbackRequest
from callrouter.clock import SystemClock
from callrouter.config import load_config
from callrouter.db.cli import service_command
from callrouter.errors import ConfigError
from callrouter.identity.service import IdentityService
from callrouter.ledger.config import MAX_CODE_VALIDITY_DAYS, LedgerConfig
from callrouter.ledger.prices import AssistanceLevel, Classification
from callrouter.ledger.service import LedgerService, OpenedIncident, Refund
from callrouter.passes import Pass
from callrouter.textrules import option_multiline, option_text

Action = Callable[[LedgerService, argparse.Namespace], Awaitable[int]]
NEW_ACCOUNT = "new"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    codes = subparsers.add_parser("codes", help="one-time recharge codes of the pack cards")
    code_actions = codes.add_subparsers(dest="codes_command", metavar="ACTION", required=True)
    issue = code_actions.add_parser(
        "issue", help="draw recharge codes for a pack; prints them once, stores their hashes"
    )
    issue.add_argument("--pack", required=True, help="card reference, e.g. FSACSP50C")
    issue.add_argument("--count", type=int, default=1, help="how many codes (default 1)")
    issue.add_argument(
        "--expires-days",
        type=int,
        help="days the codes stay valid (default: [ledger] code_validity_days, 365)",
    )
    issue.set_defaults(handler=_handler(_issue))

    ledger = subparsers.add_parser("ledger", help="points balances and their movements")
    actions = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="prove every cached balance equals the sum of its movements, and held points "
        "their pending holds",
    )
    check.set_defaults(handler=_handler(_check))
    redeem = actions.add_parser("redeem", help="credit an account with a recharge code")
    redeem.add_argument(
        "account", help=f"account number, or '{NEW_ACCOUNT}' to open one (with --holder)"
    )
    redeem.add_argument("code", help="the code printed on the card")
    redeem.add_argument(
        "--holder", type=option_text, help="holder's name of the account opened by this order"
    )
    redeem.set_defaults(handler=_handler(_redeem))
    statement = actions.add_parser("statement", help="an account's movements and balance")
    statement.add_argument("account", help="account number")
    statement.set_defaults(handler=_handler(_statement))
    adjust = actions.add_parser(
        "adjust", help="an operator's correction of a balance, up (+) or down (-)"
    )
    adjust.add_argument("account", help="account number")
    adjust.add_argument("points", type=int, help="signed number of points, e.g. -20")
    adjust.add_argument(
        "--reason", required=True, type=option_text, help="why, kept in the movement"
    )
    _key_option(adjust)
    adjust.set_defaults(handler=_handler(_adjust))

    incident = subparsers.add_parser("incident", help="open and reclassify incidents")
    incident_actions = incident.add_subparsers(
        dest="incident_command", metavar="ACTION", required=True
    )
    open_ = incident_actions.add_parser("open", help="open an incident and debit its price")
    open_.add_argument("account", help="account number")
    open_.add_argument("--level", required=True, choices=[level.value for level in AssistanceLevel])
    open_.add_argument("--pass", dest="pass_", required=True, choices=[p.value for p in Pass])
    open_.add_argument("--third-party", action="store_true", help="third-party product involved")
    open_.add_argument("--emergency", action="store_true", help="night, weekend or holiday")
    open_.add_argument(
        "--classification",
        choices=[c.value for c in Classification],
        default=Classification.EXPERT.value,
    )
    open_.add_argument("--summary", default="", type=option_multiline, help="what the caller needs")
    open_.add_argument(
        "--domain", type=option_text, help="Pass 4H (required): the domain of the expert"
    )
    open_.add_argument(
        "--callback-number",
        type=option_text,
        help="Pass 4H: the number to call back (default: the caller's number of --call)",
    )
    open_.add_argument("--call", type=option_text, help="the call being handled (Uniqueid)")
    _key_option(open_)
    open_.set_defaults(handler=_handler(_open))
    reclassify = incident_actions.add_parser(
        "reclassify", help="classify an incident non-attributable and refund it, once"
    )
    reclassify.add_argument("incident", type=int, help="incident number")
    reclassify.add_argument("classification", choices=[Classification.NON_ATTRIBUTABLE.value])
    reclassify.add_argument(
        "--reason", required=True, type=option_text, help="e.g. quality problem found"
    )
    _key_option(reclassify)
    reclassify.set_defaults(handler=_handler(_reclassify))
    show = incident_actions.add_parser("show", help="an incident and its history")
    show.add_argument("incident", type=int, help="incident number")
    show.set_defaults(handler=_handler(_show))


def _key_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key",
        type=option_text,
        help="idempotency key: running again with the same key changes nothing "
        "(default: a fresh one)",
    )


def _handler(action: Action) -> Callable[[argparse.Namespace], int]:
    def build(
        sessions: async_sessionmaker[AsyncSession], args: argparse.Namespace
    ) -> LedgerService:
        return LedgerService(sessions, SystemClock(), _ledger_config(args))

    return service_command(build, action)


def _ledger_config(args: argparse.Namespace) -> LedgerConfig:
    config = load_config(getattr(args, "config", None)).ledger
    if not isinstance(config, LedgerConfig):
        raise ConfigError("the [ledger] section was not validated by callrouter.ledger.config")
    return config


def _zone(args: argparse.Namespace) -> ZoneInfo:
    """The calendar's time zone ([calendar] timezone): the hotline's people read times in it."""
    return load_config(getattr(args, "config", None)).calendar_settings.timezone


def _local(at: datetime, zone: ZoneInfo) -> str:
    """`at` in `zone`, with its UTC offset: 2026-12-01 19:00+01:00."""
    return at.astimezone(zone).isoformat(sep=" ", timespec="minutes")


def _key(args: argparse.Namespace) -> str:
    return args.key or f"cli:{uuid.uuid4()}"


async def _issue(ledger: LedgerService, args: argparse.Namespace) -> int:
    validity = None
    if args.expires_days is not None:
        if not 0 < args.expires_days <= MAX_CODE_VALIDITY_DAYS:
            print(f"callrouter: --expires-days must be 1 to {MAX_CODE_VALIDITY_DAYS}")
            return 2
        validity = timedelta(days=args.expires_days)
    issued = await ledger.issue_codes(args.pack, args.count, validity=validity)
    first = issued[0]
    print(
        f"{len(issued)} recharge code(s) of pack {first.pack_reference} "
        f"({first.points} points), valid until {_local(first.expires_at, _zone(args))}:"
    )
    for code in issued:
        print(code.code)
    print("only their hashes are stored: these codes cannot be shown again")
    return 0


async def _check(ledger: LedgerService, args: argparse.Namespace) -> int:
    mismatches = await ledger.check()
    held = await ledger.check_holds()
    for wrong in held:
        print(
            f"ledger check: account {wrong.account_number} holds {wrong.held} points, its "
            f"pending holds sum {wrong.pending_sum}, its balance is {wrong.balance}"
        )
    if not mismatches:
        print("ledger check: every cached balance equals the sum of its movements")
        if not held:
            print("ledger check: held points equal the pending holds, within every balance")
        return 1 if held else 0
    print(f"ledger check: {len(mismatches)} account(s) whose cached balance is wrong:")
    for mismatch in mismatches:
        fractions = (
            f"; {mismatch.fractional_movements} movement(s) not in whole points"
            if mismatch.fractional_movements
            else ""
        )
        print(
            f"  account {mismatch.account_number}: cached balance {mismatch.cached_balance}, "
            f"movements sum {mismatch.movements_sum} "
            f"(off by {mismatch.cached_balance - mismatch.movements_sum:+f}){fractions}"
        )
    return 1


async def _redeem(ledger: LedgerService, args: argparse.Namespace) -> int:
    if args.account == NEW_ACCOUNT:
        if not args.holder:
            print(f"callrouter: '{NEW_ACCOUNT}' opens an account: give its holder with --holder")
            return 2
        identity = IdentityService(ledger.sessions, SystemClock())
        account, redemption = await ledger.redeem_code_opening_account(
            args.code, args.holder, identity
        )
        print(f"account {account.number} opened for {account.holder_name}")
        print(f"  phone access code (PIN): {account.pin}")
        print(f"  web access code:         {account.web_code}")
        print("these codes are stored hashed and cannot be shown again: hand them over now")
    else:
        if args.holder:
            print(f"callrouter: --holder is only for '{NEW_ACCOUNT}' (opening an account)")
            return 2
        redemption = await ledger.redeem_code(args.account, args.code)
    again = " (already redeemed by this account: nothing changed)" if redemption.replayed else ""
    print(
        f"account {redemption.account_number} credited {redemption.points} points "
        f"(pack {redemption.pack_reference}); balance {redemption.balance}{again}"
    )
    return 0


async def _statement(ledger: LedgerService, args: argparse.Namespace) -> int:
    statement = await ledger.statement(args.account)
    zone = _zone(args)
    held = f" ({statement.held} held for emergency calls in progress)" if statement.held else ""
    print(f"account {statement.account_number}: balance {statement.balance} points{held}")
    for movement in statement.movements:
        print(
            f"  {_local(movement.created_at, zone)} {movement.kind:<10} {movement.amount:>+7d} "
            f"-> {movement.balance_after:>6d}  {movement.reason}"
            + (f" [{movement.reference}]" if movement.reference else "")
        )
    return 0


async def _adjust(ledger: LedgerService, args: argparse.Namespace) -> int:
    posting = await ledger.adjust(
        args.account, args.points, reason=args.reason, idempotency_key=_key(args)
    )
    print(
        f"account {posting.account_number} adjusted {posting.amount:+d} points; "
        f"balance {posting.balance}" + (" (replayed: nothing changed)" if posting.replayed else "")
    )
    return 0


async def _open(ledger: LedgerService, args: argparse.Namespace) -> int:
    config = load_config(getattr(args, "config", None))
    openings = CallbackOpenings(ledger, config.callbacks, config.calendar_settings.windows)
    wants_callback = args.domain is not None or args.callback_number is not None
    # A Pass 4H incident opens with its callback, in the same transaction (issue 8).
    opening = await openings.open_incident(
        args.account,
        level=AssistanceLevel(args.level),
        pass_=Pass(args.pass_),
        third_party=args.third_party,
        emergency=args.emergency,
        classification=Classification(args.classification),
        summary=args.summary,
        idempotency_key=_key(args),
        callback=CallbackRequest(args.domain or "", args.callback_number)
        if wants_callback
        else None,
        call=args.call,
    )
    opened: OpenedIncident = opening.opened
    print(
        f"incident {opened.incident_id} opened on account {opened.account_number}: "
        f"price {opened.price}, {opened.debited} points debited, balance {opened.balance}"
        + (" (replayed: nothing changed)" if opened.replayed else "")
    )
    if opening.callback_id is not None and opening.due_at is not None:
        print(
            f"callback {opening.callback_id} due {_local(opening.due_at, _zone(args))} "
            f"({args.domain})"
        )
    return 0


async def _reclassify(ledger: LedgerService, args: argparse.Namespace) -> int:
    refund: Refund = await ledger.reclassify_non_attributable(
        args.incident, args.reason, _key(args)
    )
    if refund.replayed:
        print(
            f"incident {refund.incident_id} is non-attributable; it was already refunded "
            f"({refund.points} points): nothing changed"
        )
    else:
        print(
            f"incident {refund.incident_id} is non-attributable: {refund.points} points "
            f"refunded to account {refund.account_number}"
        )
    return 0


async def _show(ledger: LedgerService, args: argparse.Namespace) -> int:
    incident = await ledger.incident(args.incident)
    zone = _zone(args)
    print(
        f"incident {incident.id}, account {incident.account_number}, opened "
        f"{_local(incident.opened_at, zone)}: {incident.level} assistance, pass "
        f"{incident.chosen_pass}{', third-party product' if incident.third_party else ''}"
        f"{', emergency' if incident.emergency else ''}; {incident.classification}; "
        f"price {incident.price}, debited {incident.debited}"
    )
    if incident.summary:
        print(f"  {incident.summary}")
    if incident.refunded_at is not None:
        print(f"  refunded {_local(incident.refunded_at, zone)}")
    for event in incident.events:
        call = f" (call {event.call})" if event.call else ""
        print(f"  {_local(event.at, zone)} {event.kind}: {event.detail}{call}")
    return 0
