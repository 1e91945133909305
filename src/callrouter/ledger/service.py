"""The points ledger, one entry point over its use cases.

seeds/000_0e15b6772b2a7f9e.txt: the account "peut être crédité ou débité au fil du temps";
points are debited when an incident opens, once ("plusieurs appels sans cumul de coût"),
and refunded in full when it turns out non-attributable ("Offert").

Each use case has its module, found by name:
- `incidents` opens (and debits) incidents, attaches further calls, shows them; `postgres`
  is the same opening in one statement on PostgreSQL, `opening` what both share;
- `refunds` gives an incident's points back, once (`refund_within` for any new reason);
- `recharge` issues and redeems recharge codes; `credits` credits and adjusts directly;
- `holds` sets an emergency's price aside at routing and posts it (opening the incident)
  when a technician confirms, or voids it; `hold_rules` is its life without I/O;
- `balances` reads balances and statements and checks them against the movements;
- `postings` is the one write path of money (lock, movement, cached balance) they all use,
  `idempotency` how a replayed request finds its first result, `incident_events` the
  incident's history.

LedgerService keeps the callers (the router's wallet, the account API, the CLI) on one
object; each of its methods is one of those use cases.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import Clock
from callrouter.identity.service import IdentityService, NewAccount
from callrouter.ledger.balances import (
    BalanceMismatch,
    Balances,
    MovementView,
    Statement,
)
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.context import LedgerContext
from callrouter.ledger.credits import Credits
from callrouter.ledger.holds import HeldMismatch, Holds
from callrouter.ledger.idempotency import MAX_KEY_LENGTH
from callrouter.ledger.incident_events import IncidentEventKind
from callrouter.ledger.incidents import AttachedCall, IncidentEventView, Incidents, IncidentView
from callrouter.ledger.opening import OpenedIncident
from callrouter.ledger.postings import MovementKind, Posting
from callrouter.ledger.prices import AssistanceLevel, Classification, Points
from callrouter.ledger.recharge import MAX_CODES_PER_BATCH, IssuedCode, Recharges, Redemption
from callrouter.ledger.refunds import Refund, Refunds
from callrouter.passes import Pass

# The results and kinds the callers read, importable from here as before the split.
__all__ = [
    "MAX_CODES_PER_BATCH",
    "MAX_KEY_LENGTH",
    "AttachedCall",
    "BalanceMismatch",
    "HeldMismatch",
    "IncidentEventKind",
    "IncidentEventView",
    "IncidentView",
    "IssuedCode",
    "LedgerService",
    "MovementKind",
    "MovementView",
    "OpenedIncident",
    "Posting",
    "Redemption",
    "Refund",
    "Statement",
]


class LedgerService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, config: LedgerConfig
    ) -> None:
        context = LedgerContext.of(sessions, clock, config)
        self._context = context
        self.balances = Balances(context)
        self.incidents = Incidents(context)
        self.refunds = Refunds(context)
        self.recharges = Recharges(context)
        self.credits = Credits(context)
        self.holds = Holds(context)

    @property
    def config(self) -> LedgerConfig:
        return self._context.config

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self._context.sessions

    # Reads

    async def balance(self, account_number: str) -> Points:
        return await self.balances.balance(account_number)

    async def statement(self, account_number: str) -> Statement:
        return await self.balances.statement(account_number)

    async def check(self) -> list[BalanceMismatch]:
        return await self.balances.check()

    async def check_holds(self) -> list[HeldMismatch]:
        return await self.holds.check()

    async def incident(self, incident_id: int) -> IncidentView:
        return await self.incidents.view(incident_id)

    # Incidents and refunds

    async def open_incident(
        self,
        account_number: str,
        *,
        level: AssistanceLevel,
        pass_: Pass,
        idempotency_key: str,
        third_party: bool = False,
        emergency: bool = False,
        classification: Classification = Classification.EXPERT,
        summary: str = "",
        call: str | None = None,
    ) -> OpenedIncident:
        return await self.incidents.open(
            account_number,
            level=level,
            pass_=pass_,
            idempotency_key=idempotency_key,
            third_party=third_party,
            emergency=emergency,
            classification=classification,
            summary=summary,
            call=call,
        )

    async def attach_call(self, incident_id: int, call: str, idempotency_key: str) -> AttachedCall:
        return await self.incidents.attach_call(incident_id, call, idempotency_key)

    async def refund_incident(self, incident_id: int, reason: str, idempotency_key: str) -> Refund:
        return await self.refunds.refund_incident(incident_id, reason, idempotency_key)

    async def reclassify_non_attributable(
        self, incident_id: int, reason: str, idempotency_key: str
    ) -> Refund:
        return await self.refunds.reclassify_non_attributable(incident_id, reason, idempotency_key)

    # Credits and recharge codes

    async def credit(
        self,
        account_number: str,
        points: Points,
        *,
        reason: str,
        idempotency_key: str,
        reference: str = "",
    ) -> Posting:
        return await self.credits.credit(
            account_number,
            points,
            reason=reason,
            idempotency_key=idempotency_key,
            reference=reference,
        )

    async def adjust(
        self, account_number: str, amount: Points, *, reason: str, idempotency_key: str
    ) -> Posting:
        return await self.credits.adjust(
            account_number, amount, reason=reason, idempotency_key=idempotency_key
        )

    async def issue_codes(
        self, pack_reference: str, count: int, *, validity: timedelta | None = None
    ) -> list[IssuedCode]:
        return await self.recharges.issue_codes(pack_reference, count, validity=validity)

    async def redeem_code(self, account_number: str, code: str) -> Redemption:
        return await self.recharges.redeem_code(account_number, code)

    async def redeem_code_opening_account(
        self, code: str, holder_name: str, identity: IdentityService
    ) -> tuple[NewAccount, Redemption]:
        return await self.recharges.redeem_code_opening_account(code, holder_name, identity)
