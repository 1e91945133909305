"""`callrouter account ...`: open accounts and manage their beneficiaries from the shell."""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import SystemClock
from callrouter.db.cli import service_command
from callrouter.identity.beneficiaries import BeneficiaryView
from callrouter.identity.codes import CodeHasher
from callrouter.identity.pepper import pin_pepper
from callrouter.identity.service import AccountSummary, IdentityService
from callrouter.textrules import option_text

Action = Callable[[IdentityService, argparse.Namespace], Awaitable[int]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    account = subparsers.add_parser("account", help="points accounts and their beneficiaries")
    actions = account.add_subparsers(dest="account_command", metavar="ACTION", required=True)

    create = actions.add_parser(
        "create", help="open an account; prints its number and access codes, once"
    )
    create.add_argument(
        "--holder", required=True, type=option_text, help="name of the account holder"
    )
    create.add_argument("--pin", help="phone access code, 4 to 12 digits (default: drawn)")
    create.add_argument("--web-code", help="web access code, 10+ characters (default: drawn)")
    create.set_defaults(handler=_handler(_create, hashes_pins=True))

    add = actions.add_parser(
        "add-beneficiary",
        help="let a caller id use the account (confirmed at once: you vouch for the number)",
    )
    add.add_argument("number", help="account number")
    add.add_argument("--name", required=True, type=option_text, help="beneficiary's name")
    add.add_argument("--caller-id", required=True, help="phone number, e.g. +33 6 12 34 56 78")
    add.set_defaults(handler=_handler(_add_beneficiary))

    remove = actions.add_parser("remove-beneficiary", help="stop recognising a caller id")
    remove.add_argument("number", help="account number")
    remove.add_argument("--caller-id", required=True, help="the beneficiary's phone number")
    remove.set_defaults(handler=_handler(_remove_beneficiary))

    show = actions.add_parser("show", help="an account, its balance and its beneficiaries")
    show.add_argument("number", help="account number")
    show.set_defaults(handler=_handler(_show))

    listing = actions.add_parser("list", help="every account")
    listing.set_defaults(handler=_handler(_list))


def _handler(action: Action, *, hashes_pins: bool = False) -> Callable[[argparse.Namespace], int]:
    """`hashes_pins`: the command writes PIN hashes, so it needs $CALLROUTER_PIN_PEPPER."""

    def build(sessions: async_sessionmaker[AsyncSession], _: argparse.Namespace) -> IdentityService:
        hasher = CodeHasher(pin_pepper=pin_pepper(os.environ)) if hashes_pins else None
        return IdentityService(sessions, SystemClock(), hasher=hasher)

    return service_command(build, action)


async def _create(service: IdentityService, args: argparse.Namespace) -> int:
    new = await service.create_account(args.holder, pin=args.pin, web_code=args.web_code)
    print(f"account {new.number} opened for {new.holder_name}")
    print(f"  phone access code (PIN): {new.pin}")
    print(f"  web access code:         {new.web_code}")
    print("these codes are stored hashed and cannot be shown again: hand them over now")
    return 0


async def _add_beneficiary(service: IdentityService, args: argparse.Namespace) -> int:
    added = await service.add_beneficiary(args.number, args.name, args.caller_id)
    print(
        f"{added.name} ({added.caller_id}) is now a beneficiary of account {added.account_number}"
    )
    return 0


async def _remove_beneficiary(service: IdentityService, args: argparse.Namespace) -> int:
    removed = await service.remove_beneficiary(args.number, args.caller_id)
    print(
        f"{removed.name} ({removed.caller_id}) is no longer a beneficiary of account "
        f"{removed.account_number}"
    )
    return 0


async def _show(service: IdentityService, args: argparse.Namespace) -> int:
    account = await service.get_account(args.number)
    beneficiaries = await service.list_beneficiaries(account.number, include_removed=True)
    print(_account_line(account))
    print(f"  opened {_when(account.created_at)}")
    if not beneficiaries:
        print("  no beneficiaries")
    for beneficiary in beneficiaries:
        print(f"  {_beneficiary_line(beneficiary)}")
    return 0


async def _list(service: IdentityService, args: argparse.Namespace) -> int:
    accounts = await service.list_accounts()
    if not accounts:
        print("no accounts yet")
    for account in accounts:
        print(_account_line(account))
    return 0


def _account_line(account: AccountSummary) -> str:
    return f"{account.number}  {account.holder_name}  balance {account.balance} points"


def _beneficiary_line(beneficiary: BeneficiaryView) -> str:
    line = f"beneficiary {beneficiary.name} ({beneficiary.caller_id}) since "
    line += _when(beneficiary.created_at)
    if beneficiary.confirmed_at is None:
        line += ", pending until a call from the number with the account's PIN"
    if beneficiary.removed_at is not None:
        line += f", removed {_when(beneficiary.removed_at)}"
    return line


def _when(instant: datetime) -> str:
    return f"{instant:%Y-%m-%d %H:%M} UTC"
