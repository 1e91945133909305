"""The router's view of identity and points, on top of their services."""

from __future__ import annotations

from callrouter.identity.service import IdentificationStatus, IdentityService
from callrouter.ledger.prices import (
    AssistanceLevel,
    Classification,
    EmergencyUnavailable,
    points_due,
)
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass
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
    """`Wallet` over the ledger: the standard price of the pass chosen (or the emergency
    price at night) must be covered, and a night emergency opens its incident, debited
    once per call whatever the replays."""

    def __init__(self, ledger: LedgerService) -> None:
        self._ledger = ledger

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

    async def open_emergency_incident(self, account_number: str, call_uniqueid: str) -> None:
        await self._ledger.open_incident(
            account_number,
            level=AssistanceLevel.STANDARD,
            pass_=Pass.PRIORITY,
            emergency=True,
            idempotency_key=f"emergency-call:{call_uniqueid}",
            summary="Assistance d'urgence (appel de nuit, week-end ou jour férié)",
            call=call_uniqueid,
        )
