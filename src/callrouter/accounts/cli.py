"""`callrouter operator ...`: issue and revoke the staff's API keys, each with its role."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from callrouter.accounts.operators import OperatorService
from callrouter.clock import SystemClock
from callrouter.db.cli import service_command
from callrouter.http.access import STAFF_ROLES, Role
from callrouter.textrules import option_text

Action = Callable[[OperatorService, argparse.Namespace], Awaitable[int]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    operator = subparsers.add_parser(
        "operator", help="staff API keys (coordinator, supervisor, admin) for the staff routes"
    )
    actions = operator.add_subparsers(dest="operator_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="issue an API key; prints it, once")
    create.add_argument("--name", required=True, type=option_text, help="the operator's name")
    create.add_argument(
        "--role",
        choices=[role.value for role in STAFF_ROLES],
        default=Role.COORDINATOR.value,
        help="what the key opens (default: coordinator; see the README's account API)",
    )
    create.set_defaults(handler=_handler(_create))

    revoke = actions.add_parser("revoke", help="stop accepting an operator's API key")
    revoke.add_argument("--name", required=True, help="the operator's name")
    revoke.set_defaults(handler=_handler(_revoke))

    listing = actions.add_parser("list", help="every operator, active or revoked")
    listing.set_defaults(handler=_handler(_list))


def _handler(action: Action) -> Callable[[argparse.Namespace], int]:
    return service_command(lambda sessions, _: OperatorService(sessions, SystemClock()), action)


async def _create(service: OperatorService, args: argparse.Namespace) -> int:
    new = await service.create(args.name, Role(args.role))
    print(f"operator {new.name} created with the role {args.role}")
    print(f"  API key: {new.api_key}")
    print("the key is stored hashed and cannot be shown again: hand it over now")
    print("use it as 'Authorization: Bearer <key>' on the staff routes its role opens")
    return 0


async def _revoke(service: OperatorService, args: argparse.Namespace) -> int:
    revoked = await service.revoke(args.name)
    print(f"operator {revoked.name}: API key {revoked.key_id} revoked")
    return 0


async def _list(service: OperatorService, args: argparse.Namespace) -> int:
    operators = await service.list()
    if not operators:
        print("no operators yet")
    for operator in operators:
        state = (
            "active"
            if operator.revoked_at is None
            else f"revoked {operator.revoked_at:%Y-%m-%d %H:%M} UTC"
        )
        print(
            f"{operator.name}  {operator.role}  key {operator.key_id}  "
            f"created {operator.created_at:%Y-%m-%d %H:%M} UTC  {state}"
        )
    return 0
