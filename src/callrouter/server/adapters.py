"""The router's view of identity and points, on top of their services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from callrouter.calendar import Window
from callrouter.identity.service import IdentificationStatus, IdentityService
from callrouter.ledger.errors import InsufficientBalance
from callrouter.ledger.hold_rules import AttachRule
from callrouter.ledger.holds import JoinedIncident, UnknownHold
from callrouter.ledger.prices import (
    AssistanceLevel,
    Classification,
    EmergencyUnavailable,
    points_due,
)
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass
from callrouter.routing.billing import ChargeKind, EmergencyCharge, PendingCallHold
from callrouter.routing.decision import Caller, CallerStatus
from callrouter.routing.service import IdentifiedCaller

#: Spelled out rather than converted by value: renaming either enum's values must not
#: silently break live routing (tests/identity/test_directory.py covers every member).
CALLER_STATUSES: dict[IdentificationStatus, CallerStatus] = {
    IdentificationStatus.CALLER_ID: CallerStatus.RECOGNISED,
    IdentificationStatus.PIN: CallerStatus.PIN_ACCEPTED,
    IdentificationStatus.UNKNOWN: CallerStatus.UNKNOWN,
    IdentificationStatus.WRONG_PIN: CallerStatus.WRONG_PIN,
}


class IdentityDirectory:
    """`CallerDirectory` over the identity service."""

    def __init__(self, identity: IdentityService) -> None:
        self._identity = identity

    async def identify(self, caller_id: str, account: str, pin: str) -> IdentifiedCaller:
        found = await self._identity.identify_caller(caller_id or None, account, pin)
        caller = Caller(
            status=CALLER_STATUSES[found.status],
            account_number=found.account_number,
            beneficiary=found.beneficiary_name,
        )
        return IdentifiedCaller(caller, found.balance)


class LedgerWallet:
    """`Wallet` over the ledger: the standard price of the pass chosen must be covered; a
    night emergency holds its price until a technician confirms (callrouter.ledger.holds),
    or joins the account's emergency incident of the night at no cost."""

    def __init__(
        self, ledger: LedgerService, on_call: Window, attach_window: timedelta | None = None
    ) -> None:
        self._ledger = ledger
        self._attach = AttachRule(on_call, attach_window)

    def price(self, chosen_pass: Pass, emergency: bool) -> int | None:
        try:
            price = self._ledger.config.prices.price(
                level=AssistanceLevel.STANDARD,
                pass_=chosen_pass,
                third_party=False,
                emergency=emergency,
                classification=Classification.EXPERT,
            )
        except EmergencyUnavailable:
            return None
        return points_due(price)

    async def hold_emergency(self, account_number: str, call: str) -> EmergencyCharge:
        amount = self.price(Pass.PRIORITY, emergency=True)
        if amount is None:
            return EmergencyCharge(ChargeKind.INSUFFICIENT)
        try:
            placed = await self._ledger.holds.place(
                account_number, call, amount=amount, attach=self._attach
            )
        except InsufficientBalance:
            return EmergencyCharge(ChargeKind.INSUFFICIENT)
        if isinstance(placed, JoinedIncident):
            return EmergencyCharge(ChargeKind.JOINED, incident_id=placed.incident_id)
        return EmergencyCharge(ChargeKind.HELD, hold_id=placed.hold_id)

    async def post_hold(self, call: str, detail: str) -> bool:
        try:
            return (await self._ledger.holds.post(call, detail=detail)).moved
        except UnknownHold:
            return False

    async def void_hold(self, call: str, reason: str) -> bool:
        try:
            return (await self._ledger.holds.void(call, reason=reason)).moved
        except UnknownHold:
            return False

    async def pending_holds(self) -> Sequence[PendingCallHold]:
        return [
            PendingCallHold(pending.call, pending.placed_at)
            for pending in await self._ledger.holds.pending()
        ]
