"""What the running hotline is made of (filled in as its cleanup contexts start), and
the keys under which the HTTP app holds it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.ami.client import AMIClient
from callrouter.appointments.service import AppointmentService
from callrouter.callbacks.alerts import CallbackAlerts
from callrouter.callbacks.opening import CallbackOpenings
from callrouter.callbacks.placing import CallPlacer, ResultHandler
from callrouter.callbacks.service import CallbackDispatcher
from callrouter.calls.writer import CallRecordWriter
from callrouter.clock import Clock
from callrouter.config import Config
from callrouter.console.context import Console
from callrouter.db.hotpool import HotPool
from callrouter.experts.directory import ExpertDirectory
from callrouter.identity.callerindex import CallerIndex
from callrouter.identity.service import IdentityService
from callrouter.ledger.service import LedgerService
from callrouter.live.state import LiveState
from callrouter.metrics.registry import HotlineMetrics
from callrouter.oncall.escalation_store import EscalationStore
from callrouter.oncall.service import RosterService
from callrouter.oncall.tracking import EscalationTracker
from callrouter.routing.service import RoutedCall, Router


@dataclass(frozen=True)
class PBXLink:
    host: str
    port: int
    username: str
    secret: str


@dataclass
class Hotline:
    """What the running hotline is made of; filled in as the cleanup contexts start."""

    config: Config
    database_url: str
    pbx: PBXLink
    clock: Clock
    api_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    #: Mixed into PIN hashes (identity/pepper.py); None hashes PINs unpeppered (tests).
    pin_pepper: bytes | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None
    identity: IdentityService | None = None
    ledger: LedgerService | None = None
    experts: ExpertDirectory | None = None
    appointments: AppointmentService | None = None
    ami: AMIClient | None = None
    live: LiveState | None = None
    router: Router | None = None
    records: CallRecordWriter | None = None
    #: PostgreSQL: the pool of the statements every call runs, open with the database.
    hot_pool: HotPool | None = None
    #: PostgreSQL: the callers recognised by caller ID, in memory (started with the pool).
    callers: CallerIndex | None = None
    oncall: RosterService | None = None
    escalations: EscalationTracker | None = None
    escalation_store: EscalationStore | None = None
    recent: list[str] = field(default_factory=list)
    #: Pass 4H: what supervisors are told, and the callbacks' dispatcher once started.
    callback_alerts: CallbackAlerts = field(default_factory=CallbackAlerts)
    callback_openings: CallbackOpenings | None = None
    callbacks: CallbackDispatcher | None = None
    #: Builds the PBX side of callbacks (the AMI Originate and its legs); without it the
    #: dispatcher dials nobody but still keeps deadlines, warnings and refunds.
    callback_placer: Callable[[AMIClient, ResultHandler], CallPlacer] | None = None
    console: Console | None = None
    metrics: HotlineMetrics | None = None
    #: Called with every routing decision and every fail-safe (console, metrics).
    on_routed: list[Callable[[RoutedCall], None]] = field(default_factory=list)
    on_failsafe: list[Callable[[str], None]] = field(default_factory=list)

    def require_sessions(self) -> async_sessionmaker[AsyncSession]:
        if self.sessions is None:
            raise RuntimeError("the database context has not started")
        return self.sessions


HOTLINE = web.AppKey("hotline", Hotline)
ENGINE = web.AppKey("engine", AsyncEngine)
