"""The router's wallet on the real ledger: a night emergency opens its incident keyed by the
call, and a key that served a different request is refused, not replayed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from callrouter.ami.message import Message
from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.errors import CallrouterError
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass
from callrouter.routing.decision import Caller, CallerStatus, QueueLoad, RoutingPolicy, Target
from callrouter.routing.service import IdentifiedCaller, RoutedCall, Router
from callrouter.server.adapters import LedgerWallet

from .conftest import MakeAccount

TUESDAY_22H = datetime(2026, 11, 24, 22, 0, tzinfo=ZoneInfo("Europe/Paris"))
UNIQUEID = "1795433938.1"


class _PBX:
    async def send_actions(
        self,
        actions: Sequence[tuple[str, Sequence[tuple[str, str]]]],
        *,
        timeout: float | None = None,
    ) -> list[Message | CallrouterError]:
        return [Message.response("Success", {"Message": f"{name} done"}) for name, _ in actions]


class _Directory:
    def __init__(self, account: str, balance: int) -> None:
        self._caller = IdentifiedCaller(
            Caller(status=CallerStatus.RECOGNISED, account_number=account), balance
        )

    async def identify(self, caller_id: str, account: str, pin: str) -> IdentifiedCaller:
        return self._caller


async def _route_night_prioritaire_call(ledger: LedgerService, account: str) -> RoutedCall:
    records: list[RoutedCall] = []

    async def record(routed: RoutedCall) -> None:
        records.append(routed)

    async def record_failsafe(uniqueid: str) -> None:
        raise AssertionError(uniqueid)

    router = Router(
        pbx=_PBX(),
        directory=_Directory(account, await ledger.balance(account)),
        wallet=LedgerWallet(ledger),
        calendar=HotlineCalendar.default(),
        policy=RoutingPolicy(),
        clock=FakeClock(TUESDAY_22H),
        queue_loads=lambda: {"oncall": QueueLoad(members=1, available=1, waiting=0)},
        record=record,
        record_failsafe=record_failsafe,
    )
    router.on_event(
        Message.event(
            "UserEvent",
            [
                ("Channel", "Local/0612345678@hotline-00000000;2"),
                ("Uniqueid", UNIQUEID),
                ("Linkedid", UNIQUEID),
                ("UserEvent", "HotlineCall"),
                ("Caller", "0612345678"),
                ("Pass", "3"),
                ("Attempt", "1"),
            ],
        )
    )
    await router.wait_idle()
    [routed] = records
    return routed


async def test_a_night_emergency_is_debited_once_per_call(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    account = await make_account(300)

    first = await _route_night_prioritaire_call(ledger, account)
    again = await _route_night_prioritaire_call(ledger, account)

    assert first.decision.target is Target.ONCALL_QUEUE
    assert (first.error, again.error) == (None, None)
    assert await ledger.balance(account) == 200


async def test_a_call_whose_key_served_a_different_request_still_reaches_on_call(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    account = await make_account(300)
    # An operator typed the call's key by hand for a daytime incident of the account.
    await ledger.open_incident(
        account,
        level=AssistanceLevel.STANDARD,
        pass_=Pass.FOUR_HOURS,
        idempotency_key=f"emergency-call:{UNIQUEID}",
    )

    routed = await _route_night_prioritaire_call(ledger, account)

    # The caller is not left alone: the technician takes the call, the record says why no
    # incident was opened, and the operator's incident is not passed off as the emergency.
    assert routed.decision.target is Target.ONCALL_QUEUE
    assert routed.redirected
    assert routed.error is not None and "different request" in routed.error
    assert await ledger.balance(account) == 300 - 35
