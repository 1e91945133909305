"""A dispatcher on a real database (SQLite, then PostgreSQL) with a fake clock, a fake PBX
placer that counts what it was asked to dial, and experts whose presence the test sets."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.calendar import PARIS, HotlineCalendar, default_windows
from callrouter.callbacks.alerts import CallbackAlert, CallbackAlerts
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.engine import CallbackEngine
from callrouter.callbacks.opening import CallbackOpenings, CallbackRequest
from callrouter.callbacks.placing import AttemptRequest, AttemptResult, PlacementFailed
from callrouter.callbacks.rules import Outcome
from callrouter.callbacks.service import CallbackDispatcher
from callrouter.callbacks.store import ATTEMPTS, CALLBACKS
from callrouter.clock import FakeClock
from callrouter.experts.rules import Expert
from callrouter.identity.models import Account
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.models import Movement
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.service import LedgerService
from callrouter.ledger.tables import LedgerRow
from callrouter.passes import Pass

HOURS = HotlineCalendar.default().coordinators
#: A Tuesday, 10:00 in Paris: the coordinators are open.
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)


def expert(name: str, *domains: str) -> Expert:
    return Expert(name, f"Local/{name}@experts", frozenset(domains or ("knx",)), HOURS)


class FakePlacer:
    """Counts the Originates it was asked for; `link_down` refuses them (nothing dialled);
    `up` are the attempts whose call the PBX still shows."""

    def __init__(self) -> None:
        self.placed: list[AttemptRequest] = []
        self.link_down = False
        self.up: set[int] = set()
        self.reconciled: list[list[int]] = []
        self.before_place: list[object] = []

    async def place(self, request: AttemptRequest) -> None:
        if self.link_down:
            raise PlacementFailed("the AMI link is down")
        self.placed.append(request)

    async def reconcile(self, attempt_ids: Sequence[int]) -> dict[int, bool]:
        self.reconciled.append(list(attempt_ids))
        return {attempt_id: attempt_id in self.up for attempt_id in attempt_ids}


@dataclass
class Desk:
    """Everything a test drives: the clock, the openings, the engine and its PBX."""

    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    clock: FakeClock
    ledger: LedgerService
    config: CallbacksConfig
    experts: list[Expert]
    placer: FakePlacer = field(default_factory=FakePlacer)
    alerts: list[CallbackAlert] = field(default_factory=list)
    #: Experts the PBX shows ringing or in a call.
    busy: set[str] = field(default_factory=set)
    openings: CallbackOpenings | None = None

    def __post_init__(self) -> None:
        self.openings = CallbackOpenings(self.ledger, self.config, default_windows())
        self.hub = CallbackAlerts()
        self.hub.subscribe(self.alerts.append)

    def new_dispatcher(self, name: str = "test") -> CallbackDispatcher:
        return CallbackDispatcher(self.engine, self.clock, self.config, self.new_engine(name=name))

    def new_engine(self, placer: FakePlacer | None = None, name: str = "test") -> CallbackEngine:
        return CallbackEngine(
            self.engine,
            self.clock,
            self.config,
            placer or self.placer,
            experts=self._all_experts,
            free_experts=self._free,
            alerts=self.hub,
            name=name,
        )

    async def _all_experts(self) -> Sequence[Expert]:
        return list(self.experts)

    def _free(self, experts: Sequence[Expert], now: datetime) -> Sequence[Expert]:
        return [expert for expert in experts if expert.name not in self.busy]

    async def account(self, balance: int = 1000) -> str:
        number = str(secrets.randbelow(90_000_000) + 10_000_000)
        async with self.sessions.begin() as session:
            await session.execute(
                insert(Account).values(
                    number=number,
                    holder_name=f"Holder {number}",
                    pin_hash="-",
                    web_code_hash="-",
                    created_at=self.clock.now(),
                )
            )
        await self.ledger.credit(number, balance, reason="opening", idempotency_key=number)
        return number

    async def open(
        self, account: str | None = None, domain: str = "knx", number: str = "06 12 34 56 78"
    ) -> tuple[int, int]:
        """A Pass 4H incident opened now; (incident id, callback id)."""
        assert self.openings is not None
        opened = await self.openings.open_incident(
            account or await self.account(),
            level=AssistanceLevel.STANDARD,
            pass_=Pass.FOUR_HOURS,
            idempotency_key=secrets.token_hex(8),
            callback=CallbackRequest(domain, number),
        )
        assert opened.callback_id is not None
        return opened.opened.incident_id, opened.callback_id

    async def callback(self, callback_id: int) -> LedgerRow:
        async with self.engine.connect() as connection:
            return (
                await connection.execute(select(CALLBACKS).where(CALLBACKS.c.id == callback_id))
            ).one()

    async def attempts(self, callback_id: int) -> list[LedgerRow]:
        async with self.engine.connect() as connection:
            return list(
                (
                    await connection.execute(
                        select(ATTEMPTS)
                        .where(ATTEMPTS.c.callback_id == callback_id)
                        .order_by(ATTEMPTS.c.id)
                    )
                ).all()
            )

    async def refunds(self, incident_id: int) -> int:
        async with self.engine.connect() as connection:
            count = (
                await connection.execute(
                    select(func.count())
                    .select_from(Movement)
                    .where(Movement.incident_id == incident_id, Movement.kind == "refund")
                )
            ).scalar_one()
        return int(count)

    def result(
        self, request: AttemptRequest, outcome: Outcome, at: datetime | None = None
    ) -> AttemptResult:
        at = at or self.clock.now()
        expert_answered = outcome not in (
            Outcome.EXPERT_NO_ANSWER,
            Outcome.EXPERT_BUSY,
            Outcome.FAILED,
        )
        connected = outcome is Outcome.CONNECTED
        return AttemptResult(
            attempt_id=request.attempt_id,
            outcome=outcome,
            expert_answered_at=at if expert_answered else None,
            customer_answered_at=at if connected else None,
            connected_at=at if connected else None,
            ended_at=None if connected else at,
        )

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)


@pytest.fixture
def desk(database_sessions: async_sessionmaker[AsyncSession]) -> Desk:
    engine = database_sessions.kw["bind"]
    clock = FakeClock(TUESDAY_10)
    return Desk(
        sessions=database_sessions,
        engine=engine,
        clock=clock,
        ledger=LedgerService(database_sessions, clock, LedgerConfig()),
        config=CallbacksConfig(),
        experts=[expert("chloe"), expert("david")],
    )


@dataclass(frozen=True)
class DayOfCallbacks:
    """One callback of each standing, at 14:10 on the desk's Tuesday."""

    engine: CallbackEngine
    late: int  # 10:00, due 14:00: past its deadline, not yet breached by a cycle
    at_risk: int  # 10:30, due 14:30, nobody dialling
    met: int
    dialling: int
    cancelled: int  # its incident (id) reclassified non-attributable
    pending: int  # 11:00, due 15:00, to 0698765432


async def a_day_of_callbacks(desk: Desk) -> DayOfCallbacks:
    engine = desk.new_engine()
    desk.experts = []
    _, late = await desk.open()
    desk.advance(timedelta(minutes=30))
    _, at_risk = await desk.open()
    desk.advance(timedelta(minutes=15))
    _, met = await desk.open(domain="hvac")
    desk.experts = [expert("emma", "hvac")]
    await engine.run_once()
    await engine.on_result(desk.result(desk.placer.placed[-1], Outcome.CONNECTED))
    desk.advance(timedelta(minutes=5))
    _, dialling = await desk.open(domain="lighting")
    desk.experts = [expert("lea", "lighting")]
    await engine.run_once()
    desk.experts = []
    desk.advance(timedelta(minutes=5))
    cancelled, _ = await desk.open()
    await desk.ledger.reclassify_non_attributable(cancelled, "not ours", "r1")
    desk.advance(timedelta(minutes=5))
    _, pending = await desk.open(number="0698765432")
    desk.advance(timedelta(hours=3, minutes=10))
    return DayOfCallbacks(engine, late, at_risk, met, dialling, cancelled, pending)
