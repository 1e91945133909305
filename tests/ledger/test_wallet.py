"""The router's wallet on the real ledger: a night emergency holds its price once per call,
and a key an operator once typed for the call does not stop its incident from opening."""

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
        wallet=LedgerWallet(ledger, HotlineCalendar.default().on_call),
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


async def test_a_night_emergency_holds_once_per_call(
    ledger: LedgerService, make_account: MakeAccount
) -> None:
    account = await make_account(300)

    first = await _route_night_prioritaire_call(ledger, account)
    again = await _route_night_prioritaire_call(ledger, account)

    assert first.decision.target is Target.ONCALL_QUEUE
    assert (first.error, again.error) == (None, None)
    [pending] = await ledger.holds.pending()
    assert (pending.call, pending.amount) == (UNIQUEID, 100)
    assert await ledger.balance(account) == 300


async def test_a_call_whose_key_served_a_different_request_still_opens_its_emergency(
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
    posted = await ledger.holds.post(UNIQUEID, detail="technician confirmed")

    # The operator's incident is not passed off as the emergency: its own opens, keyed by
    # the hold.
    assert routed.decision.target is Target.ONCALL_QUEUE and routed.error is None
    assert posted.moved and posted.incident_id is not None
    assert (await ledger.incident(posted.incident_id)).emergency
    assert await ledger.balance(account) == 300 - 35 - 100
