"""The router's view of identity and points, on top of their services."""

from __future__ import annotations

from callrouter.identity.service import IdentityService
from callrouter.ledger.prices import (
    AssistanceLevel,
    Classification,
    EmergencyUnavailable,
    points_due,
)
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass
from callrouter.routing.decision import Caller, CallerStatus


class IdentityDirectory:
    """`CallerDirectory` over the identity service."""

    def __init__(self, identity: IdentityService) -> None:
        self._identity = identity

    async def identify(self, caller_id: str, account: str, pin: str) -> Caller:
        found = await self._identity.identify_caller(caller_id or None, account, pin)
        return Caller(
            status=CallerStatus(found.status.value),
            account_number=found.account_number,
            beneficiary=found.beneficiary_name,
        )


class LedgerWallet:
    """`Wallet` over the ledger: a caller's balance must cover the standard price of the
    pass chosen (or the emergency price at night), and a night emergency opens its
    incident, debited once per call whatever the replays."""

    def __init__(self, ledger: LedgerService) -> None:
        self._ledger = ledger

    def _price(self, chosen_pass: Pass, emergency: bool) -> int:
        return points_due(
            self._ledger.config.prices.price(
                level=AssistanceLevel.STANDARD,
                pass_=chosen_pass,
                third_party=False,
                emergency=emergency,
                classification=Classification.EXPERT,
            )
        )

    async def can_pay(self, account_number: str, chosen_pass: Pass, emergency: bool) -> bool:
        try:
            price = self._price(chosen_pass, emergency)
        except EmergencyUnavailable:
            return False
        return await self._ledger.can_pay(account_number, price)

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
